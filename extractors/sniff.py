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
LEGACY_OFFICE = "ole"  # .doc/.xls/.ppt of Office 97-2003, or a password-locked OOXML: an OLE compound file
RTF = "rtf"
OPENDOCUMENT = "odf"  # .odt/.ods/.odp of LibreOffice
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
RTF_MAGIC = b"{\\rtf"

# An OpenDocument zip names its type in a first member "mimetype", stored uncompressed.
OPENDOCUMENT_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument."
OPENDOCUMENT_MIMETYPE_OFFSET = 30  # after the zip local file header

# The main part that makes a zip an Office Open XML file of each kind.
OFFICE_MAIN_PARTS = (
    ("word/document.xml", DOCX),
    ("xl/workbook.xml", XLSX),
    ("ppt/presentation.xml", PPTX),
)
# Without its main part (lost, or cut off), an OOXML package still shows its kind by its folder:
# a DOCX that lost word/document.xml is a broken DOCX (corrupt), not an archive to unpack.
OOXML_CONTENT_TYPES = "[Content_Types].xml"
OFFICE_FOLDERS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))


def _part_names(data: bytes) -> tuple[Callable[[str], bool], bool]:
    """Whether the zip in `data` holds a part whose name starts with a prefix (a full name or a folder),
    and whether its directory could be read.

    A cut-off upload has no readable zip directory, but the local headers before the cut
    still name the parts; looking there sends a damaged DOCX to the DOCX reader, which
    reports it corrupt, instead of calling it an unknown archive.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        return (lambda prefix: prefix.encode() in data), False
    return (lambda prefix: any(name.startswith(prefix) for name in names)), True


def _detect_pdf(data: bytes) -> str | None:
    return PDF if PDF_MARKER in data[:PDF_HEADER_WINDOW] else None


def _detect_zip(data: bytes) -> str | None:
    """DOCX, XLSX, PPTX, OpenDocument or a plain ZIP archive, by the parts the archive holds."""
    if not data.startswith(ZIP_MAGIC):
        return None
    if data[OPENDOCUMENT_MIMETYPE_OFFSET:].startswith(OPENDOCUMENT_MIMETYPE):
        return OPENDOCUMENT
    holds, intact = _part_names(data)
    if kind := next((kind for part, kind in OFFICE_MAIN_PARTS if holds(part)), None):
        return kind
    if holds(OOXML_CONTENT_TYPES) or not intact:
        return next((kind for folder, kind in OFFICE_FOLDERS if holds(folder)), ZIP)
    return ZIP


def _detect_magic(kind: str, *magics: bytes) -> Callable[[bytes], str | None]:
    return lambda data: kind if data.startswith(magics) else None


# Fixed-offset magic first: a PDF marker may also sit inside the first KiB of a zip (a stored member).
DETECTORS: tuple[Callable[[bytes], str | None], ...] = (
    _detect_zip,
    _detect_magic(LEGACY_OFFICE, OLE_MAGIC),
    _detect_magic(PNG, PNG_MAGIC),
    _detect_magic(JPEG, JPEG_MAGIC),
    _detect_magic(TIFF, *TIFF_MAGICS),
    _detect_magic(RTF, RTF_MAGIC),
    _detect_pdf,
)


def sniff(data: bytes) -> str | None:
    """The kind of file `data` is (one of the constants above), or None when unrecognised."""
    return next((kind for detect in DETECTORS if (kind := detect(data))), None)
