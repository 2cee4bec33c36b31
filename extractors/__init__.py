"""Text from the evidence an SKPD uploads, whatever its format: one entry point, one result shape.

extract() sniffs the real type from the bytes (never the name), hands them to that kind's
reader in READERS and never raises for a bad upload: every failure comes back as a Document
whose status says what went wrong, with a message the clerk can act on (Bahasa Indonesia)
and a detail for the operator's log (English). A new format is one module and one entry.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

from extractors import docx, pdf
from extractors.document import Block, BlockKind, Document, Page, Status, TextSource
from extractors.failures import ExtractionFailure, corrupt
from extractors.sniff import DOCX, JPEG, LEGACY_OFFICE, PDF, PNG, PPTX, TIFF, XLSX, ZIP, sniff
from settings import MEBIBYTE, Settings

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PAGES",
    "Block",
    "BlockKind",
    "Document",
    "Page",
    "Status",
    "TextSource",
    "extract",
    "extract_path",
]

logger = logging.getLogger(__name__)

# Same defaults as Settings, for callers without one (scripts, the REPL); services pass settings values.
DEFAULT_MAX_BYTES: int = Settings.model_fields["max_upload_bytes"].default
DEFAULT_MAX_PAGES: int = Settings.model_fields["max_pages"].default

# Enough of an unrecognised file's start for an operator to tell what it was.
LEADING_BYTES_LOGGED = 16

EMPTY_UPLOAD_MESSAGE = "Berkas yang diunggah kosong (0 byte). Periksa berkasnya di komputer Anda, lalu unggah ulang."
OTHER_OFFICE_MESSAGE = (
    "Berkas Excel atau PowerPoint belum dapat dibaca. Simpan sebagai PDF (menu File > Simpan Sebagai > PDF) "
    "atau pindahkan isinya ke dokumen Word (DOCX), lalu unggah lagi."
)
LEGACY_OFFICE_MESSAGE = (
    "Berkas ini berformat Microsoft Office lama (.doc, .xls atau .ppt). "
    "Buka berkasnya, simpan sebagai PDF atau DOCX, lalu unggah lagi."
)
IMAGE_MESSAGE = (
    "Berkas gambar (foto atau hasil pindai) belum dapat dibaca. "
    "Unggah dokumennya sebagai PDF yang berisi teks atau sebagai DOCX."
)
ARCHIVE_MESSAGE = "Arsip ZIP tidak dapat dibaca langsung. Ekstrak isinya, lalu unggah setiap dokumen sebagai PDF atau DOCX."
UNKNOWN_MESSAGE = "Jenis berkas ini tidak dikenali. Unggah dokumen dalam format PDF atau DOCX."

class Reader(Protocol):
    """One format's reader: pages with text, or ExtractionFailure saying why there are none."""

    def __call__(self, data: bytes, *, max_pages: int) -> list[Page]: ...


def _refuse(message: str) -> Reader:
    """Reader for a kind recognised but not read (yet): tells the clerk what to upload instead."""

    def read(data: bytes, *, max_pages: int) -> list[Page]:
        raise ExtractionFailure(
            Status.UNSUPPORTED, message, f"no reader for this format; leading bytes {data[:LEADING_BYTES_LOGGED]!r}"
        )

    return read


# Sniffed kind -> reader; None is a file no detector recognised.
READERS: dict[str | None, Reader] = {
    PDF: pdf.read,
    DOCX: docx.read,
    XLSX: _refuse(OTHER_OFFICE_MESSAGE),
    PPTX: _refuse(OTHER_OFFICE_MESSAGE),
    LEGACY_OFFICE: _refuse(LEGACY_OFFICE_MESSAGE),
    ZIP: _refuse(ARCHIVE_MESSAGE),
    PNG: _refuse(IMAGE_MESSAGE),  # OCR comes later
    JPEG: _refuse(IMAGE_MESSAGE),
    TIFF: _refuse(IMAGE_MESSAGE),
    None: _refuse(UNKNOWN_MESSAGE),
}


def _megabytes(size: int) -> str:
    """A size as a clerk reads it: "12,5 MB" (Indonesian decimal comma)."""
    return f"{size / MEBIBYTE:.1f}".removesuffix(".0").replace(".", ",") + " MB"


def _check_size(size: int, max_bytes: int) -> None:
    """Refuse an upload over the limit before any parser spends memory on it."""
    if size > max_bytes:
        raise ExtractionFailure(
            Status.TOO_LARGE,
            f"Ukuran berkas {_megabytes(size)} melebihi batas {_megabytes(max_bytes)}. "
            "Perkecil berkasnya (misalnya kompres PDF atau pisahkan menjadi beberapa berkas), lalu unggah lagi.",
            f"{size} bytes, limit max_bytes={max_bytes}",
        )


def _failed(failure: ExtractionFailure, kind: str | None = None) -> Document:
    return Document(failure.status, failure.message, failure.detail, kind)


def extract(
    data: bytes,
    filename: str = "",
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Document:
    """The upload's text as pages of blocks, or a non-OK Document saying why there is none.

    `filename` only labels log lines: the type always comes from the bytes.
    """
    kind = None
    try:
        _check_size(len(data), max_bytes)
        if not data:
            raise ExtractionFailure(Status.EMPTY, EMPTY_UPLOAD_MESSAGE, "upload is 0 bytes")
        kind = sniff(data)
        pages = READERS[kind](data, max_pages=max_pages)
    except ExtractionFailure as failure:
        return _failed(failure, kind)
    except Exception as error:  # a parser choking on hostile input must not take the caller down
        logger.exception("unexpected error extracting %r (sniffed as %s)", filename, kind)
        return _failed(corrupt(error), kind)
    return Document(Status.OK, kind=kind, pages=pages)


def extract_path(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Document:
    """extract() on a file; one over max_bytes is refused by its size, never read into memory.

    A missing or unreadable file raises OSError: that is the caller's mistake, not the upload's.
    """
    path = Path(path)
    try:
        _check_size(path.stat().st_size, max_bytes)
    except ExtractionFailure as failure:
        return _failed(failure)
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)  # a file still growing is cut just past the limit, then refused
    return extract(data, path.name, max_bytes=max_bytes, max_pages=max_pages)
