"""How a format reader says an upload cannot be read, in words for both the clerk and the operator.

Readers raise ExtractionFailure; only the entry point (extractors.extract) turns it into a
Document, so every failure reaches the caller in the same shape.
"""
from __future__ import annotations

from extractors.document import Document, Page, Status
from settings import MEBIBYTE


class ExtractionFailure(Exception):
    """An upload that cannot yield text: `message` for the SKPD clerk, `detail` for the log."""

    def __init__(self, status: Status, message: str, detail: str, missing_tool: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.message = message
        self.detail = detail
        self.missing_tool = missing_tool  # the program whose absence caused it (Document.missing_tool)

    def document(self, kind: str | None = None) -> Document:
        """The failure as the result callers get: no pages, the reason in words for both audiences."""
        return Document(self.status, self.message, self.detail, kind, missing_tool=self.missing_tool)


def describe(error: BaseException) -> str:
    """Exception class and text, the form an operator searches logs and issue trackers by."""
    return f"{type(error).__name__}: {error}"


def corrupt(error: BaseException, format_label: str = "") -> ExtractionFailure:
    """A file its parser rejects (cut-off upload, damaged by a tool); the label names the format."""
    subject = " ".join(filter(None, ("Berkas", format_label, "ini")))
    return ExtractionFailure(
        Status.CORRUPT,
        f"{subject} rusak atau tidak lengkap sehingga tidak dapat dibaca. "
        "Buka berkas di komputer Anda, simpan ulang, lalu unggah lagi.",
        describe(error),
    )


def megabytes(size: int) -> str:
    """A size as a clerk reads it: "12,5 MB" (Indonesian decimal comma)."""
    return f"{size / MEBIBYTE:.1f}".removesuffix(".0").replace(".", ",") + " MB"


def too_large(size: int, max_bytes: int) -> ExtractionFailure:
    """An upload over the size limit (SPBE_MAX_UPLOAD_BYTES), refused before it is downloaded or parsed."""
    return ExtractionFailure(
        Status.TOO_LARGE,
        f"Ukuran berkas {megabytes(size)} melebihi batas {megabytes(max_bytes)}. "
        "Perkecil berkasnya (misalnya kompres PDF atau pisahkan menjadi beberapa berkas), lalu unggah lagi.",
        f"{size} bytes, limit max_bytes={max_bytes}",
    )


def too_many_pages(page_count: int, max_pages: int) -> ExtractionFailure:
    """More pages than the operator allows one upload to have."""
    return ExtractionFailure(
        Status.TOO_LARGE,
        f"Dokumen ini berisi {page_count} halaman, melebihi batas {max_pages} halaman. "
        "Pisahkan menjadi beberapa berkas lalu unggah lagi.",
        f"{page_count} pages, limit max_pages={max_pages}",
    )


def with_text(pages: list[Page], message: str) -> list[Page]:
    """`pages` if any holds text; otherwise the upload is EMPTY, with the format's own advice."""
    if not any(page.blocks for page in pages):
        raise ExtractionFailure(Status.EMPTY, message, f"no text on any of {len(pages)} pages")
    return pages
