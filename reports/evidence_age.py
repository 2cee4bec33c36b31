"""How old is the evidence: the year a document states about itself, read from its extracted text.

PermenPANRB evaluations accept evidence of the last two years (`evidence_max_age_years` in the framework).
A document states its year where a reader would look: the enactment clause of a regulation ("Ditetapkan di
Banjarmasin pada tanggal 12 Maret 2021"), or its heading ("NOMOR 21 TAHUN 2025", "NOMOR 188.45/112/2026",
"TAHUN 2025-2029", "tanggal 3 Januari 2026"). Only the start of the first page counts as the heading, because
further down a regulation cites older ones ("Peraturan Presiden Nomor 95 Tahun 2018"). Where none of this is
found the date is unknown, and the reports say so rather than guess.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from extractors.document import Document
from storage import layout
from storage.objects import ObjectStore, StorageError
from storage.state import StateStore

logger = logging.getLogger(__name__)

HEADING_CHARS = 300
"""How much of the first page is the document's heading (title, number, year)."""

_MONTHS = (
    "januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|desember"
    "|jan|feb|mar|apr|jun|jul|agu|agt|sep|okt|nov|des"
)
_YEAR = r"((?:19|20)\d{2})\b"
_DATE = rf"\d{{1,2}}\s+(?:{_MONTHS})\.?\s+{_YEAR}"
_ENACTED = re.compile(
    rf"(?:ditetapkan|disahkan)\s+di\s+[^\n]{{1,80}}?\s+pada\s+tanggal\s+{_DATE}", re.IGNORECASE
)
_HEADING_PATTERNS = (
    re.compile(rf"\bnomor\s+\S+\s+tahun\s+{_YEAR}", re.IGNORECASE),  # NOMOR 21 TAHUN 2025
    re.compile(rf"\bnomor\s+[\w.-]+(?:/[\w.-]+)*/{_YEAR}", re.IGNORECASE),  # NOMOR 188.45/112/2026
    re.compile(rf"\b{_DATE}", re.IGNORECASE),  # 3 Januari 2026
    re.compile(rf"\btahun\s+(?:anggaran\s+)?{_YEAR}", re.IGNORECASE),  # TAHUN 2026, TAHUN 2025-2029
)


@dataclass(frozen=True)
class DocumentDate:
    """The year a document states about itself, and the words it was read from."""

    year: int
    phrase: str


class EvidenceAge(StrEnum):
    """How an indicator's evidence stands against the age rule."""

    CURRENT = "current"  # at least one document within the rule
    OUTDATED = "outdated"  # every document has a known year, and all are too old
    UNKNOWN = "unknown"  # nothing within the rule, and some document has no known year


def document_date(document: Document, not_after: int) -> DocumentDate | None:
    """The enactment date of a regulation, else the first year in the heading; None if neither is stated.

    Years after `not_after` (the evaluation year) are the end of a period or a plan, not the document's date.
    """
    for match in _ENACTED.finditer(document.text):
        if int(match.group(1)) <= not_after:
            return DocumentDate(int(match.group(1)), _phrase(match))
    heading = document.pages[0].text[:HEADING_CHARS] if document.pages else ""
    found = [
        match
        for pattern in _HEADING_PATTERNS
        for match in pattern.finditer(heading)
        if int(match.group(1)) <= not_after
    ]
    if not found:
        return None
    first = min(found, key=lambda match: match.start())
    return DocumentDate(int(first.group(1)), _phrase(first))


# The version of the dating rules below: a change to them that can read another year must change it, so that the
# years the state store keeps from the old rules are read again.
DATING_RULES = "1"


def read_document_dates(
    store: ObjectStore, state: StateStore, sha256s: Iterable[str], not_after: int
) -> dict[str, DocumentDate | None]:
    """The date of each content: as read before (the state store keeps it), else from its extracted text in the
    bucket. Unreadable text counts as unknown, and is tried again next time."""
    wanted = set(sha256s)
    dates = {
        sha256: DocumentDate(year, phrase) if year is not None else None
        for sha256, (year, phrase) in state.document_dates(wanted, not_after, DATING_RULES).items()
    }
    read: dict[str, DocumentDate | None] = {}
    for sha256 in wanted - dates.keys():
        try:
            document = Document.from_dict(json.loads(store.get_bytes(layout.extraction_key(sha256))))
        except StorageError as error:
            logger.warning("no extracted text for %s, its date is unknown: %s", sha256, error)
            dates[sha256] = None
            continue
        read[sha256] = document_date(document, not_after)
    state.record_document_dates(
        {sha256: (date.year, date.phrase) if date else (None, "") for sha256, date in read.items()}, not_after,
        DATING_RULES,
    )
    return dates | read


def evidence_age(years: Iterable[int | None], year: int, max_age_years: int) -> EvidenceAge | None:
    """The verdict for one indicator from the years of its evidence documents; None without evidence."""
    years = list(years)
    if not years:
        return None
    if any(known is not None and is_current(known, year, max_age_years) for known in years):
        return EvidenceAge.CURRENT
    if all(known is not None for known in years):
        return EvidenceAge.OUTDATED
    return EvidenceAge.UNKNOWN


def is_current(document_year: int, year: int, max_age_years: int) -> bool:
    """Counted in whole years: for the 2026 evaluation and a 2-year rule, documents of 2024 on are current."""
    return document_year >= year - max_age_years


def _phrase(match: re.Match) -> str:
    return " ".join(match.group(0).split())
