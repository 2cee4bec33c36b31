"""What extract() reads from Office files: DOCX beyond plain paragraphs, XLSX, PPTX, and what only LibreOffice reads."""
from __future__ import annotations

import io
import socket
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
import pptx
import pytest
from docx.document import Document as WordDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import parse_xml
from openpyxl.workbook import Workbook
from pptx.presentation import Presentation
from pptx.util import Inches
from test_extractors import IN_PROCESS, LIMITS, make_docx, make_pdf, ole_file, texts

from extractors import Block, BlockKind, Status, TextSource, extract
from extractors.sniff import LEGACY_OFFICE, PPTX, XLSX

# The relationship Word follows to load a document's template: a classic way to make a reader fetch a URL.
ATTACHED_TEMPLATE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
TEXT_BOX_NAMESPACES = (
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)


def add_body_xml(document: WordDocument, xml: str) -> None:
    """Append raw WordprocessingML (what Word writes but python-docx cannot) before the final section properties."""
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(xml))


def make_xlsx(build: Callable[[Workbook], None]) -> bytes:
    workbook = openpyxl.Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_pptx(build: Callable[[Presentation], None]) -> bytes:
    presentation = pptx.Presentation()
    build(presentation)
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def blank_slide(presentation: Presentation):
    return presentation.slides.add_slide(presentation.slide_layouts[6])


def add_text_box(shapes, text: str, top: float = 1) -> None:
    shapes.add_textbox(Inches(1), Inches(top), Inches(6), Inches(1)).text_frame.text = text


# --- DOCX ------------------------------------------------------------------------------------


def test_docx_headers_and_footers_frame_each_section_in_order():
    def build(document: WordDocument) -> None:
        first = document.sections[0]
        first.header.paragraphs[0].text = "Pemerintah Kota Banjarmasin"
        first.footer.paragraphs[0].text = "Halaman pengesahan"
        document.add_paragraph("Isi keputusan")
        second = document.add_section()
        second.header.is_linked_to_previous = False
        second.header.paragraphs[0].text = "Lampiran"
        second.footer.is_linked_to_previous = False
        second.footer.paragraphs[0].text = "Akhir lampiran"
        document.add_paragraph("Daftar anggota tim")

    assert texts(extract(make_docx(build), **LIMITS).pages[0]) == [
        "Pemerintah Kota Banjarmasin",
        "Isi keputusan",
        "Halaman pengesahan",
        "Lampiran",
        "Daftar anggota tim",
        "Akhir lampiran",
    ]


def test_docx_header_inherited_by_a_later_section_is_read_once():
    def build(document: WordDocument) -> None:
        document.sections[0].header.paragraphs[0].text = "Kop surat"
        document.add_paragraph("Bagian satu")
        document.add_section()
        document.add_paragraph("Bagian dua")

    assert extract(make_docx(build), **LIMITS).text.count("Kop surat") == 1


def test_docx_content_controls_are_read_where_they_stand():
    def build(document: WordDocument) -> None:
        document.add_paragraph("Formulir")
        add_body_xml(
            document,
            f'<w:sdt {W}><w:sdtPr><w:alias w:val="Unit"/></w:sdtPr><w:sdtContent>'
            "<w:p><w:r><w:t>Dinas Komunikasi dan Informatika</w:t></w:r></w:p></w:sdtContent></w:sdt>",
        )
        add_body_xml(
            document,
            f'<w:p {W}><w:r><w:t xml:space="preserve">Nomor: </w:t></w:r>'
            "<w:sdt><w:sdtContent><w:r><w:t>188.45/412/2024</w:t></w:r></w:sdtContent></w:sdt></w:p>",
        )

    assert texts(extract(make_docx(build), **LIMITS).pages[0]) == [
        "Formulir",
        "Dinas Komunikasi dan Informatika",
        "Nomor: 188.45/412/2024",
    ]


def test_docx_tracked_insertion_is_read_and_tracked_deletion_is_not():
    def build(document: WordDocument) -> None:
        add_body_xml(
            document,
            f'<w:p {W}><w:r><w:t xml:space="preserve">Tim </w:t></w:r>'
            '<w:ins w:id="1" w:author="Sekretariat"><w:r><w:t xml:space="preserve">Koordinasi </w:t></w:r></w:ins>'
            '<w:del w:id="2" w:author="Sekretariat">'
            '<w:r><w:delText xml:space="preserve">Lama </w:delText></w:r></w:del>'
            "<w:r><w:t>SPBE</w:t></w:r></w:p>",
        )

    assert extract(make_docx(build), **LIMITS).text == "Tim Koordinasi SPBE"


def test_docx_field_shows_its_result_not_its_code():
    def build(document: WordDocument) -> None:
        add_body_xml(
            document,
            f'<w:p {W}><w:r><w:t xml:space="preserve">Halaman </w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>3</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
        )

    assert extract(make_docx(build), **LIMITS).text == "Halaman 3"


def test_docx_text_box_is_read_once_not_again_from_its_fallback():
    box = "<w:txbxContent><w:p><w:r><w:t>Kotak catatan</w:t></w:r></w:p></w:txbxContent>"

    def build(document: WordDocument) -> None:
        add_body_xml(
            document,
            f'<w:p {W} {TEXT_BOX_NAMESPACES}><w:r><w:t>Lihat</w:t></w:r><w:r><mc:AlternateContent>'
            f'<mc:Choice Requires="wps"><wps:txbx>{box}</wps:txbx></mc:Choice>'
            f"<mc:Fallback><v:textbox>{box}</v:textbox></mc:Fallback></mc:AlternateContent></w:r></w:p>",
        )

    assert extract(make_docx(build), **LIMITS).text == "Lihat\nKotak catatan"


def test_docx_content_control_in_a_table_cell_is_read():
    def build(document: WordDocument) -> None:
        add_body_xml(
            document,
            f"<w:tbl {W}><w:tr><w:tc><w:p><w:r><w:t>Nama aplikasi</w:t></w:r></w:p></w:tc>"
            "<w:sdt><w:sdtContent><w:tc><w:p><w:r><w:t>SIMPEG</w:t></w:r></w:p></w:tc></w:sdtContent></w:sdt>"
            "</w:tr></w:tbl>",
        )

    [table] = extract(make_docx(build), **LIMITS).pages[0].blocks
    assert table == Block(BlockKind.TABLE, "Nama aplikasi | SIMPEG")


def test_docx_external_relationships_are_never_fetched():
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        address = "http://127.0.0.1:{}/".format(server.getsockname()[1])

        def build(document: WordDocument) -> None:
            document.add_paragraph("Dokumen dengan tautan luar")
            document.part._settings_part.relate_to(address + "template.dotm", ATTACHED_TEMPLATE, True)
            document.part.relate_to(address + "logo.png", RELATIONSHIP_TYPE.IMAGE, True)
            document.part.relate_to(address + "halaman", RELATIONSHIP_TYPE.HYPERLINK, True)

        document = extract(make_docx(build), **LIMITS)
        assert document.status is Status.OK
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody knocked


# --- XLSX ------------------------------------------------------------------------------------


def test_xlsx_each_sheet_is_a_page_with_its_name_and_rows():
    def build(workbook: Workbook) -> None:
        applications = workbook.active
        applications.title = "Aplikasi"
        applications.append(["Nama", "Pengelola"])
        applications.append(["SIMPEG", "BKPSDM"])
        budget = workbook.create_sheet("Anggaran")
        budget.append(["Kegiatan", "Pagu"])
        budget.append(["Pusat data", 1_500_000_000])

    document = extract(make_xlsx(build), **LIMITS)
    assert (document.status, document.kind) == (Status.OK, XLSX)
    assert [(page.number, page.source, texts(page)) for page in document.pages] == [
        (1, TextSource.DOCUMENT, ["Aplikasi", "Nama | Pengelola\nSIMPEG | BKPSDM"]),
        (2, TextSource.DOCUMENT, ["Anggaran", "Kegiatan | Pagu\nPusat data | 1500000000"]),
    ]


def test_xlsx_values_read_as_the_sheet_shows_them():
    def build(workbook: Workbook) -> None:
        workbook.active.append([12.0, 2.5, date(2024, 1, 31), None, "  Dinas   Kominfo "])

    [_, table] = extract(make_xlsx(build), **LIMITS).pages[0].blocks
    assert table.text == "12 | 2.5 | 2024-01-31 |  | Dinas Kominfo"


def test_xlsx_merged_cell_is_written_once():
    def build(workbook: Workbook) -> None:
        sheet = workbook.active
        sheet.append(["Rekapitulasi layanan", None, None])
        sheet.append(["Layanan", "Unit", "Status"])
        sheet.merge_cells("A1:C1")

    [_, table] = extract(make_xlsx(build), **LIMITS).pages[0].blocks
    assert table.text == "Rekapitulasi layanan\nLayanan | Unit | Status"


def test_xlsx_without_values_is_empty():
    assert extract(make_xlsx(lambda workbook: None), **LIMITS).status is Status.EMPTY


# --- PPTX ------------------------------------------------------------------------------------


def test_pptx_slides_are_pages_of_text_boxes_tables_groups_and_notes():
    def build(presentation: Presentation) -> None:
        first = blank_slide(presentation)
        add_text_box(first.shapes, "Paparan Evaluasi SPBE")
        group = first.shapes.add_group_shape()
        add_text_box(group.shapes, "Tim Koordinasi", top=2)
        first.notes_slide.notes_text_frame.text = "Sampaikan hasil indeks tahun lalu"
        second = blank_slide(presentation)
        table = second.shapes.add_table(2, 2, Inches(1), Inches(1), Inches(6), Inches(2)).table
        for (row, column), value in {(0, 0): "Aspek", (0, 1): "Nilai", (1, 0): "Kebijakan", (1, 1): "3,5"}.items():
            table.cell(row, column).text = value

    document = extract(make_pptx(build), **LIMITS)
    assert (document.status, document.kind) == (Status.OK, PPTX)
    assert [texts(page) for page in document.pages] == [
        ["Paparan Evaluasi SPBE", "Tim Koordinasi", "Sampaikan hasil indeks tahun lalu"],
        ["Aspek | Nilai\nKebijakan | 3,5"],
    ]


def test_pptx_merged_table_cell_is_written_once():
    def build(presentation: Presentation) -> None:
        table = blank_slide(presentation).shapes.add_table(2, 2, Inches(1), Inches(1), Inches(6), Inches(2)).table
        table.cell(0, 0).merge(table.cell(0, 1))
        table.cell(0, 0).text = "Peta Rencana"
        table.cell(1, 0).text = "2024"
        table.cell(1, 1).text = "2025"

    [table] = extract(make_pptx(build), **LIMITS).pages[0].blocks
    assert table == Block(BlockKind.TABLE, "Peta Rencana\n2024 | 2025")


def test_pptx_without_text_is_empty():
    assert extract(make_pptx(blank_slide), **LIMITS).status is Status.EMPTY


# --- formats only LibreOffice reads ------------------------------------------------------------


def fake_libreoffice(folder: Path, script: str) -> None:
    """An `soffice` on PATH that runs `script` (POSIX sh; $outdir and $stem are set from its arguments)."""
    soffice = folder / "soffice"
    soffice.write_text(
        '#!/bin/sh\nwhile [ "$1" != "--outdir" ]; do shift; done\noutdir="$2"\n'
        'stem=$(basename "$3"); stem="${stem%.*}"\n' + script
    )
    soffice.chmod(soffice.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def converter_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", f"{tmp_path}:{'/usr/bin:/bin'}")
    return tmp_path


def test_legacy_word_file_is_converted_when_libreoffice_is_installed(converter_folder: Path, monkeypatch):
    converted = converter_folder / "converted.pdf"
    converted.write_bytes(make_pdf("Surat Keputusan lama"))
    fake_libreoffice(converter_folder, f'cp "{converted}" "$outdir/$stem.pdf"\n')
    document = extract(ole_file("WordDocument"), limits=IN_PROCESS)
    assert (document.status, document.kind, document.text) == (Status.OK, LEGACY_OFFICE, "Surat Keputusan lama")


def test_legacy_file_libreoffice_cannot_convert_is_corrupt_with_its_complaint(converter_folder: Path):
    fake_libreoffice(converter_folder, "echo 'Error: source file could not be loaded' >&2\nexit 1\n")
    document = extract(ole_file("Workbook"), limits=IN_PROCESS)
    assert document.status is Status.CORRUPT
    assert "Excel lama (.xls)" in document.message
    assert "could not be loaded" in document.detail


def test_rtf_without_libreoffice_asks_for_pdf_or_docx(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    document = extract(rb"{\rtf1\ansi Laporan}", "laporan.doc", limits=IN_PROCESS)
    assert document.status is Status.UNSUPPORTED
    assert "RTF" in document.message and "PDF atau DOCX" in document.message
