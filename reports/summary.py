"""The city picture for Diskominfotik: coverage per domain and aspect, gaps, SKPD ranking, unreadable uploads.

Plain data like the SKPD view (reports/views.py), so the dashboard, the e-mail, the XLSX and the Prefect
artifacts all say the same thing, and its content hash changes only when the picture does.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import groupby

from catalog import Framework, SkpdRegistry
from reports.completeness import CityCompleteness, EvidenceState
from reports.evidence_age import DocumentDate, EvidenceAge
from reports.review import WORK_LIST_ARTIFACT_KEY
from reports.views import ADDED_LATER, content_hash, indicator_row, status_label

PERCENT = 100
RANKING_HEADER = (
    "peringkat", "kode", "SKPD", "indikator", "ada bukti", "perlu ditinjau", "belum ada bukti", "persen ada bukti",
    "berkas", "tidak terbaca",
)


def percent(part: int, whole: int) -> int:
    """Whole percent, 0 for an empty whole: what a summary table shows."""
    return round(PERCENT * part / whole) if whole else 0


@dataclass(frozen=True)
class CityIndicator:
    number: int
    code: str
    name: str
    domain: str
    aspect: str
    state: EvidenceState
    responsible: tuple[str, ...]  # SKPD names
    documents: tuple[str, ...]  # "file (SKPD)" of each evidence document
    newest_year: int | None  # the newest stated year among its evidence documents
    age: EvidenceAge | None


@dataclass(frozen=True)
class AspectCoverage:
    domain: str
    aspect: str
    indicators: int
    present: int
    review: int
    missing: int

    @property
    def percent(self) -> int:
        return percent(self.present, self.indicators)


@dataclass(frozen=True)
class SkpdRank:
    code: str
    name: str
    responsible: int
    present: int
    review: int
    missing: int
    uploads: int
    unreadable: int

    @property
    def percent(self) -> int:
        return percent(self.present, self.responsible)


@dataclass(frozen=True)
class UnreadableUpload:
    skpd: str
    filename: str
    status_label: str
    message: str


@dataclass(frozen=True)
class UnregisteredUpload:
    """An upload in a folder of no SKPD in the registry: the folder to fix, the file, what became of it."""

    folder: str
    filename: str
    status_label: str


@dataclass(frozen=True)
class HeatmapGrid:
    """SKPD (rows, ranking order) × indicators (columns): the state where the SKPD is responsible, else None."""

    rows: tuple[str, ...]
    columns: tuple[int, ...]
    cells: tuple[tuple[EvidenceState | None, ...], ...]


@dataclass(frozen=True)
class CitySummary:
    year: int
    city: str
    max_age_years: int
    indicators: tuple[CityIndicator, ...]
    ranking: tuple[SkpdRank, ...]  # most complete first
    unreadable: tuple[UnreadableUpload, ...]
    grid: HeatmapGrid
    awaiting_review: int = field(default=0, metadata={ADDED_LATER: True})  # matches no reviewer has decided yet
    unregistered: tuple[UnregisteredUpload, ...] = field(default=(), metadata={ADDED_LATER: True})
    loose: tuple[str, ...] = field(default=(), metadata={ADDED_LATER: True})  # uploads in no SKPD's folder

    @property
    def awaiting_review_line(self) -> str:
        """Where the reviewer's work is, for Kominfotik: how many matches wait, and where they are listed."""
        return (f"Kecocokan yang menunggu peninjau: {self.awaiting_review} (daftarnya: spbe-evidence review list, atau "
                f"artefak Prefect {WORK_LIST_ARTIFACT_KEY.format(year=self.year)})")

    @property
    def unregistered_line(self) -> str:
        """Uploads no SKPD's report shows, for Kominfotik to move or to add their SKPD to the registry."""
        folders = ", ".join(sorted({upload.folder for upload in self.unregistered}))
        return (f"Berkas di folder SKPD yang tidak ada di daftar SKPD: {len(self.unregistered)} (folder {folders}); "
                "berkas ini dihitung sebagai bukti kota, tetapi tidak masuk laporan SKPD mana pun: pindahkan ke "
                "folder SKPD yang benar, atau tambahkan SKPD-nya ke daftar SKPD")

    @property
    def loose_line(self) -> str:
        """Uploads no run reads, for Kominfotik to move into the folder of the SKPD that sent them."""
        return (f"Berkas di luar folder SKPD: {len(self.loose)} ({', '.join(self.loose)}); berkas ini tidak dibaca "
                f"dan tidak dihitung sebagai bukti: pindahkan ke folder SKPD pengirimnya (submissions/{self.year}/"
                "<kode SKPD>/)")

    def count(self, state: EvidenceState) -> int:
        return sum(1 for item in self.indicators if item.state is state)

    @property
    def percent(self) -> int:
        return percent(self.count(EvidenceState.PRESENT), len(self.indicators))

    @property
    def without_evidence(self) -> tuple[CityIndicator, ...]:
        return tuple(item for item in self.indicators if item.state is EvidenceState.MISSING)

    @property
    def outdated(self) -> tuple[CityIndicator, ...]:
        return tuple(item for item in self.indicators if item.age is EvidenceAge.OUTDATED)

    @property
    def unknown_age(self) -> tuple[CityIndicator, ...]:
        return tuple(item for item in self.indicators if item.age is EvidenceAge.UNKNOWN)

    def coverage(self) -> list[tuple[str, list[AspectCoverage]]]:
        """Per domain, its aspects' indicator counts by state, in framework order."""
        return [
            (domain, [_aspect(domain, aspect, list(rows)) for aspect, rows in groupby(items, lambda i: i.aspect)])
            for domain, items in groupby(self.indicators, lambda item: item.domain)
        ]

    @property
    def content_hash(self) -> str:
        return content_hash(self)

    @property
    def subject(self) -> str:
        return (
            f"[SPBE {self.year}] Ringkasan kelengkapan data dukung {self.city}: "
            f"{self.percent}% indikator ada bukti, {len(self.without_evidence)} belum ada bukti"
        )

    @property
    def summary_text(self) -> str:
        """The plain-text part of the e-mail to Diskominfotik."""
        lines = [
            f"Ringkasan Kelengkapan Data Dukung Evaluasi SPBE {self.year} — {self.city}",
            "",
            f"Indikator ada bukti: {self.count(EvidenceState.PRESENT)} dari {len(self.indicators)} ({self.percent}%)",
            f"Perlu ditinjau: {self.count(EvidenceState.REVIEW)}; belum ada bukti: {self.count(EvidenceState.MISSING)}",
            f"Bukti lebih tua dari {self.max_age_years} tahun: {len(self.outdated)} indikator;"
            f" tanggal bukti tidak diketahui: {len(self.unknown_age)} indikator",
            f"Berkas tidak dapat dibaca: {len(self.unreadable)}",
            self.awaiting_review_line,
            *([self.unregistered_line] if self.unregistered else []),
            *([self.loose_line] if self.loose else []),
            "",
            "Peringkat SKPD (persen indikator ada bukti):",
            *(f"{place}. {rank.name}: {rank.percent}%" for place, rank in enumerate(self.ranking, start=1)),
            "",
            "Dasbor lengkap dan peta panas terlampir.",
        ]
        return "\n".join(lines)


def city_summary(
    city: CityCompleteness,
    framework: Framework,
    registry: SkpdRegistry,
    dates: Mapping[str, DocumentDate | None],
) -> CitySummary:
    """The city picture from the same completeness the SKPD reports come from."""
    names = {unit.code: unit.name for unit in registry.skpd}
    indicators = []
    for coverage in city.coverage:
        row = indicator_row(coverage, None, city.year, framework, names, dates)
        years = [item.document_year for item in row.evidence if item.document_year]
        indicators.append(
            CityIndicator(
                number=row.number,
                code=row.code,
                name=row.name,
                domain=row.domain,
                aspect=row.aspect,
                state=row.state,
                responsible=tuple(unit.name for unit in registry.responsible_for(row.number)),
                documents=tuple(item.document_label for item in row.evidence),
                newest_year=max(years, default=None),
                age=row.age,
            )
        )
    ranking = sorted(
        (
            SkpdRank(
                code=view.skpd.code,
                name=view.skpd.name,
                responsible=len(view.indicators),
                present=view.count(EvidenceState.PRESENT),
                review=view.count(EvidenceState.REVIEW),
                missing=view.count(EvidenceState.MISSING),
                uploads=view.uploads,
                unreadable=len(view.unreadable),
            )
            for view in city.skpd
        ),
        key=lambda rank: (-rank.percent, -rank.review, rank.code),
    )
    states = {coverage.indicator.number: coverage.state for coverage in city.coverage}
    columns = tuple(states)
    responsible = {view.skpd.code: {item.indicator.number for item in view.indicators} for view in city.skpd}
    grid = HeatmapGrid(
        rows=tuple(rank.code for rank in ranking),
        columns=columns,
        cells=tuple(
            tuple(states[number] if number in responsible[rank.code] else None for number in columns)
            for rank in ranking
        ),
    )
    unreadable = tuple(
        UnreadableUpload(view.skpd.name, upload.filename, status_label(upload.status), upload.message)
        for view in city.skpd
        for upload in view.unreadable
    )
    return CitySummary(
        year=city.year,
        city=registry.city,
        max_age_years=framework.evidence_max_age_years,
        indicators=tuple(indicators),
        ranking=tuple(ranking),
        unreadable=unreadable,
        grid=grid,
        awaiting_review=city.awaiting_review,
        unregistered=tuple(
            UnregisteredUpload(folder, upload.filename, status_label(upload.status))
            for folder, upload in city.unregistered
        ),
        loose=tuple(city.loose),
    )


def ranking_table(summary: CitySummary) -> list[dict]:
    """The SKPD ranking as table rows (the Prefect table artifact, the XLSX sheet)."""
    return [
        dict(zip(RANKING_HEADER, (place, rank.code, rank.name, rank.responsible, rank.present, rank.review,
                                  rank.missing, rank.percent, rank.uploads, rank.unreadable)))
        for place, rank in enumerate(summary.ranking, start=1)
    ]


def summary_markdown(summary: CitySummary) -> str:
    """The city summary as Markdown, for the Prefect UI (the operator's view of each run)."""
    lines = [
        f"# Ringkasan kelengkapan data dukung SPBE {summary.year} — {summary.city}",
        "",
        f"**{summary.count(EvidenceState.PRESENT)} dari {len(summary.indicators)} indikator ada bukti "
        f"({summary.percent}%)**, {summary.count(EvidenceState.REVIEW)} perlu ditinjau, "
        f"{summary.count(EvidenceState.MISSING)} belum ada bukti.",
        f"Bukti lebih tua dari {summary.max_age_years} tahun: {len(summary.outdated)} indikator; "
        f"tanggal bukti tidak diketahui: {len(summary.unknown_age)} indikator.",
        f"{summary.awaiting_review_line}.",
        *([f"{summary.unregistered_line}."] if summary.unregistered else []),
        *([f"{summary.loose_line}."] if summary.loose else []),
        "",
        "## Cakupan per domain dan aspek",
        "",
        *_markdown_table(
            ("Domain", "Aspek", "Indikator", "Ada bukti", "Perlu ditinjau", "Belum ada bukti", "% ada bukti"),
            [
                (a.domain, a.aspect, a.indicators, a.present, a.review, a.missing, f"{a.percent}%")
                for _, aspects in summary.coverage()
                for a in aspects
            ],
        ),
        "",
        "## Indikator tanpa bukti di seluruh kota",
        "",
        *_markdown_table(
            ("No.", "Indikator", "Penanggung jawab"),
            [(i.number, i.name, ", ".join(i.responsible)) for i in summary.without_evidence],
        ),
        "",
        "## Peringkat SKPD",
        "",
        *_markdown_table(
            ("#", "SKPD", "Ada bukti", "Perlu ditinjau", "Belum ada bukti", "%"),
            [(place, r.name, r.present, r.review, r.missing, f"{r.percent}%")
             for place, r in enumerate(summary.ranking, start=1)],
        ),
        "",
        "## Berkas yang tidak dapat dibaca",
        "",
        *_markdown_table(
            ("SKPD", "Berkas", "Status", "Keterangan"),
            [(u.skpd, u.filename, u.status_label, u.message) for u in summary.unreadable],
        ),
    ]
    return "\n".join(lines)


def _aspect(domain: str, aspect: str, rows: list[CityIndicator]) -> AspectCoverage:
    def count(state: EvidenceState) -> int:
        return sum(1 for row in rows if row.state is state)

    return AspectCoverage(
        domain, aspect, len(rows), count(EvidenceState.PRESENT), count(EvidenceState.REVIEW), count(EvidenceState.MISSING)
    )


def _markdown_table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    if not rows:
        return ["_(tidak ada)_"]
    cells = [[str(cell).replace("|", "\\|").replace("\n", " ") for cell in row] for row in rows]
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in cells),
    ]
