"""The SKPD report as a PDF (fpdf2), the attachment a clerk prints or forwards: the same content as the HTML.

Each maturity level's criteria and evidence (about 3,000 characters per indicator) are left to the XLSX: in the
PDF they would make the report dozens of pages long, and fpdf2 lays out text at roughly 30 µs a character.

The core PDF fonts cover Latin-1 only, which is enough for Bahasa Indonesia; typographic quotes and dashes
are mapped to their plain forms and anything else outside Latin-1 becomes '?', so no text can break a render.
"""
from __future__ import annotations

import unicodedata

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from reports.completeness import EvidenceState
from reports.evidence_age import EvidenceAge
from reports.views import FOR_OTHERS_NOTE, IndicatorRow, SkpdReport

FONT = "Helvetica"
TITLE_SIZE = 14
HEADING_SIZE = 12
BODY_SIZE = 10
SMALL_SIZE = 8.5
LINE = 5  # mm per line of body text
SMALL_LINE = 4
INDENT = 5  # mm, for evidence under its indicator
MARGIN = 15  # mm
BLACK = (34, 34, 34)
GREY = (102, 102, 102)
STATE_RGB = {
    EvidenceState.MISSING: (176, 0, 32),
    EvidenceState.REVIEW: (161, 92, 0),
    EvidenceState.PRESENT: (27, 110, 32),
}
LEVELS_IN_XLSX = "Kriteria dan bukti per tingkat kematangan: lihat lampiran XLSX (kolom terakhir)."
LATIN1_REPLACEMENTS = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...",
     "\u2022": "-", "\u00a0": " ", "\u2010": "-", "\u2011": "-"}
)


def latin1(text: str) -> str:
    """Text the core fonts can show: plain quotes and dashes, accents kept, anything else '?'."""
    text = unicodedata.normalize("NFC", text.translate(LATIN1_REPLACEMENTS))
    return text.encode("latin-1", errors="replace").decode("latin-1")


class _ReportPdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.set_margins(MARGIN, MARGIN)
        self.set_auto_page_break(True, MARGIN)

    def footer(self) -> None:
        self.set_y(-MARGIN + LINE / 2)
        self.set_font(FONT, size=SMALL_SIZE)
        self.set_text_color(*GREY)
        self.cell(0, SMALL_LINE, latin1(f"{self.footer_text} - halaman {self.page_no()}/{{nb}}"), align="C")

    def line_of(self, text: str, size: float = BODY_SIZE, style: str = "", colour: tuple[int, int, int] = BLACK,
                indent: float = 0, height: float = LINE) -> None:
        """One wrapped paragraph at the left margin plus `indent`."""
        self.set_font(FONT, style=style, size=size)
        self.set_text_color(*colour)
        self.set_x(self.l_margin + indent)
        self.multi_cell(0, height, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        self.ln(LINE / 2)
        self.line_of(text, size=HEADING_SIZE, style="B")
        self.ln(1)


def render_skpd_pdf(report: SkpdReport, generated_at: str) -> bytes:
    pdf = _ReportPdf(f"spbe-evidence - {report.city} - {report.name}")
    pdf.set_title(latin1(f"Kelengkapan Data Dukung SPBE {report.year} - {report.name}"))
    pdf.set_author("spbe-evidence")
    pdf.add_page()
    pdf.line_of(f"Kelengkapan Data Dukung Evaluasi SPBE {report.year}", size=TITLE_SIZE, style="B")
    pdf.line_of(f"{report.name} - {report.city}", style="B")
    pdf.line_of(f"Diperbarui {generated_at} - {report.uploads} berkas diunggah", size=SMALL_SIZE, colour=GREY)
    pdf.ln(LINE / 2)
    for state in EvidenceState:
        pdf.line_of(f"{state.capitalize()}: {report.count(state)} indikator", style="B", colour=STATE_RGB[state])

    pdf.heading("Yang perlu dilengkapi")
    if not report.indicators:
        pdf.line_of(f"Laporan ini tidak memuat indikator yang menjadi tanggung jawab {report.name}.")
    elif not report.to_do:
        pdf.line_of(f"Semua indikator yang menjadi tanggung jawab {report.name} sudah ada bukti.")
    for row in report.to_do:
        pdf.line_of(f"{row.number}. {row.name} ({row.state})", colour=STATE_RGB[row.state])

    pdf.heading("Rincian per indikator")
    for row in report.indicators:
        _indicator(pdf, row, report.max_age_years)

    if report.unreadable:
        pdf.heading("Berkas yang tidak dapat dibaca")
        for upload in report.unreadable:
            pdf.line_of(f"{upload.filename} ({upload.status_label})", style="B")
            pdf.line_of(upload.message, indent=INDENT)
    if report.unmatched:
        pdf.heading("Berkas yang tidak cocok dengan indikator mana pun")
        pdf.line_of("Periksa apakah berkas ini memang data dukung SPBE, atau unggah dokumen yang lebih tepat.",
                    size=SMALL_SIZE, colour=GREY)
        for upload in report.unmatched:
            pdf.line_of(f"- {upload.filename}" + (f": {upload.message}" if upload.message else ""))
    if report.for_others:
        pdf.heading("Berkas Anda yang menjadi bukti indikator SKPD lain")
        pdf.line_of(FOR_OTHERS_NOTE, size=SMALL_SIZE, colour=GREY)
        for upload in report.for_others:
            pdf.line_of(f"- {upload.filename}: {upload.message}")
    return bytes(pdf.output())


def _indicator(pdf: _ReportPdf, row: IndicatorRow, max_age_years: int) -> None:
    pdf.ln(LINE / 2)
    pdf.line_of(f"{row.number}. {row.name}", style="B")
    pdf.line_of(f"{row.state}" + (" - bukti dari SKPD lain" if row.covered_by_others else ""),
                style="B", colour=STATE_RGB[row.state])
    pdf.line_of(f"{row.code} - {row.domain} - {row.aspect}", size=SMALL_SIZE, colour=GREY, height=SMALL_LINE)
    for evidence in row.evidence:
        where = f", halaman {evidence.page}" if evidence.page else ""
        via = f", dicocokkan dengan indikator {evidence.via_indicator} (satu kelompok)" if evidence.via_indicator else ""
        pdf.line_of(f"- {evidence.document_label} - {evidence.verdict}{where}{via}; "
                    f"tahun dokumen: {evidence.date_label}", indent=INDENT)
        pdf.line_of(evidence.passage, size=SMALL_SIZE, style="I", colour=GREY, indent=2 * INDENT, height=SMALL_LINE)
    for rejected in row.rejected:
        pdf.line_of(f"- {rejected}", indent=INDENT, colour=STATE_RGB[EvidenceState.REVIEW])
    if row.age is EvidenceAge.OUTDATED:
        pdf.line_of(f"Semua bukti berumur lebih dari {max_age_years} tahun: unggah dokumen yang lebih baru.",
                    indent=INDENT, colour=STATE_RGB[EvidenceState.REVIEW])
    if not row.needs_action:
        return
    pdf.line_of(f"Bukti yang dapat diterima: {row.accepted_evidence}", indent=INDENT)
    pdf.line_of(LEVELS_IN_XLSX, size=SMALL_SIZE, colour=GREY, indent=INDENT, height=SMALL_LINE)
