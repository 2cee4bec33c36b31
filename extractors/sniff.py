"""Tell a file's real type from its first bytes: clerks rename files, and names lie.

Each kind is one entry in DETECTORS (tried in order); a new format adds its entry here.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

PDF = "pdf"
DOCX = "docx"
XLSX = "xlsx"
PPTX = "pptx"
ZIP = "zip"
LEGACY_OFFICE = "ole"  # .doc/.xls/.ppt of Office 97-2003: an OLE compound file
PNG = "png"
JPEG = "jpeg"
TIFF = "tiff"

# Readers (Acrobat, pdfium) accept a PDF header anywhere in the first KiB, after junk bytes.
PDF_MARKER = b"%PDF-"
PDF_HEADER_WINDOW = 1024

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
TIFF_MAGICS = (b"II*\x00", b"MM\x00*")  # little- and big-endian

# The main part that makes a zip an Office Open XML file of each kind.
OFFICE_MAIN_PARTS = (
    ("word/document.xml", DOCX),
    ("xl/workbook.xml", XLSX),
    ("ppt/presentation.xml", PPTX),
)


def _part_lookup(data: bytes) -> Callable[[str], bool]:
    """Whether the zip in `data` holds a named part.

    A cut-off upload has no readable zip directory, but the local headers before the cut
    still name the parts; looking there sends a damaged DOCX to the DOCX reader, which
    reports it corrupt, instead of calling it an unknown archive.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return set(archive.namelist()).__contains__
    except zipfile.BadZipFile:
        return lambda part: part.encode() in data


def _detect_pdf(data: bytes) -> str | None:
    return PDF if PDF_MARKER in data[:PDF_HEADER_WINDOW] else None


def _detect_zip(data: bytes) -> str | None:
    """DOCX, XLSX, PPTX or a plain ZIP archive, by the main part the archive holds."""
    if not data.startswith(ZIP_MAGIC):
        return None
    holds = _part_lookup(data)
    return next((kind for part, kind in OFFICE_MAIN_PARTS if holds(part)), ZIP)


def _detect_magic(kind: str, *magics: bytes) -> Callable[[bytes], str | None]:
    return lambda data: kind if data.startswith(magics) else None


# Fixed-offset magic first: a PDF marker may also sit inside the first KiB of a zip (a stored member).
DETECTORS: tuple[Callable[[bytes], str | None], ...] = (
    _detect_zip,
    _detect_magic(LEGACY_OFFICE, OLE_MAGIC),
    _detect_magic(PNG, PNG_MAGIC),
    _detect_magic(JPEG, JPEG_MAGIC),
    _detect_magic(TIFF, *TIFF_MAGICS),
    _detect_pdf,
)


def sniff(data: bytes) -> str | None:
    """The kind of file `data` is (one of the constants above), or None when unrecognised."""
    return next((kind for detect in DETECTORS if (kind := detect(data))), None)
