"""PDF text page by page: pdfium's text layer (fast, tolerant of what office scanners write), OCR
for pages that are pictures, and, when the operator turns it on, pdfplumber for ruled tables.

A page is sent to OCR when an image covers much of it and its text layer is missing (a scan,
a screenshot pasted into a manual) or garbage (a scanner's own bad OCR layer, as on the
attendance list of a real upload: "2V Jantari2L2l", "Rapat Eualuarr 91SE"). pdfplumber
reads the same text layer as pdfium, so it cannot mend such pages; only OCR can. Everything
else keeps its text layer, so a mixed PDF OCRs only the pages that need it.
"""
from __future__ import annotations

import contextlib
import math
import re
import threading
from collections.abc import Callable

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from extractors import ocr, pdftables
from extractors.document import Block, BlockKind, Page, Status, TextSource
from extractors.failures import ExtractionFailure, corrupt, describe, too_many_pages
from extractors.limits import ExtractionLimits

FORMAT_LABEL = "PDF"

# pdfium's load errors that mean "locked", as opposed to "broken".
LOCKED_ERRORS = frozenset({pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY})

ENCRYPTED_MESSAGE = "Berkas PDF ini dilindungi kata sandi. Unggah ulang tanpa kata sandi."
NO_TEXT_MESSAGE = (
    "PDF ini tidak berisi teks yang dapat dibaca, juga setelah halaman hasil pindai (scan) dibaca otomatis. "
    "Pastikan hasil pindai jelas dan tegak, atau unggah PDF yang berisi teks, "
    "misalnya hasil simpan langsung dari Word sebagai PDF."
)

# When a page is a picture of text. Measured on the 61 real uploads (1,568 pages): scans have
# no text at all and images over 60-100% of the page; pages of photos with captions keep
# their 90+ characters of text layer and are not OCRed.
MIN_TEXT_LAYER_CHARS = 32  # fewer visible characters: no real text layer
MIN_IMAGE_COVERAGE = 0.3  # share of the page covered by images for it to be a scan or screenshot
MIN_WORD_SHARE = 0.5  # fewer of the tokens look like words (3+ letters): a garbage OCR layer
MIN_TOKENS_JUDGED = 8  # too few tokens to judge a text layer by its words
POINTS_PER_INCH = 72

_TOKEN = re.compile(r"\S+")
_WORD = re.compile(r"^\W*[^\W\d_]{3,}\W*$")

# PDFium must never be called from two threads at once, not even for different documents.
_PDFIUM_LOCK = threading.Lock()

_BLANK_LINES = re.compile(r"\n\s*\n")
# pdfium's mark for a hyphen it found at a line's end (FPDFText_IsHyphen), a noncharacter no XML file may hold:
# "e-Government" broken after its hyphen comes back as "e\ufffeGovernment", and "e-" words show an e-service.
PDFIUM_LINE_END_HYPHEN = "\ufffe"


def paragraphs(text: str) -> list[Block]:
    """Paragraph blocks of a page's text: split at blank lines, single line breaks kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace(PDFIUM_LINE_END_HYPHEN, "-")
    return [
        Block(BlockKind.PARAGRAPH, paragraph.strip())
        for paragraph in _BLANK_LINES.split(text)
        if paragraph.strip()
    ]


def _looks_garbled(text: str) -> bool:
    """A text layer whose tokens are mostly not words ("I;I Flrr 4p rF"): a scanner's failed OCR."""
    tokens = [token for token in _TOKEN.findall(text) if any(char.isalpha() for char in token)]
    if len(tokens) < MIN_TOKENS_JUDGED:
        return False
    return sum(1 for token in tokens if _WORD.match(token)) / len(tokens) < MIN_WORD_SHARE


def _image_coverage(page: pdfium.PdfPage) -> float:
    """Share of the page under images (overlaps counted twice, so capped at 1)."""
    width, height = page.get_size()
    covered = 0.0
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = image.get_bounds()
        covered += max(0.0, min(right, width) - max(left, 0.0)) * max(0.0, min(top, height) - max(bottom, 0.0))
    return min(1.0, covered / (width * height)) if width and height else 0.0


def _render_scale(page: pdfium.PdfPage, limits: ExtractionLimits) -> float:
    """ocr_dpi as a render scale, lowered for a huge page so the picture stays under max_image_pixels."""
    width, height = page.get_size()
    wanted = limits.ocr_dpi / POINTS_PER_INCH
    return min(wanted, math.sqrt(limits.max_image_pixels / max(width * height, 1.0)))


def _renderer(page: pdfium.PdfPage, scale: float) -> Callable[[], Image.Image]:
    return lambda: page.render(scale=scale, grayscale=True).to_pil()


def _read_page(
    document: pdfium.PdfDocument,
    index: int,
    pool: ocr.OcrPool,
    tables: pdftables.TableReader | None,
    limits: ExtractionLimits,
) -> Callable[[], Page]:
    """A promise of one page (OCR may still be running); the page is closed before returning."""
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
        known = Page(index + 1, paragraphs(text), TextSource.TEXT_LAYER)
        garbled = _looks_garbled(text)
        thin = len("".join(text.split())) < MIN_TEXT_LAYER_CHARS
        if (garbled or thin) and _image_coverage(page) >= MIN_IMAGE_COVERAGE:
            scale = _render_scale(page, limits)
            without_ocr = Page(known.number, [], known.source) if garbled else known  # garbage is no fallback
            return pool.page(without_ocr, _renderer(page, scale), round(scale * POINTS_PER_INCH))
        if tables is not None and (blocks := tables.blocks(index, page)):
            known = Page(known.number, blocks, TextSource.TEXT_LAYER)
        return lambda: known
    finally:
        page.close()


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if error.err_code in LOCKED_ERRORS:
            raise ExtractionFailure(Status.ENCRYPTED, ENCRYPTED_MESSAGE, describe(error)) from error
        raise corrupt(error, FORMAT_LABEL) from error


def read(data: bytes, limits: ExtractionLimits) -> list[Page]:
    """Every page, blank ones included (empty block list) so page numbers stay true."""
    with _PDFIUM_LOCK:
        document = _open(data)
        try:
            page_count = len(document)
            if page_count > limits.max_pages:
                raise too_many_pages(page_count, limits.max_pages)
            tables = pdftables.TableReader(data) if limits.pdf_tables else None
            with ocr.OcrPool(limits) as pool, tables or contextlib.nullcontext():
                promised = [_read_page(document, index, pool, tables, limits) for index in range(page_count)]
                pages = [promise() for promise in promised]
        except pdfium.PdfiumError as error:
            raise corrupt(error, FORMAT_LABEL) from error
        finally:
            document.close()
    return ocr.require_text(pages, NO_TEXT_MESSAGE, limits)
