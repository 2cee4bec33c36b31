"""Ruled tables of PDF pages as TABLE blocks ("cell | cell" rows), with pdfplumber, when the operator asks.

pdfplumber parses the PDF again in pure Python: on the 61 real uploads finding tables cost
~60 ms per candidate page, ten times pdfium's whole text layer, so it is off by default
(setting pdf_tables) and, when on, only asked about pages whose drawing has enough path
objects to be a ruled table. pdfium's text already holds every word of a table, only not
its rows; what this adds is row structure, for readers who quote a budget line.
"""
from __future__ import annotations

import io
import logging

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.page import Page as PlumberPage
from pdfplumber.table import Table

from extractors.document import Block, BlockKind, table_text
from extractors.failures import describe

logger = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # x0, top, x1, bottom, as pdfplumber gives them


# A ruled table draws a line per row and column, or a rectangle per cell (4 for the smallest
# table); a letterhead draws one or two lines.
MIN_RULES = 4
# Objects looked at per page for rules; a page of thousands of vector shapes is a drawing, not a table.
MAX_OBJECTS_SCANNED = 5000


def _ruled(page: pdfium.PdfPage) -> bool:
    """Whether the page draws enough paths to hold a ruled table (raw calls: no Python object per shape)."""
    count = min(pdfium_c.FPDFPage_CountObjects(page), MAX_OBJECTS_SCANNED)
    rules = 0
    for index in range(count):
        if pdfium_c.FPDFPageObj_GetType(pdfium_c.FPDFPage_GetObject(page, index)) == pdfium_c.FPDF_PAGEOBJ_PATH:
            rules += 1
            if rules >= MIN_RULES:
                return True
    return False


def _table_text(table: Table) -> str:
    """Rows of cells; a merged cell (None past its first grid column) is written once."""
    return table_text([" ".join(cell.split()) for cell in row if cell is not None] for row in table.extract())


def _clipped(box: Box, page: Box) -> Box:
    """A table's box cut to the page: ruling lines may be drawn past its edge, and pdfplumber refuses such crops."""
    return max(box[0], page[0]), max(box[1], page[1]), min(box[2], page[2]), min(box[3], page[3])


def _page_blocks(page: PlumberPage, tables: list[Table]) -> list[Block]:
    """Text and tables top to bottom: the text above each table, the table, then the rest.

    Text beside a table (same height) comes right after it, so no word is lost.
    """
    ordered = sorted(tables, key=lambda table: table.bbox[1])
    boxes = [_clipped(table.bbox, page.bbox) for table in ordered]
    outside = page
    for box in boxes:
        outside = outside.outside_bbox(box)
    left, page_top, right, page_bottom = page.bbox
    cuts = [page_top, *(box[1] for box in boxes), page_bottom]
    blocks: list[Block] = []
    for index, (top, bottom) in enumerate(zip(cuts, cuts[1:])):
        if index:
            blocks.append(Block(BlockKind.TABLE, _table_text(ordered[index - 1])))
        if bottom > top and (text := outside.within_bbox((left, top, right, bottom)).extract_text().strip()):
            blocks.append(Block(BlockKind.PARAGRAPH, text))
    return [block for block in blocks if block.text]


class TableReader:
    """Opens the PDF with pdfplumber only when a page first looks ruled; closes it on exit."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._document: pdfplumber.PDF | None = None

    def __enter__(self) -> TableReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._document is not None:
            self._document.close()

    def blocks(self, index: int, page: pdfium.PdfPage) -> list[Block] | None:
        """The page's blocks with its tables as rows, or None when it has no ruled table.

        pdfium has read the page already, so a page pdfplumber chokes on keeps that text:
        rows are an improvement, never a reason to lose a document.
        """
        if not _ruled(page):
            return None
        try:
            if self._document is None:
                self._document = pdfplumber.open(io.BytesIO(self._data))
            plumber_page = self._document.pages[index]
            try:
                tables = plumber_page.find_tables()
                return _page_blocks(plumber_page, tables) if tables else None
            finally:
                plumber_page.close()
        except Exception as error:  # pdfminer and pdfplumber raise many kinds on odd pages
            logger.warning("tables of page %d not read, its text kept: %s", index + 1, describe(error))
            return None
