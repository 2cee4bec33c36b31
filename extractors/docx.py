"""Word (DOCX) text in reading order: paragraphs and tables, pages counted at explicit page breaks.

A DOCX has no fixed pages (Word lays them out when it renders), so the only page numbers
a reader can cite reliably are those the author forced with a page break (Ctrl+Enter).
"""
from __future__ import annotations

import io
import zipfile
import zlib

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.table import CT_Tc
from docx.oxml.text.run import CT_Br
from docx.table import Table, _Cell
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph
from lxml import etree

from extractors.document import Block, BlockKind, Page, TextSource
from extractors.failures import corrupt, too_many_pages, with_text

FORMAT_LABEL = "Word (DOCX)"
NO_TEXT_MESSAGE = (
    "Dokumen Word ini tidak berisi teks. Periksa apakah berkas yang benar sudah diunggah, lalu unggah lagi."
)

CELL_SEPARATOR = " | "
ROW_SEPARATOR = "\n"

# What python-docx's own parser raises for a package that is not a sound DOCX.
UNREADABLE_PACKAGE = (
    PackageNotFoundError,
    zipfile.BadZipFile,
    zlib.error,
    KeyError,  # a part named in the package's relationships is missing
    ValueError,  # main part of another content type (template, macro document)
    etree.XMLSyntaxError,
)

# Run children that carry text (the set python-docx reads for run.text); page breaks are w:br.
RUN_TEXT_ELEMENTS = "w:br | w:cr | w:noBreakHyphen | w:ptab | w:t | w:tab"
PAGE_BREAK = "page"
PAGE_BREAKS_WITHIN = ".//w:br[@w:type='page']"


class _PageCollector:
    """Blocks gathered onto the current page; an explicit page break opens the next one."""

    def __init__(self) -> None:
        self._pages: list[list[Block]] = [[]]

    def add(self, kind: BlockKind, text: str) -> None:
        if text := text.strip():
            self._pages[-1].append(Block(kind, text))

    def turn(self, count: int = 1) -> None:
        self._pages.extend([] for _ in range(count))

    def pages(self) -> list[Page]:
        return [Page(number, blocks, TextSource.DOCUMENT) for number, blocks in enumerate(self._pages, start=1)]


def _segments(paragraph: Paragraph) -> list[str]:
    """The paragraph's text cut at explicit page breaks: one segment more than there are breaks."""
    segments: list[list[str]] = [[]]
    for item in paragraph.iter_inner_content():
        for run in item.runs if isinstance(item, Hyperlink) else [item]:
            for element in run._r.xpath(RUN_TEXT_ELEMENTS):
                if isinstance(element, CT_Br) and element.type == PAGE_BREAK:
                    segments.append([])
                else:
                    segments[-1].append(str(element))
    return ["".join(parts) for parts in segments]


def _cell_text(cell: _Cell, nested: list[Table]) -> str:
    """The cell's paragraphs on one line (a row is one line); its tables go to `nested`."""
    texts: list[str] = []
    for item in cell.iter_inner_content():
        if isinstance(item, Table):
            nested.append(item)
        else:
            texts.extend(_segments(item))
    return " ".join(" ".join(texts).split())


def _table_blocks(table: Table) -> list[Block]:
    """One TABLE block (cells joined by " | ", rows by newline), then one per nested table.

    python-docx gives a merged cell once per grid column it spans and, for a vertical
    merge, again in every row below; each is written once, where it starts.
    """
    rows: list[str] = []
    nested: list[Table] = []
    written: set[CT_Tc] = set()  # held here, so lxml hands back these same objects
    for row in table.rows:
        cells: list[str] = []
        previous: CT_Tc | None = None
        for cell in row.cells:
            if cell._tc is previous:
                continue  # the same cell again, for the next grid column it spans
            previous = cell._tc
            if previous in written:
                cells.append("")  # a vertical merge, written in the row where it starts
                continue
            written.add(previous)
            cells.append(_cell_text(cell, nested))
        if any(cells):
            rows.append(CELL_SEPARATOR.join(cells))
    blocks = [Block(BlockKind.TABLE, ROW_SEPARATOR.join(rows))]
    for inner in nested:
        blocks.extend(_table_blocks(inner))
    return blocks


def read(data: bytes, *, max_pages: int) -> list[Page]:
    """Body paragraphs and tables in document order, on pages numbered from 1."""
    try:
        document = docx.Document(io.BytesIO(data))
    except UNREADABLE_PACKAGE as error:
        raise corrupt(error, FORMAT_LABEL) from error
    collector = _PageCollector()
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for block in _table_blocks(item):
                collector.add(block.kind, block.text)
            collector.turn(len(item._tbl.xpath(PAGE_BREAKS_WITHIN)))
        else:
            first, *after_breaks = _segments(item)
            collector.add(BlockKind.PARAGRAPH, first)
            for segment in after_breaks:
                collector.turn()
                collector.add(BlockKind.PARAGRAPH, segment)
    pages = collector.pages()
    if len(pages) > max_pages:
        raise too_many_pages(len(pages), max_pages)
    return with_text(pages, NO_TEXT_MESSAGE)
