"""Publish a run's reports: every format into the bucket, versioned per run and the newest at a stable address,
a local copy for the operator, and a manifest that delivery reads.

    reports/{year}/{run_id}/{skpd}.html|pdf|xlsx            an SKPD's report (HTML is the e-mail body)
    reports/{year}/{run_id}/ringkasan-kota.html|png|xlsx    the city summary: dashboard, heatmap, workbook
    reports/{year}/{run_id}/manifest.json                   what the run published, with content hashes
    reports/{year}/latest/...                               copies of the newest complete run

The manifest is written last, so a run that fails half-way leaves `latest/manifest.json` pointing at the
previous run's complete set. A run over some indicators only publishes its versioned copies: the latest
stays a complete report, which is what delivery sends.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from catalog import Framework, SkpdRegistry
from reports.completeness import CityCompleteness
from reports.errors import ReportsError
from reports.evidence_age import read_document_dates
from reports.heatmap import render_heatmap
from reports.html import local_timestamp, render_city_html, render_skpd_html
from reports.pdf import render_skpd_pdf
from reports.summary import CitySummary, city_summary
from reports.views import SkpdReport, skpd_report
from reports.xlsx import XLSX_CONTENT_TYPE, render_city_xlsx, render_skpd_xlsx
from storage import layout
from storage.objects import ObjectNotFound, ObjectStore
from storage.state import StateStore

logger = logging.getLogger(__name__)

CITY_SUMMARY = "ringkasan-kota"
MANIFEST = "manifest"
RESERVED_NAMES = frozenset({CITY_SUMMARY, MANIFEST})
BODY_FORMAT = "html"
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": XLSX_CONTENT_TYPE,
    "png": "image/png",
    "json": "application/json",
}


class NoReports(ReportsError):
    """Nothing has been published for the year yet."""


class Audience(StrEnum):
    """Who a report is for: one SKPD (its registry addresses) or the coordinator (Diskominfotik)."""

    SKPD = "skpd"
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class ManifestEntry:
    """One published report as delivery needs it: for whom, what changed, and where its files are."""

    name: str  # the SKPD code, or CITY_SUMMARY
    audience: Audience
    title: str
    content_hash: str
    subject: str
    text: str  # the plain-text part of the e-mail
    files: dict[str, str]  # format -> key; the HTML is the body, the rest are attachments

    @property
    def body_key(self) -> str:
        return self.files[BODY_FORMAT]

    @property
    def attachment_keys(self) -> list[str]:
        return [key for fmt, key in self.files.items() if fmt != BODY_FORMAT]


@dataclass(frozen=True)
class Manifest:
    year: int
    run_id: str
    generated_at: str
    entries: tuple[ManifestEntry, ...]

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        raw = json.loads(data)
        entries = tuple(ManifestEntry(**{**entry, "audience": Audience(entry["audience"])}) for entry in raw["entries"])
        return cls(year=raw["year"], run_id=raw["run_id"], generated_at=raw["generated_at"], entries=entries)


@dataclass(frozen=True)
class PublishedFile:
    key: str
    local_path: Path


@dataclass(frozen=True)
class PublishedReport:
    name: str
    files: dict[str, PublishedFile]  # format -> where it is


@dataclass(frozen=True)
class Publication:
    """What one run published: each SKPD's report, the city summary (its HTML is the dashboard), the manifest."""

    manifest_key: str
    skpd: tuple[PublishedReport, ...]
    city: PublishedReport
    summary: CitySummary


class _Publisher:
    """Writes one run's files: versioned key, the latest copy (complete runs only), and a local copy."""

    def __init__(self, store: ObjectStore, year: int, run_id: str, local_dir: Path, update_latest: bool) -> None:
        self.store, self.year, self.run_id = store, year, run_id
        self.local_dir, self.update_latest = local_dir, update_latest
        local_dir.mkdir(parents=True, exist_ok=True)

    def put(self, name: str, fmt: str, data: bytes) -> PublishedFile:
        key = layout.report_key(self.year, self.run_id, name, fmt)
        self.store.put_bytes(key, data, CONTENT_TYPES[fmt])
        if self.update_latest:
            self.store.put_bytes(layout.latest_report_key(self.year, name, fmt), data, CONTENT_TYPES[fmt])
        local_path = self.local_dir / f"{name}.{fmt}"
        local_path.write_bytes(data)
        return PublishedFile(key, local_path)


def publish(
    store: ObjectStore,
    state: StateStore,
    city: CityCompleteness,
    framework: Framework,
    registry: SkpdRegistry,
    run_id: str,
    local_dir: Path,
    timezone: str,
) -> Publication:
    """Render every SKPD's report (HTML, PDF, XLSX) and the city summary (dashboard, heatmap, XLSX), and store them."""
    clashing = sorted(RESERVED_NAMES & {unit.code for unit in registry.skpd})
    if clashing:
        raise ReportsError(f"SKPD codes {clashing} are reserved for report files; rename them in the registry")
    sha256s = [evidence.sha256 for item in city.coverage for evidence in item.evidence if evidence.sha256]
    dates = read_document_dates(store, state, sha256s, not_after=city.year)
    generated_at = local_timestamp(timezone)
    if city.partial:  # the local copies beside the latest stay those of the last complete run, as the latest do
        local_dir = local_dir / run_id
        logger.info("run %s assessed some indicators only: the latest reports stay as they were; its own are in %s",
                    run_id, local_dir)
    publisher = _Publisher(store, city.year, run_id, local_dir, update_latest=not city.partial)

    entries, published = [], []
    for completeness in city.skpd:
        report = skpd_report(completeness, city.year, framework, registry, dates)
        files = {
            "html": publisher.put(report.code, "html", render_skpd_html(report, generated_at).encode()),
            "pdf": publisher.put(report.code, "pdf", render_skpd_pdf(report, generated_at)),
            "xlsx": publisher.put(report.code, "xlsx", render_skpd_xlsx(report)),
        }
        published.append(PublishedReport(report.code, files))
        entries.append(_entry(report.code, Audience.SKPD, report.name, report, files))

    summary = city_summary(city, framework, registry, dates)
    heatmap = render_heatmap(summary.grid)
    city_files = {
        "html": publisher.put(CITY_SUMMARY, "html", render_city_html(summary, heatmap, generated_at).encode()),
        "png": publisher.put(CITY_SUMMARY, "png", heatmap),
        "xlsx": publisher.put(CITY_SUMMARY, "xlsx", render_city_xlsx(summary)),
    }
    entries.append(_entry(CITY_SUMMARY, Audience.COORDINATOR, f"Ringkasan {summary.city}", summary, city_files))

    manifest = Manifest(city.year, run_id, generated_at, tuple(entries))
    manifest_file = publisher.put(MANIFEST, "json", manifest.to_json())
    return Publication(
        manifest_key=manifest_file.key,
        skpd=tuple(published),
        city=PublishedReport(CITY_SUMMARY, city_files),
        summary=summary,
    )


def load_manifest(store: ObjectStore, year: int) -> Manifest:
    """The manifest of the newest complete run of the year."""
    try:
        return Manifest.from_json(store.get_bytes(layout.latest_report_key(year, MANIFEST, "json")))
    except ObjectNotFound as error:
        message = f"no reports published for {year} yet: run the nightly flow first (`spbe-evidence run`)"
        raise NoReports(message) from error


def _entry(
    name: str, audience: Audience, title: str, view: SkpdReport | CitySummary, files: dict[str, PublishedFile]
) -> ManifestEntry:
    """The manifest line of a report view: its content hash, subject and plain text, and its files' keys."""
    return ManifestEntry(
        name=name,
        audience=audience,
        title=title,
        content_hash=view.content_hash,
        subject=view.subject,
        text=view.summary_text,
        files={fmt: file.key for fmt, file in files.items()},
    )
