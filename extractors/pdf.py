"""PDF text layer, page by page, with pdfium (fast, and tolerant of the PDFs office scanners write)."""
from __future__ import annotations

import re
import threading

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extractors.document import Block, BlockKind, Page, Status, TextSource
from extractors.failures import ExtractionFailure, corrupt, describe, too_many_pages, with_text

FORMAT_LABEL = "PDF"

# pdfium's load errors that mean "locked", as opposed to "broken".
LOCKED_ERRORS = frozenset({pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY})

ENCRYPTED_MESSAGE = "Berkas PDF ini dilindungi kata sandi. Unggah ulang tanpa kata sandi."
NO_TEXT_MESSAGE = (
    "PDF ini tidak berisi teks yang dapat dibaca; tampaknya hasil pindai (scan) tanpa lapisan teks. "
    "Unggah PDF yang berisi teks, misalnya hasil simpan langsung dari Word sebagai PDF."
)

# PDFium must never be called from two threads at once, not even for different documents.
_PDFIUM_LOCK = threading.Lock()

_BLANK_LINES = re.compile(r"\n\s*\n")


def paragraphs(text: str) -> list[Block]:
    """Paragraph blocks of a page's text: split at blank lines, single line breaks kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [
        Block(BlockKind.PARAGRAPH, paragraph.strip())
        for paragraph in _BLANK_LINES.split(text)
        if paragraph.strip()
    ]


def _page_text(document: pdfium.PdfDocument, index: int) -> str:
    """Text of one page; its page and textpage are closed at once so memory stays flat."""
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            return textpage.get_text_range()
        finally:
            textpage.close()
    finally:
        page.close()


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if error.err_code in LOCKED_ERRORS:
            raise ExtractionFailure(Status.ENCRYPTED, ENCRYPTED_MESSAGE, describe(error)) from error
        raise corrupt(error, FORMAT_LABEL) from error


def read(data: bytes, *, max_pages: int) -> list[Page]:
    """Every page, blank ones included (empty block list) so page numbers stay true."""
    with _PDFIUM_LOCK:
        document = _open(data)
        try:
            page_count = len(document)
            if page_count > max_pages:
                raise too_many_pages(page_count, max_pages)
            pages = [
                Page(index + 1, paragraphs(_page_text(document, index)), TextSource.TEXT_LAYER)
                for index in range(page_count)
            ]
        except pdfium.PdfiumError as error:
            raise corrupt(error, FORMAT_LABEL) from error
        finally:
            document.close()
    return with_text(pages, NO_TEXT_MESSAGE)
