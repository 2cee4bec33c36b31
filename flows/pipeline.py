"""The nightly work as plain functions: find submissions, read and match what changed, assess, publish reports.

Prefect tasks in flows/nightly.py call these; tests and the command line can call them without Prefect.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from catalog import Framework, SkpdRegistry, load_framework, load_skpd_registry
from extractors import extract
from extractors.document import Document, Status
from matching.chunking import Chunk
from matching.engine import Matcher
from matching.matcher import Match
from reports.completeness import CityCompleteness, assess
from reports.html import render_skpd_html
from settings import Settings
from storage import layout
from storage.objects import ObjectStore, StoredObject
from storage.state import Extraction, StateStore

logger = logging.getLogger(__name__)

TOO_LARGE_MESSAGE = (
    "Berkas terlalu besar ({size_mb:.0f} MB; batas {limit_mb:.0f} MB). "
    "Perkecil berkas (misalnya pindai ulang dengan resolusi lebih rendah) atau pecah menjadi beberapa berkas."
)
BYTES_PER_MB = 1024 * 1024


class Outcome(StrEnum):
    """What a run did with one submission, for the run totals an operator reads."""

    NEW = "new"
    CHANGED = "changed"
    REMATCHED = "rematched"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Processed:
    key: str
    outcome: Outcome
    status: str
    extracted: bool = False
    embedded_chunks: int = 0


@dataclass
class RunTotals:
    outcomes: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failed: int = 0
    extracted: int = 0
    embedded_documents: int = 0
    embedded_chunks: int = 0
    removed: int = 0

    def add(self, processed: Processed) -> None:
        self.outcomes[processed.outcome] += 1
        self.statuses[str(processed.status)] += 1
        self.extracted += processed.extracted
        self.embedded_documents += processed.embedded_chunks > 0
        self.embedded_chunks += processed.embedded_chunks

    def as_dict(self) -> dict:
        return {
            **{outcome.value: self.outcomes[outcome] for outcome in Outcome},
            "failed": self.failed,
            "removed": self.removed,
            "extracted": self.extracted,
            "embedded_documents": self.embedded_documents,
            "embedded_chunks": self.embedded_chunks,
            "statuses": dict(self.statuses),
        }


@dataclass(frozen=True)
class PublishedReport:
    skpd: str
    key: str
    local_path: Path


class Pipeline:
    """Everything a run needs, built once per process from settings; the model loads only when needed."""

    def __init__(self, settings: Settings, store: ObjectStore | None = None, state: StateStore | None = None) -> None:
        self.settings = settings
        self.store = store or ObjectStore.from_settings(settings)
        self.state = state or StateStore(settings.state_url())
        self.framework: Framework = load_framework(settings.framework_file)
        self.registry: SkpdRegistry = load_skpd_registry(settings.skpd_file, self.framework)
        self.matcher = Matcher(settings, self.framework)

    # Discover
    def discover(self, year: int, skpd: set[str] | None = None) -> list[StoredObject]:
        """Objects in the submissions layout of the year (optionally some SKPD); others are logged and left alone."""
        found = []
        for obj in self.store.list_objects(layout.submission_prefix(year)):
            parsed = layout.parse_submission_key(obj.key)
            if parsed is None:
                logger.warning("ignoring %s: not submissions/{year}/{skpd}/{file}", obj.key)
                continue
            if skpd and parsed.skpd not in skpd:
                continue
            if self.registry.find(parsed.skpd) is None:
                logger.warning("%s: SKPD %r is not in the registry %s", obj.key, parsed.skpd, self.settings.skpd_file)
            found.append(obj)
        return found

    def mark_removed(self, year: int, present: list[StoredObject], skpd: set[str] | None) -> list[str]:
        return self.state.mark_removed(year, {obj.key for obj in present}, skpd)

    # Process one submission
    def process(self, obj: StoredObject, run_id: str, force: bool = False) -> Processed:
        """Bring one submission's state up to date, doing only the work its change requires."""
        parsed = layout.parse_submission_key(obj.key)
        previous = self.state.submission(obj.key)
        same_object = previous is not None and (previous.etag, previous.size) == (obj.etag, obj.size)
        if same_object and not previous.removed and previous.match_fingerprint == self.matcher.fingerprint and not force:
            return Processed(obj.key, Outcome.UNCHANGED, previous.status)
        if previous is None:
            outcome = Outcome.NEW
        else:
            outcome = Outcome.REMATCHED if same_object else Outcome.CHANGED

        record = dict(
            key=obj.key, year=parsed.year, skpd=parsed.skpd, filename=parsed.filename,
            etag=obj.etag, size=obj.size, fingerprint=self.matcher.fingerprint, run_id=run_id,
        )  # fmt: skip
        if obj.size > self.settings.max_upload_bytes:
            message = TOO_LARGE_MESSAGE.format(
                size_mb=obj.size / BYTES_PER_MB, limit_mb=self.settings.max_upload_bytes / BYTES_PER_MB
            )
            self.state.record_submission(
                **record, sha256=None, status=Status.TOO_LARGE, message=message,
                detail=f"{obj.size} bytes > SPBE_MAX_UPLOAD_BYTES={self.settings.max_upload_bytes}", matches=[],
            )  # fmt: skip
            return Processed(obj.key, outcome, Status.TOO_LARGE)

        data = self.store.get_bytes(obj.key)
        sha256 = hashlib.sha256(data).hexdigest()
        extraction, extracted = self._extraction(sha256, data, parsed.filename, force)
        matches: list[Match] = []
        embedded = 0
        if extraction.status == Status.OK:
            chunks, vectors, embedded = self._embedding(sha256, extraction, force)
            matches = self.matcher.match(chunks, vectors, parsed.filename)
        self.state.record_submission(
            **record, sha256=sha256, status=extraction.status, message=extraction.message,
            detail=extraction.detail, matches=[match.to_dict() for match in matches],
        )  # fmt: skip
        logger.info(
            "%s: %s, %s%s", obj.key, outcome, extraction.status,
            "" if not matches else f", best indicator {matches[0].indicator} ({matches[0].score:.2f} {matches[0].decision})",
        )  # fmt: skip
        return Processed(obj.key, outcome, extraction.status, extracted, embedded)

    def _extraction(self, sha256: str, data: bytes, filename: str, force: bool) -> tuple[Extraction, bool]:
        """The stored extraction of this content, or a new one (text kept in the bucket, outcome in the state)."""
        known = None if force else self.state.extraction(sha256)
        if known is not None:
            return known, False
        document = extract(
            data, filename, max_bytes=self.settings.max_upload_bytes, max_pages=self.settings.max_pages
        )
        text_key = None
        if document.ok:
            text_key = layout.extraction_key(sha256)
            self.store.put_bytes(
                text_key, json.dumps(document.to_dict(), ensure_ascii=False).encode(), "application/json"
            )
        extraction = Extraction(
            sha256=sha256, status=document.status, message=document.message, detail=document.detail,
            kind=document.kind, pages=len(document.pages), text_key=text_key,
        )  # fmt: skip
        self.state.record_extraction(extraction)
        return extraction, True

    def _embedding(self, sha256: str, extraction: Extraction, force: bool) -> tuple[list[Chunk], np.ndarray, int]:
        """Chunk vectors of this content under the current model: from the cache, or embedded now."""
        model, chunking = self.matcher.model_name, self.matcher.chunking.key
        cached = None if force else self.state.embedding(sha256, model, chunking)
        if cached is not None:
            pairs, vectors = cached
            return [Chunk(page, text) for page, text in pairs], vectors, 0
        document = Document.from_dict(json.loads(self.store.get_bytes(extraction.text_key)))
        chunks, vectors = self.matcher.embed(document)
        self.state.record_embedding(sha256, model, chunking, [(c.page, c.text) for c in chunks], vectors)
        return chunks, vectors, len(chunks)

    # Assess and publish
    def assess(self, year: int, indicators: set[int] | None = None) -> CityCompleteness:
        return assess(self.framework, self.registry, self.state.submissions(year), year, indicators)

    def publish_reports(self, city: CityCompleteness, run_id: str) -> list[PublishedReport]:
        """One HTML report per SKPD: versioned under the run, a 'latest' copy, and a local copy for the operator."""
        names = {skpd.code: skpd.name for skpd in self.registry.skpd}
        local_dir = self.settings.data_dir / "reports" / str(city.year)
        local_dir.mkdir(parents=True, exist_ok=True)
        published = []
        for report in city.skpd:
            html = render_skpd_html(report, city, self.registry.city, names, self.settings.timezone).encode()
            key = layout.report_key(city.year, run_id, report.skpd.code, "html")
            self.store.put_bytes(key, html, "text/html; charset=utf-8")
            self.store.put_bytes(layout.latest_report_key(city.year, report.skpd.code, "html"), html, "text/html; charset=utf-8")
            local_path = local_dir / f"{report.skpd.code}.html"
            local_path.write_bytes(html)
            published.append(PublishedReport(report.skpd.code, key, local_path))
        return published
