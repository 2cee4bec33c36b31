"""Broken, locked, legacy, oversized and malicious uploads: each gets its status and words for clerk and operator.

Every file is generated here. The statuses are the specification: a run must go on whatever
an SKPD uploads, and the clerk must learn what to do about it.
"""
from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass, field, replace

import pytest
from PIL import Image, ImageDraw
import pypdfium2 as pdfium
from test_extractors import LIMITS, make_docx, make_pdf, make_zip, ole_file
from test_extractors_office import add_text_box, blank_slide, make_pptx, make_xlsx

from extractors import DEFAULT_LIMITS, ExtractionLimits, Status, extract, legacy

MEBIBYTE = 1024 * 1024
WITHOUT_OFFICE = legacy.converter() is None

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">' for n in range(1, 10))
    + "]><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
    "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>&secret;</w:t></w:r></w:p></w:body></w:document>"
)


def with_member(package: bytes, name: str, content: bytes | str) -> bytes:
    """The zip with one more (or a replaced) member, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item, source.read(item))
        target.writestr(name, content)
    return buffer.getvalue()


def without_member(package: bytes, name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item, source.read(item))
    return buffer.getvalue()


def word_document() -> bytes:
    return make_docx(lambda document: document.add_paragraph("Kebijakan internal SPBE"))


def workbook() -> bytes:
    return make_xlsx(lambda book: book.active.append(["Aplikasi", "SIMPEG"]))


def presentation() -> bytes:
    return make_pptx(lambda deck: add_text_box(blank_slide(deck).shapes, "Paparan"))


def pdf_without_pages() -> bytes:
    buffer = io.BytesIO()
    pdfium.PdfDocument.new().save(buffer)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def damaged_in_the_middle(data: bytes, length: int = 200) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes(length) + data[middle + length :]


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture: decoding it would take gigabytes."""
    data = bytearray(png(Image.new("1", (8, 8))))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def shapes_without_text() -> bytes:
    image = Image.new("L", (600, 400), 255)
    draw = ImageDraw.Draw(image)
    draw.ellipse((50, 50, 250, 250), outline=0, width=6)
    draw.rectangle((320, 80, 560, 320), fill=90)
    return png(image)


def pdf_with_broken_xref() -> bytes:
    data = make_pdf("Daftar hadir rapat")
    offset = data.rindex(b"startxref") + len(b"startxref\n")
    return data[:offset] + b"999999" + data[offset:].lstrip(b"0123456789")


@dataclass(frozen=True)
class Hostile:
    data: bytes
    status: Status
    limits: dict[str, int] = field(default_factory=dict)  # overrides of the test limits


# Without LibreOffice the legacy formats are refused; with it, these stubs fail to convert.
LEGACY = Status.UNSUPPORTED if WITHOUT_OFFICE else Status.CORRUPT
UTF16_BILLION_LAUGHS = BILLION_LAUGHS.replace('"1.0"?>', '"1.0" encoding="UTF-16"?>', 1).encode("utf-16")

HOSTILE = {
    # Office Open XML turned into weapons
    "docx zip bomb (1000:1)": Hostile(
        with_member(word_document(), "word/media/bom.bin", bytes(20 * MEBIBYTE)), Status.TOO_LARGE
    ),
    "xlsx over the unzipped size limit": Hostile(
        with_member(workbook(), "xl/media/foto.bin", random.Random(1).randbytes(2 * MEBIBYTE)),
        Status.TOO_LARGE,
        {"max_unzipped_bytes": MEBIBYTE},
    ),
    "pptx with too many members": Hostile(
        make_zip(**{"ppt__presentation.xml": "<p/>"}, **{f"ppt__x{n}.bin": "" for n in range(60)}),
        Status.TOO_LARGE,
        {"max_zip_members": 50},
    ),
    "docx billion laughs": Hostile(with_member(word_document(), "word/document.xml", BILLION_LAUGHS), Status.CORRUPT),
    "docx external entity (XXE)": Hostile(
        with_member(word_document(), "word/document.xml", EXTERNAL_ENTITY), Status.CORRUPT
    ),
    "docx doctype hidden in UTF-16": Hostile(
        with_member(word_document(), "word/document.xml", UTF16_BILLION_LAUGHS), Status.CORRUPT
    ),
    "xlsx billion laughs in shared strings": Hostile(
        with_member(workbook(), "xl/sharedStrings.xml", BILLION_LAUGHS), Status.CORRUPT
    ),
    "docx without word/document.xml": Hostile(without_member(word_document(), "word/document.xml"), Status.CORRUPT),
    "truncated xlsx": Hostile(workbook()[: len(workbook()) // 2], Status.CORRUPT),
    "pptx with a broken slide": Hostile(with_member(presentation(), "ppt/slides/slide1.xml", "<p:sld"), Status.CORRUPT),
    "zip holding a pdf": Hostile(make_zip(**{"bukti.pdf": "%PDF-1.7 ..."}), Status.UNSUPPORTED),
    # PDFs
    "password-protected pdf": Hostile(make_pdf("Rahasia", password="sandi"), Status.ENCRYPTED),
    "truncated pdf": Hostile(make_pdf("Laporan kinerja")[:300], Status.CORRUPT),
    "pdf header only": Hostile(b"%PDF-1.7\n", Status.CORRUPT),
    "pdf with zero pages": Hostile(pdf_without_pages(), Status.CORRUPT),
    "pdf with a broken xref (pdfium rebuilds it)": Hostile(pdf_with_broken_xref(), Status.OK),
    "pdf of blank pages": Hostile(make_pdf(None, None), Status.EMPTY),
    "pdf with more pages than allowed": Hostile(make_pdf("1", "2", "3"), Status.TOO_LARGE, {"max_pages": 2}),
    "upload over the byte limit": Hostile(make_pdf("Laporan"), Status.TOO_LARGE, {"max_bytes": 100}),
    # Legacy and locked Office
    "word 97 .doc": Hostile(ole_file("WordDocument"), LEGACY),
    "excel 97 .xls": Hostile(ole_file("Workbook"), LEGACY),
    "powerpoint 97 .ppt": Hostile(ole_file("PowerPoint Document"), LEGACY),
    "password-protected docx (an OLE file)": Hostile(ole_file("EncryptionInfo", "EncryptedPackage"), Status.ENCRYPTED),
    "rtf": Hostile(rb"{\rtf1\ansi Laporan}", Status.UNSUPPORTED if WITHOUT_OFFICE else Status.OK),
    # Not documents at all
    "empty file": Hostile(b"", Status.EMPTY),
    "html renamed .pdf": Hostile(b"<!DOCTYPE html><html><body>Laporan</body></html>", Status.UNSUPPORTED),
    "linux executable (ELF)": Hostile(b"\x7fELF\x02\x01\x01" + bytes(120), Status.UNSUPPORTED),
    "windows executable (MZ)": Hostile(b"MZ\x90\x00\x03" + bytes(120), Status.UNSUPPORTED),
    "gzip archive": Hostile(b"\x1f\x8b\x08\x00" + bytes(60), Status.UNSUPPORTED),
    "random bytes": Hostile(random.Random(2).randbytes(4096), Status.UNSUPPORTED),
    # Images
    "truncated png": Hostile(png(Image.new("RGB", (300, 300), "white"))[:120], Status.CORRUPT),
    "png with a broken pixel stream": Hostile(
        damaged_in_the_middle(png(Image.effect_noise((64, 64), 50))), Status.CORRUPT
    ),
    "1x1 blank png": Hostile(png(Image.new("L", (1, 1), 255)), Status.EMPTY),
    "picture without text": Hostile(shapes_without_text(), Status.EMPTY),
    "png declaring 100,000 x 100,000 pixels": Hostile(png_declaring(100_000, 100_000), Status.TOO_LARGE),
    "image over max_image_pixels": Hostile(
        png(Image.new("L", (400, 400), 255)), Status.TOO_LARGE, {"max_image_pixels": 100_000}
    ),
    "tiff with a broken directory": Hostile(b"II*\x00\xff\xff\xff\x7f" + bytes(64), Status.CORRUPT),
}


def limits_for(case: Hostile) -> ExtractionLimits:
    return replace(DEFAULT_LIMITS, **{**LIMITS, **case.limits})


def test_the_hostile_suite_covers_at_least_25_kinds():
    assert len(HOSTILE) >= 25


@pytest.mark.parametrize("case", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_upload_gets_its_status(case: Hostile):
    assert extract(case.data, limits=limits_for(case)).status is case.status


@pytest.mark.parametrize(
    "case", [case for case in HOSTILE.values() if case.status is not Status.OK],
    ids=[name for name, case in HOSTILE.items() if case.status is not Status.OK],
)  # fmt: skip
def test_hostile_upload_tells_the_clerk_what_to_do_and_the_operator_why(case: Hostile):
    document = extract(case.data, limits=limits_for(case))
    assert "unggah" in document.message.lower()  # Bahasa Indonesia, ending in what to upload
    assert document.detail
    assert document.pages == []
