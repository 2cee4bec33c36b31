"""Text from the evidence an SKPD uploads, whatever its format: one entry point, one result shape.

extract() sniffs the real type from the bytes (never the name), hands them to that kind's
reader in READERS and never raises for a bad upload: every failure comes back as a Document
whose status says what went wrong, with a message the clerk can act on (Bahasa Indonesia)
and a detail for the operator's log (English). A new format is one module and one entry.

What one upload may cost is an ExtractionLimits (bytes, pages, unzipped size, pixels, OCR
pages, seconds); services pass ExtractionLimits.from_settings(settings). With a time limit
(the default) the reader runs in a child process that is killed when time is up: see
extractors.isolation.
"""
from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from extractors import docx, image, legacy, ocr, pdf, pptx, xlsx
from extractors.document import Block, BlockKind, Document, Page, Status, TextSource
from extractors.failures import ExtractionFailure, corrupt, too_large
from extractors.isolation import run_with_time_limit
from extractors.limits import DEFAULT_LIMITS, ExtractionLimits
from extractors.sniff import (
    DOCX, JPEG, LEGACY_OFFICE, OPENDOCUMENT, PDF, PNG, PPTX, RTF, TIFF, XLSX, ZIP, sniff,
)  # fmt: skip

__all__ = [
    "DEFAULT_LIMITS",
    "Block",
    "BlockKind",
    "Document",
    "ExtractionLimits",
    "Page",
    "Status",
    "TextSource",
    "extract",
    "extract_path",
    "look_again_for_tools",
    "too_large",
    "tool_available",
]

logger = logging.getLogger(__name__)

# Enough of an unrecognised file's start for an operator to tell what it was.
LEADING_BYTES_LOGGED = 16

EMPTY_UPLOAD_MESSAGE = "Berkas yang diunggah kosong (0 byte). Periksa berkasnya di komputer Anda, lalu unggah ulang."
ARCHIVE_MESSAGE = "Arsip ZIP tidak dapat dibaca langsung. Ekstrak isinya, lalu unggah setiap dokumen sebagai PDF atau DOCX."
UNKNOWN_MESSAGE = "Jenis berkas ini tidak dikenali. Unggah dokumen dalam format PDF atau DOCX."
# A name that promises a format the bytes are not (a text file renamed .pdf, a cut-off upload): the clerk sees the
# name, so "not recognised" alone would puzzle them.
MISNAMED_MESSAGE = (
    "Isi berkas ini bukan {label}, walaupun namanya berakhiran .{extension} (mungkin berkas lain atau format lain yang "
    "diganti namanya, atau unggahan yang terputus). Buka berkas di komputer Anda, simpan ulang sebagai PDF atau DOCX "
    "(gambar: JPG atau PNG), lalu unggah lagi."
)
UNREADABLE_KINDS = (None, ZIP)  # what the bytes of a renamed or cut-off upload are taken for
PICTURE = "gambar JPG, PNG atau TIFF yang dapat dibaca"  # a WebP or HEIC photo renamed .jpg is a picture, but not one
NAMED_FORMATS = {  # file-name extensions of the formats read here, as a clerk calls them
    "pdf": "PDF yang sah", "docx": "dokumen Word yang sah", "doc": "dokumen Word yang sah",
    "xlsx": "lembar kerja Excel yang sah", "xls": "lembar kerja Excel yang sah",
    "pptx": "presentasi PowerPoint yang sah", "ppt": "presentasi PowerPoint yang sah",
    "png": PICTURE, "jpg": PICTURE, "jpeg": PICTURE, "tif": PICTURE, "tiff": PICTURE,
}
OCR_SKIPPED_MESSAGE = (
    "{count} halaman hasil pindai belum terbaca (halaman {pages}), sehingga isinya belum ikut dinilai. "
    "Jika halaman itu penting, pisahkan ke berkas tersendiri atau unggah sebagai PDF yang berisi teks."
)


class Reader(Protocol):
    """One format's reader: pages with text, or ExtractionFailure saying why there are none."""

    def __call__(self, data: bytes, limits: ExtractionLimits) -> list[Page]: ...


def _refuse(message: str) -> Reader:
    """Reader for a kind recognised but not read: tells the clerk what to upload instead."""

    def read(data: bytes, limits: ExtractionLimits) -> list[Page]:
        raise ExtractionFailure(
            Status.UNSUPPORTED, message, f"no reader for this format; leading bytes {data[:LEADING_BYTES_LOGGED]!r}"
        )

    return read


# Sniffed kind -> reader; None is a file no detector recognised.
READERS: dict[str | None, Reader] = {
    PDF: pdf.read,
    DOCX: docx.read,
    XLSX: xlsx.read,
    PPTX: pptx.read,
    PNG: image.read,
    JPEG: image.read,
    TIFF: image.read,
    LEGACY_OFFICE: legacy.read,
    RTF: legacy.read,
    OPENDOCUMENT: legacy.read,
    ZIP: _refuse(ARCHIVE_MESSAGE),
    None: _refuse(UNKNOWN_MESSAGE),
}


def _check_size(size: int, max_bytes: int) -> None:
    """Refuse an upload over the limit before any parser spends memory on it."""
    if size > max_bytes:
        raise too_large(size, max_bytes)


def _page_ranges(numbers: list[int]) -> str:
    """Page numbers as a reader writes them: "3–5, 9"."""
    ranges: list[list[int]] = []
    for number in numbers:
        if ranges and number == ranges[-1][-1] + 1:
            ranges[-1].append(number)
        else:
            ranges.append([number])
    return ", ".join(f"{run[0]}–{run[-1]}" if len(run) > 1 else str(run[0]) for run in ranges)


def _read(data: bytes, filename: str, kind: str | None, limits: ExtractionLimits) -> Document:
    """The reader's pages as an OK document (noting scanned pages left unread), or the failure; never raises."""
    try:
        pages = READERS[kind](data, limits)
    except ExtractionFailure as failure:
        extension = Path(filename).suffix.lstrip(".").lower()
        if kind in UNREADABLE_KINDS and extension in NAMED_FORMATS:  # a .docx cut off to its first bytes is a zip
            failure.message = MISNAMED_MESSAGE.format(label=NAMED_FORMATS[extension], extension=extension)
        return failure.document(kind)
    except Exception as error:  # a parser choking on hostile input must not take the caller down
        logger.exception("unexpected error extracting %r (sniffed as %s)", filename, kind)
        return corrupt(error).document(kind)
    if not (skipped := [page.number for page in pages if page.source is TextSource.OCR_SKIPPED]):
        return Document(Status.OK, kind=kind, pages=pages)
    message = OCR_SKIPPED_MESSAGE.format(count=len(skipped), pages=_page_ranges(skipped))
    return Document(Status.OK, message, ocr.skipped_detail(skipped, limits), kind, pages)


def _limits(limits: ExtractionLimits | None, max_bytes: int | None, max_pages: int | None) -> ExtractionLimits:
    """`limits` (or the defaults) with the older max_bytes/max_pages keywords applied over it."""
    given = {"max_bytes": max_bytes, "max_pages": max_pages}
    return replace(limits or DEFAULT_LIMITS, **{name: value for name, value in given.items() if value is not None})


def extract(
    data: bytes,
    filename: str = "",
    *,
    max_bytes: int | None = None,
    max_pages: int | None = None,
    limits: ExtractionLimits | None = None,
) -> Document:
    """The upload's text as pages of blocks, or a non-OK Document saying why there is none.

    `filename` only labels log lines: the type always comes from the bytes. Pass
    `limits=ExtractionLimits.from_settings(settings)`; max_bytes/max_pages, when given,
    override those two limits (the older way of calling).
    """
    limits = _limits(limits, max_bytes, max_pages)
    kind = None
    try:
        _check_size(len(data), limits.max_bytes)
        if not data:
            raise ExtractionFailure(Status.EMPTY, EMPTY_UPLOAD_MESSAGE, "upload is 0 bytes")
        kind = sniff(data)
    except ExtractionFailure as failure:
        return failure.document(kind)
    except Exception as error:  # a zip directory crafted to break zipfile
        logger.exception("unexpected error sniffing %r", filename)
        return corrupt(error).document(kind)
    if limits.time_limit_seconds:
        return run_with_time_limit(_read, data, filename, kind, limits, seconds=limits.time_limit_seconds, kind=kind)
    return _read(data, filename, kind, limits)


def extract_path(
    path: str | os.PathLike[str],
    *,
    max_bytes: int | None = None,
    max_pages: int | None = None,
    limits: ExtractionLimits | None = None,
) -> Document:
    """extract() on a file; one over max_bytes is refused by its size, never read into memory.

    A missing or unreadable file raises OSError: that is the caller's mistake, not the upload's.
    """
    limits = _limits(limits, max_bytes, max_pages)
    path = Path(path)
    try:
        _check_size(path.stat().st_size, limits.max_bytes)
    except ExtractionFailure as failure:
        return failure.document()
    with path.open("rb") as file:
        data = file.read(limits.max_bytes + 1)  # a file still growing is cut just past the limit, then refused
    return extract(data, path.name, limits=limits)


def look_again_for_tools() -> None:
    """Forget which programs were found (asked once per process, for speed): a long-lived process calls this once
    per run, so a program the operator installed since is seen."""
    ocr.unavailable_reason.cache_clear()


def tool_available(tool: str, limits: ExtractionLimits = DEFAULT_LIMITS) -> bool:
    """Whether the program a document's `missing_tool` names is on this machine now (installed since that read)."""
    checks = {
        ocr.TESSERACT: lambda: ocr.unavailable_reason(limits.ocr_languages) is None,
        legacy.LIBREOFFICE: lambda: legacy.converter() is not None,
    }
    return tool in checks and checks[tool]()
