"""The reports as Excel workbooks (openpyxl), because clerks work in Excel: one row per indicator, a filter on
every column and a frozen header, so "show me what is missing" is one click.
"""
from __future__ import annotations

import io
import re
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports.completeness import EvidenceState
from reports.evidence_age import EvidenceAge
from reports.summary import RANKING_HEADER, CitySummary, ranking_table
from reports.views import IndicatorRow, SkpdReport

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
STATE_FILLS = {
    EvidenceState.MISSING: PatternFill("solid", fgColor="F8D7DA"),
    EvidenceState.REVIEW: PatternFill("solid", fgColor="FFF3CD"),
    EvidenceState.PRESENT: PatternFill("solid", fgColor="D4EDDA"),
}
WRAP = Alignment(wrap_text=True, vertical="top")
NARROW, MEDIUM, WIDE, VERY_WIDE = 8, 18, 40, 80  # column widths, in characters
AGE_LABELS = {
    EvidenceAge.CURRENT: "terkini",
    EvidenceAge.OUTDATED: "terlalu lama",
    EvidenceAge.UNKNOWN: "tanggal tidak diketahui",
}
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

SKPD_INDICATOR_COLUMNS = (
    ("No.", NARROW), ("Kode", MEDIUM), ("Indikator", WIDE), ("Domain", MEDIUM), ("Aspek", MEDIUM),
    ("Status", MEDIUM), ("Bukti dari SKPD lain", MEDIUM), ("Dokumen bukti", WIDE), ("Halaman", NARROW),
    ("Kutipan", VERY_WIDE), ("Tahun dokumen", MEDIUM), ("Usia bukti", MEDIUM), ("Bukti yang dapat diterima", VERY_WIDE),
    ("Kriteria dan bukti per tingkat", VERY_WIDE),
)
UPLOAD_COLUMNS = (("Berkas", WIDE), ("Status", MEDIUM), ("Keterangan", VERY_WIDE))
CITY_INDICATOR_COLUMNS = (
    ("No.", NARROW), ("Kode", MEDIUM), ("Indikator", WIDE), ("Domain", MEDIUM), ("Aspek", MEDIUM),
    ("Status", MEDIUM), ("Penanggung jawab", WIDE), ("Dokumen bukti", VERY_WIDE), ("Tahun bukti terbaru", MEDIUM),
    ("Usia bukti", MEDIUM),
)
UNREADABLE_COLUMNS = (("SKPD", WIDE), ("Berkas", WIDE), ("Status", MEDIUM), ("Keterangan", VERY_WIDE))
UNREGISTERED_COLUMNS = (("Folder", MEDIUM), ("Berkas", WIDE), ("Status", MEDIUM))
FORMULA, TEXT = "f", "s"  # openpyxl's cell data types
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # outside XML 1.0's characters
STATUS_COLUMN = 6  # 1-based column of "Status" in both indicator sheets


def render_skpd_xlsx(report: SkpdReport) -> bytes:
    workbook = Workbook()
    rows = [_skpd_row(row) for row in report.indicators]
    indicators = _sheet(workbook.active, "Indikator", SKPD_INDICATOR_COLUMNS, rows)
    _colour_states(indicators, [row.state for row in report.indicators])
    uploads = [(u.filename, u.status_label, u.message) for u in (*report.unreadable, *report.unmatched)]
    _sheet(workbook.create_sheet(), "Berkas bermasalah", UPLOAD_COLUMNS, uploads)
    return _bytes(workbook)


def render_city_xlsx(summary: CitySummary) -> bytes:
    workbook = Workbook()
    rows = [
        (i.number, i.code, i.name, i.domain, i.aspect, str(i.state), "\n".join(i.responsible), "\n".join(i.documents),
         i.newest_year, AGE_LABELS.get(i.age, ""))
        for i in summary.indicators
    ]
    indicators = _sheet(workbook.active, "Indikator", CITY_INDICATOR_COLUMNS, rows)
    _colour_states(indicators, [item.state for item in summary.indicators])
    header = tuple((name, MEDIUM) for name in RANKING_HEADER)
    _sheet(workbook.create_sheet(), "Peringkat SKPD", header, [tuple(row.values()) for row in ranking_table(summary)])
    unreadable = [(u.skpd, u.filename, u.status_label, u.message) for u in summary.unreadable]
    _sheet(workbook.create_sheet(), "Berkas tidak terbaca", UNREADABLE_COLUMNS, unreadable)
    if summary.unregistered:
        unregistered = [(u.folder, u.filename, u.status_label) for u in summary.unregistered]
        _sheet(workbook.create_sheet(), "Folder tidak terdaftar", UNREGISTERED_COLUMNS, unregistered)
    return _bytes(workbook)


def _skpd_row(row: IndicatorRow) -> tuple:
    def lines(values: Sequence[object]) -> str:
        return "\n".join(str(value) for value in values)

    levels = [f"Tingkat {lv.level} ({lv.name}): {lv.criteria} Bukti: {lv.evidence}" for lv in row.levels]
    documents = [f"{ev.document_label} - {ev.verdict}" for ev in row.evidence] + list(row.rejected)
    return (
        row.number, row.code, row.name, row.domain, row.aspect, str(row.state),
        "ya" if row.covered_by_others else "tidak",
        lines(documents), lines(ev.page or "" for ev in row.evidence), lines(ev.passage for ev in row.evidence),
        lines(ev.date_label for ev in row.evidence), AGE_LABELS.get(row.age, ""), row.accepted_evidence,
        "\n\n".join(levels),
    )  # fmt: skip


def _sheet(sheet: Worksheet, title: str, columns: Sequence[tuple[str, int]], rows: Sequence[Sequence]) -> Worksheet:
    """A table with a bold frozen header and a filter over every column."""
    sheet.title = title
    sheet.append([name for name, _ in columns])
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for row in rows:
        sheet.append([_text(value) for value in row])
    for number, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = WRAP
            if cell.data_type == FORMULA:  # an uploader's "=…" file name is shown, never run in the clerk's Excel
                cell.data_type = TEXT
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    return sheet


def _text(value: object) -> object:
    """A cell's value without the characters an XLSX (XML) cannot hold: control characters (an S3 key may carry
    them), noncharacters (pdfium's "\ufffe"), lone surrogates. One of them must not cost every SKPD its report."""
    return NOT_XML.sub("", value) if isinstance(value, str) else value


def _colour_states(sheet: Worksheet, states: Sequence[EvidenceState]) -> None:
    for offset, state in enumerate(states):
        sheet.cell(row=offset + 2, column=STATUS_COLUMN).fill = STATE_FILLS[state]


def _bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
