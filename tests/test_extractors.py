"""What extract() promises for each kind of upload; every fixture is built here, in memory.

The builders here (make_pdf, make_docx, make_zip, texts) serve the other test_extractors_* files too.
"""
from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import docx
import pytest
from docx.document import Document as WordDocument
from docx.enum.text import WD_BREAK
from fpdf import FPDF

from extractors import (
    DEFAULT_LIMITS, Block, BlockKind, Document, ExtractionLimits, Page, Status, TextSource, extract, extract_path,
)  # fmt: skip
from extractors.isolation import run_with_time_limit
from extractors.pdf import paragraphs
from extractors.sniff import DOCX, PDF, sniff
from settings import Settings

LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_pages": 50}
# Read in the test process: for tests that change PATH (the worker keeps the environment it started with).
IN_PROCESS = replace(DEFAULT_LIMITS, time_limit_seconds=0)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def make_pdf(*pages: str | None, password: str | None = None) -> bytes:
    """One PDF page per argument (None: a blank page); core fonts, so ASCII text only."""
    pdf = FPDF()
    if password:
        pdf.set_encryption(owner_password="pemilik", user_password=password)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def make_docx(build: Callable[[WordDocument], None]) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def ole_file(*streams: str) -> bytes:
    """An OLE compound file header with directory entries naming `streams` (UTF-16, as Office writes them)."""
    return OLE_MAGIC + bytes(504) + b"".join(name.encode("utf-16-le").ljust(128, b"\0") for name in streams)


def make_zip(**members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name.replace("__", "/"), content)
    return buffer.getvalue()


def texts(page: Page) -> list[str]:
    return [block.text for block in page.blocks]


# --- PDF -------------------------------------------------------------------------------------


def test_pdf_pages_keep_their_numbers_and_text():
    document = extract(make_pdf("Rencana Induk SPBE", "Arsitektur SPBE Kota"), "renstra.pdf", **LIMITS)
    assert document.status is Status.OK
    assert document.kind == PDF
    assert [(page.number, page.text) for page in document.pages] == [
        (1, "Rencana Induk SPBE"),
        (2, "Arsitektur SPBE Kota"),
    ]
    assert {page.source for page in document.pages} == {TextSource.TEXT_LAYER}


def test_pdf_blank_page_is_kept_without_blocks():
    document = extract(make_pdf("Halaman satu", None, "Halaman tiga"), **LIMITS)
    assert [page.number for page in document.pages] == [1, 2, 3]
    assert document.pages[1].blocks == []
    assert document.pages[2].text == "Halaman tiga"


def test_pdfiums_mark_of_a_hyphen_at_a_lines_end_is_read_as_the_hyphen():
    """Seen on a real budget sheet: "Pengelolaan Aplikasi E\ufffePerformance" is E-Performance, an e-service."""
    assert paragraphs("Bidang e\ufffeGovernment")[0].text == "Bidang e-Government"


def test_pdf_page_text_splits_at_blank_lines_and_keeps_single_line_breaks():
    assert paragraphs("Tujuan\r\nbaris dua\r\n\r\n \r\n\r\nSasaran") == [
        Block(BlockKind.PARAGRAPH, "Tujuan\nbaris dua"),
        Block(BlockKind.PARAGRAPH, "Sasaran"),
    ]


def test_pdf_without_text_or_images_is_empty_and_mentions_scans():
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60)  # a drawing: no text, and no image to OCR
    document = extract(bytes(pdf.output()), **LIMITS)
    assert document.status is Status.EMPTY
    assert "pindai" in document.message


def test_pdf_ruled_table_becomes_rows_when_pdf_tables_is_on():
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "Daftar aplikasi")
    with pdf.table() as table:
        for values in [("Nama", "Pengelola"), ("SIMPEG", "BKPSDM"), ("SIPD", "Bappeda"), ("JDIH", "Bagian Hukum")]:
            row = table.row()
            for value in values:
                row.cell(value)
    pdf.multi_cell(0, 8, "Catatan penutup")
    data = bytes(pdf.output())

    with_tables = extract(data, limits=replace(DEFAULT_LIMITS, pdf_tables=True))
    assert with_tables.pages[0].blocks == [
        Block(BlockKind.PARAGRAPH, "Daftar aplikasi"),
        Block(BlockKind.TABLE, "Nama | Pengelola\nSIMPEG | BKPSDM\nSIPD | Bappeda\nJDIH | Bagian Hukum"),
        Block(BlockKind.PARAGRAPH, "Catatan penutup"),
    ]
    assert {block.kind for block in extract(data, **LIMITS).pages[0].blocks} == {BlockKind.PARAGRAPH}  # off by default


def test_pdf_table_ruled_past_the_page_edge_is_still_read():
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for row in range(3):  # a grid whose lines run 10 mm off both sides of the page
        pdf.line(-10, 20 + row * 10, pdf.w + 10, 20 + row * 10)
    for x in (-10, 60, pdf.w + 10):
        pdf.line(x, 20, x, 40)
    for row, (left, right) in enumerate([("Aplikasi", "SIMPEG"), ("Unit", "BKPSDM")]):
        pdf.text(15, 27 + row * 10, left)
        pdf.text(70, 27 + row * 10, right)
    document = extract(bytes(pdf.output()), limits=replace(DEFAULT_LIMITS, pdf_tables=True))
    assert document.pages[0].blocks == [Block(BlockKind.TABLE, "Aplikasi | SIMPEG\nUnit | BKPSDM")]


def test_truncated_pdf_is_corrupt():
    data = make_pdf("Laporan kinerja")
    document = extract(data[: len(data) // 2], **LIMITS)
    assert document.status is Status.CORRUPT
    assert document.kind == PDF
    assert "PdfiumError" in document.detail


def test_garbage_behind_a_pdf_header_is_corrupt():
    assert extract(b"%PDF-1.7\n" + bytes(range(256)) * 4, **LIMITS).status is Status.CORRUPT


def test_password_protected_pdf_is_encrypted():
    document = extract(make_pdf("Rahasia", password="sandi"), **LIMITS)
    assert document.status is Status.ENCRYPTED
    assert "kata sandi" in document.message


def test_pdf_with_more_pages_than_allowed_is_too_large():
    document = extract(make_pdf("satu", "dua", "tiga"), max_bytes=LIMITS["max_bytes"], max_pages=2)
    assert document.status is Status.TOO_LARGE
    assert "3 pages" in document.detail


# --- size guard ------------------------------------------------------------------------------


def test_upload_over_the_byte_limit_is_too_large_before_parsing():
    data = make_pdf("Laporan")
    document = extract(data, max_bytes=len(data) - 1, max_pages=LIMITS["max_pages"])
    assert document.status is Status.TOO_LARGE
    assert document.kind is None  # refused before even sniffing


def test_extract_path_reads_the_file(tmp_path: Path):
    path = tmp_path / "sk-tim-spbe.pdf"
    path.write_bytes(make_pdf("Surat Keputusan Tim Koordinasi SPBE"))
    assert extract_path(path, **LIMITS).text == "Surat Keputusan Tim Koordinasi SPBE"


def test_extract_path_refuses_an_oversized_file_without_opening_it(tmp_path: Path, monkeypatch):
    path = tmp_path / "besar.pdf"
    path.write_bytes(bytes(2048))
    monkeypatch.setattr(Path, "open", lambda *args, **kwargs: pytest.fail("file was opened"))
    assert extract_path(path, max_bytes=1024, max_pages=1).status is Status.TOO_LARGE


# --- DOCX ------------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_come_in_document_order():
    def build(document: WordDocument) -> None:
        document.add_paragraph("Daftar aplikasi")
        table = document.add_table(rows=2, cols=2)
        for row, values in zip(table.rows, [("Nama", "Pengelola"), ("SIMPEG", "BKPSDM")]):
            for cell, value in zip(row.cells, values):
                cell.text = value
        document.add_paragraph("Catatan penutup")

    document = extract(make_docx(build), "aplikasi.docx", **LIMITS)
    assert document.status is Status.OK
    assert document.kind == DOCX
    [page] = document.pages
    assert page.source is TextSource.DOCUMENT
    assert page.blocks == [
        Block(BlockKind.PARAGRAPH, "Daftar aplikasi"),
        Block(BlockKind.TABLE, "Nama | Pengelola\nSIMPEG | BKPSDM"),
        Block(BlockKind.PARAGRAPH, "Catatan penutup"),
    ]


def test_docx_merged_cells_are_written_once():
    def build(document: WordDocument) -> None:
        table = document.add_table(rows=3, cols=3)
        table.cell(0, 0).merge(table.cell(0, 2)).text = "Judul"
        table.cell(1, 0).merge(table.cell(2, 0)).text = "Layanan"
        for row in (1, 2):
            table.cell(row, 1).text = f"aplikasi {row}"
            table.cell(row, 2).text = f"unit {row}"

    [table] = extract(make_docx(build), **LIMITS).pages[0].blocks
    assert table.text == "Judul\nLayanan | aplikasi 1 | unit 1\n | aplikasi 2 | unit 2"


def test_docx_nested_table_follows_its_table():
    def build(document: WordDocument) -> None:
        outer = document.add_table(rows=1, cols=2)
        outer.cell(0, 0).text = "Indikator"
        inner = outer.cell(0, 1).add_table(rows=1, cols=2)
        inner.cell(0, 0).text = "Bukti"
        inner.cell(0, 1).text = "Ada"

    assert texts(extract(make_docx(build), **LIMITS).pages[0]) == ["Indikator |", "Bukti | Ada"]


def test_docx_page_break_in_a_nested_table_opens_one_page():
    def build(document: WordDocument) -> None:
        document.add_paragraph("sebelum")
        outer = document.add_table(rows=1, cols=1)
        inner = outer.cell(0, 0).add_table(rows=1, cols=1)
        paragraph = inner.cell(0, 0).paragraphs[0]
        paragraph.add_run("x")
        paragraph.add_run().add_break(WD_BREAK.PAGE)
        paragraph.add_run("y")
        document.add_paragraph("sesudah")

    document = extract(make_docx(build), **LIMITS)
    assert [page.number for page in document.pages] == [1, 2]
    assert document.pages[1].text == "sesudah"


def test_docx_page_break_starts_the_next_page():
    def build(document: WordDocument) -> None:
        document.add_paragraph("Bab I")
        document.add_page_break()
        document.add_paragraph("Bab II")

    document = extract(make_docx(build), **LIMITS)
    assert [(page.number, page.text) for page in document.pages] == [(1, "Bab I"), (2, "Bab II")]


def test_docx_page_break_inside_a_paragraph_splits_it():
    def build(document: WordDocument) -> None:
        paragraph = document.add_paragraph("akhir halaman satu")
        paragraph.add_run().add_break(WD_BREAK.PAGE)
        paragraph.add_run("awal halaman dua")

    document = extract(make_docx(build), **LIMITS)
    assert [page.text for page in document.pages] == ["akhir halaman satu", "awal halaman dua"]


def test_docx_line_break_stays_inside_the_paragraph():
    def build(document: WordDocument) -> None:
        paragraph = document.add_paragraph("baris satu")
        paragraph.add_run().add_break()
        paragraph.add_run("baris dua")

    assert extract(make_docx(build), **LIMITS).text == "baris satu\nbaris dua"


def test_docx_without_text_is_empty():
    document = extract(make_docx(lambda document: None), **LIMITS)
    assert document.status is Status.EMPTY
    assert document.kind == DOCX


def test_truncated_docx_is_corrupt():
    data = make_docx(lambda document: document.add_paragraph("Kebijakan internal"))
    document = extract(data[: len(data) // 2], **LIMITS)
    assert document.status is Status.CORRUPT
    assert document.kind == DOCX


def test_docx_with_broken_xml_is_corrupt():
    data = make_zip(**{"[Content_Types].xml": "<Types", "word__document.xml": "<w:document"})
    assert extract(data, **LIMITS).status is Status.CORRUPT


# --- type sniffing ---------------------------------------------------------------------------


def test_type_comes_from_the_bytes_not_the_name():
    document = extract(make_pdf("Ternyata PDF"), "laporan.docx", **LIMITS)
    assert (document.status, document.kind, document.text) == (Status.OK, PDF, "Ternyata PDF")


def test_text_file_named_pdf_is_unsupported_and_the_clerk_is_told_it_is_no_real_pdf():
    document = extract(b"ini hanya teks biasa", "laporan.pdf", **LIMITS)
    assert (document.status, document.kind) == (Status.UNSUPPORTED, None)
    assert "bukan PDF yang sah, walaupun namanya berakhiran .pdf" in document.message
    assert "tidak dikenali" in extract(b"ini hanya teks biasa", "catatan.bin", **LIMITS).message
    webp = extract(b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(24), "foto kegiatan.jpg", **LIMITS)  # a phone's photo
    assert "bukan gambar JPG, PNG atau TIFF yang dapat dibaca" in webp.message
    cut_off = extract(b"PK\x03\x04" + bytes(7), "SK Tim SPBE.docx", **LIMITS)  # only a zip's first bytes arrived
    assert "bukan dokumen Word yang sah, walaupun namanya berakhiran .docx" in cut_off.message
    assert "Arsip ZIP" in extract(b"PK\x03\x04" + bytes(7), "lampiran.zip", **LIMITS).message  # an archive as such


def test_pdf_header_after_leading_junk_is_still_pdf():
    assert sniff(b"\x00" * 100 + make_pdf("isi")) == PDF


def test_zip_archive_holding_a_pdf_is_an_archive_not_a_pdf():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("bukti.pdf", make_pdf("di dalam arsip"))
    assert extract(buffer.getvalue(), "bukti.pdf", **LIMITS).status is Status.UNSUPPORTED


def test_legacy_word_file_without_libreoffice_is_unsupported_and_asks_for_pdf_or_docx(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice
    document = extract(ole_file("WordDocument"), "lama.doc", limits=IN_PROCESS)
    assert document.status is Status.UNSUPPORTED
    assert "PDF atau DOCX" in document.message
    assert "LibreOffice" in document.detail and document.missing_tool == "LibreOffice"


def test_office_package_without_its_main_part_is_still_its_kind():
    data = make_zip(**{"[Content_Types].xml": "<Types/>", "xl__styles.xml": "<styleSheet/>"})
    assert (sniff(data), extract(data, **LIMITS).status) == ("xlsx", Status.CORRUPT)


def test_zero_bytes_are_empty():
    assert extract(b"", "kosong.pdf", **LIMITS).status is Status.EMPTY


# --- limits and the worker process ------------------------------------------------------------


def test_limits_come_from_settings():
    settings = Settings(_env_file=None, max_upload_bytes=1024, max_ocr_pages=3, extraction_time_limit_seconds=5)
    limits = ExtractionLimits.from_settings(settings)
    assert (limits.max_bytes, limits.max_ocr_pages, limits.time_limit_seconds) == (1024, 3, 5)
    assert ExtractionLimits.defaults() == ExtractionLimits.from_settings(Settings(_env_file=None))


def test_older_max_keywords_override_the_limits():
    data = make_pdf("Laporan")
    assert extract(data, max_bytes=len(data) - 1, limits=DEFAULT_LIMITS).status is Status.TOO_LARGE


def test_extraction_that_outlives_the_time_limit_is_stopped_as_too_large():
    started = time.monotonic()
    document = run_with_time_limit(time.sleep, 60, seconds=0.5)
    assert time.monotonic() - started < 10
    assert document.status is Status.TOO_LARGE
    assert "batas waktu" in document.message
    assert "time_limit_seconds=0.5" in document.detail


def test_crashed_worker_gives_a_corrupt_document_not_an_exception():
    document = run_with_time_limit(os._exit, 70, seconds=30, kind=PDF)  # as a segfault would, minus the core file
    assert (document.status, document.kind) == (Status.CORRUPT, PDF)
    assert "exit code 70" in document.detail


def test_next_upload_after_a_stopped_one_is_read_normally():
    run_with_time_limit(time.sleep, 60, seconds=0.1)
    assert extract(make_pdf("Berikutnya"), **LIMITS).text == "Berikutnya"


def make_long_report(pages: int, lines: int) -> bytes:
    """A text PDF that takes long to read and little to write: fixed lines, no text layout."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=8)
    for page in range(pages):
        pdf.add_page()
        for line in range(lines):
            pdf.text(10, 10 + 4 * line, f"Halaman {page} baris {line} " + "kata " * 14)
    return bytes(pdf.output())


def test_extract_applies_the_time_limit_to_the_reader():
    long_report = make_long_report(pages=1000, lines=60)  # over a second of reading, far beyond a busy machine's
    # pauses: the reader is stopped by the limit, not outrun by it while the caller waits for a core
    document = extract(long_report, limits=replace(DEFAULT_LIMITS, time_limit_seconds=0.002))
    assert (document.status, document.kind) == (Status.TOO_LARGE, PDF)


# --- result shape ----------------------------------------------------------------------------


def test_document_survives_a_round_trip_through_json():
    def build(document: WordDocument) -> None:
        document.add_paragraph("Peta rencana SPBE")
        document.add_table(rows=1, cols=1).cell(0, 0).text = "Domain layanan"
        document.add_page_break()
        document.add_paragraph("Lampiran")

    document = extract(make_docx(build), **LIMITS)
    assert Document.from_dict(json.loads(json.dumps(document.to_dict()))) == document


def test_ocr_page_survives_a_round_trip_through_json():
    page = Page(1, [Block(BlockKind.PARAGRAPH, "Pindaian")], TextSource.OCR, ocr_confidence=91.5)
    document = Document(Status.OK, kind="png", pages=[page])
    assert Document.from_dict(json.loads(json.dumps(document.to_dict()))) == document


def test_document_stored_before_ocr_still_loads():
    stored = {"status": "ok", "kind": "pdf", "pages": [{"number": 1, "blocks": [], "source": "text_layer"}]}
    assert Document.from_dict(stored).pages[0].ocr_confidence is None
