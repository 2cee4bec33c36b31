"""Word (DOCX) text in reading order: headers, body paragraphs and tables, footers; pages at explicit page breaks.

A DOCX has no fixed pages (Word lays them out when it renders), so the only page numbers
a reader can cite reliably are those the author forced with a page break (Ctrl+Enter).

The WordprocessingML is walked directly rather than through python-docx's paragraphs and
runs, which skip text an SKPD template is full of: content controls (w:sdt, the grey
fill-in fields of official forms), tracked insertions (w:ins), fields, text boxes. Deleted
text (w:del) and field codes (w:instrText) are left out; a text box is read once, not
again from its VML fallback (mc:Fallback).
"""
from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator

import docx
from docx.document import Document as WordDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.section import Section
from lxml import etree

from extractors import packages
from extractors.document import Block, BlockKind, Page, TextSource, table_text
from extractors.failures import corrupt, too_many_pages, with_text
from extractors.limits import ExtractionLimits

FORMAT_LABEL = "Word (DOCX)"
NO_TEXT_MESSAGE = (
    "Dokumen Word ini tidak berisi teks. Periksa apakah berkas yang benar sudah diunggah, lalu unggah lagi."
)

# What python-docx's own parser raises for a package that is not a sound DOCX.
UNREADABLE_PACKAGE = (
    PackageNotFoundError,
    zipfile.BadZipFile,
    zlib.error,
    KeyError,  # a part named in the package's relationships is missing
    ValueError,  # main part of another content type (template, macro document)
    etree.XMLSyntaxError,
)

MARKUP_COMPATIBILITY = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
MATH = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"

P, TBL, TR, TC = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
BR, BREAK_TYPE, PAGE_BREAK = qn("w:br"), qn("w:type"), "page"
SECTION_END = f"{qn('w:pPr')}/{qn('w:sectPr')}"
VERTICAL_MERGE = f"{qn('w:tcPr')}/{qn('w:vMerge')}"
MERGE_VALUE, MERGE_RESTART = qn("w:val"), "restart"
BLOCKS, ROWS, CELLS = frozenset({P, TBL}), frozenset({TR}), frozenset({TC})

# Run content that is text, and what it reads as.
TEXT = frozenset({qn("w:t"), f"{MATH}t"})
CHARACTERS = {qn("w:tab"): "\t", qn("w:ptab"): "\t", qn("w:cr"): "\n", qn("w:noBreakHyphen"): "-"}
# Never text a reader sees: deletions, moved-away text, field codes, properties, duplicate fallbacks.
HIDDEN = frozenset(
    {qn("w:del"), qn("w:moveFrom"), qn("w:instrText"), qn("w:pPr"), qn("w:rPr"), qn("w:sdtPr"),
     f"{MARKUP_COMPATIBILITY}Fallback"}
)  # fmt: skip
# Elements that only wrap blocks, rows or cells (content controls, custom XML): their content counts.
WRAPPERS = frozenset({qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")})

# Header and footer kinds by the python-docx Section attribute that holds them.
FIRST_PAGE, EVEN_PAGE = "first_page", "even_page"
HEADERS = {FIRST_PAGE: "first_page_header", "default": "header", EVEN_PAGE: "even_page_header"}
FOOTERS = {FIRST_PAGE: "first_page_footer", "default": "footer", EVEN_PAGE: "even_page_footer"}


def _within(element: etree._Element, tags: frozenset[str]) -> Iterator[etree._Element]:
    """Children with one of `tags`, looking through wrappers (a row inside a content control, say)."""
    for child in element:
        if child.tag in tags:
            yield child
        elif child.tag in WRAPPERS:
            yield from _within(child, tags)


def _inline(element: etree._Element, segments: list[list[str]]) -> None:
    """Append the element's visible text to the last segment; a page break opens a new one."""
    for child in element:
        tag = child.tag
        if tag in TEXT:
            segments[-1].append(child.text or "")
        elif tag in CHARACTERS:
            segments[-1].append(CHARACTERS[tag])
        elif tag == BR:
            if child.get(BREAK_TYPE) == PAGE_BREAK:
                segments.append([])
            else:
                segments[-1].append("\n")
        elif tag == P:  # a paragraph of a text box anchored here
            segments[-1].append("\n")
            _inline(child, segments)
        elif tag not in HIDDEN and isinstance(tag, str):  # comments and processing instructions have no str tag
            _inline(child, segments)


def _segments(paragraph: etree._Element) -> list[str]:
    """The paragraph's text cut at explicit page breaks: one segment more than there are breaks."""
    segments: list[list[str]] = [[]]
    _inline(paragraph, segments)
    return ["".join(parts) for parts in segments]


def _continues_merge(cell: etree._Element) -> bool:
    """A cell under the one a vertical merge started in (its text is written there)."""
    merge = cell.find(VERTICAL_MERGE)
    return merge is not None and merge.get(MERGE_VALUE) != MERGE_RESTART


class _Story:
    """Blocks gathered in reading order onto the current page; an explicit page break opens the next one."""

    def __init__(self) -> None:
        self._pages: list[list[Block]] = [[]]

    def add(self, kind: BlockKind, text: str) -> None:
        if text := text.strip():
            self._pages[-1].append(Block(kind, text))

    def turn(self, count: int = 1) -> None:
        self._pages.extend([] for _ in range(count))

    def blocks(self) -> list[Block]:
        return [block for page in self._pages for block in page]

    def pages(self) -> list[Page]:
        return [Page(number, blocks, TextSource.DOCUMENT) for number, blocks in enumerate(self._pages, start=1)]

    def read(self, container: etree._Element) -> None:
        """Paragraphs and tables of a body, header, footer, cell or content control, in order."""
        for element in _within(container, BLOCKS):
            if element.tag == P:
                self.paragraph(element)
            else:
                self.table(element)

    def paragraph(self, paragraph: etree._Element) -> None:
        first, *after_breaks = _segments(paragraph)
        self.add(BlockKind.PARAGRAPH, first)
        for segment in after_breaks:
            self.turn()
            self.add(BlockKind.PARAGRAPH, segment)

    def table(self, table: etree._Element) -> None:
        """The table's blocks, then the pages its breaks open (nested tables' breaks included, counted once)."""
        self._table_blocks(table)
        self.turn(sum(1 for br in table.iter(BR) if br.get(BREAK_TYPE) == PAGE_BREAK))

    def _table_blocks(self, table: etree._Element) -> None:
        """One TABLE block (cells joined by " | ", rows by newline), then one per nested table.

        A merged cell is one w:tc however many grid columns it spans, so it is written once; a
        vertical merge leaves an empty cell in the rows below the one it starts in.
        """
        nested: list[etree._Element] = []
        rows = [
            ["" if _continues_merge(cell) else _cell_text(cell, nested) for cell in _within(row, CELLS)]
            for row in _within(table, ROWS)
        ]
        self.add(BlockKind.TABLE, table_text(rows))
        for inner in nested:
            self._table_blocks(inner)


def _cell_text(cell: etree._Element, nested: list[etree._Element]) -> str:
    """The cell's paragraphs on one line (a row is one line); its tables go to `nested`."""
    texts: list[str] = []
    for element in _within(cell, BLOCKS):
        if element.tag == TBL:
            nested.append(element)
        else:
            texts.extend(_segments(element))
    return " ".join(" ".join(texts).split())


def _margin_blocks(document: WordDocument, section: Section, kinds: dict[str, str]) -> list[Block]:
    """The section's own headers (or footers) Word shows, each distinct text once; inherited ones were read before."""
    shown = {
        FIRST_PAGE: section.different_first_page_header_footer,
        EVEN_PAGE: document.settings.odd_and_even_pages_header_footer,
    }
    blocks: list[Block] = []
    for kind, attribute in kinds.items():
        margin = getattr(section, attribute)
        if shown.get(kind, True) and not margin.is_linked_to_previous:
            story = _Story()
            story.read(margin._element)
            blocks.extend(block for block in story.blocks() if block not in blocks)
    return blocks


def _read_body(document: WordDocument) -> list[Page]:
    """Each section's headers, its body, then its footers; a section ends at a paragraph holding w:sectPr."""
    sections = list(document.sections)
    story = _Story()

    def margins(index: int, kinds: dict[str, str]) -> None:
        if index < len(sections):
            for block in _margin_blocks(document, sections[index], kinds):
                story.add(block.kind, block.text)

    section = 0
    margins(section, HEADERS)
    for element in _within(document.element.body, BLOCKS):
        if element.tag == TBL:
            story.table(element)
            continue
        story.paragraph(element)
        if element.find(SECTION_END) is not None and section + 1 < len(sections):
            margins(section, FOOTERS)
            section += 1
            margins(section, HEADERS)
    margins(section, FOOTERS)
    return story.pages()


def read(data: bytes, limits: ExtractionLimits) -> list[Page]:
    """Headers, body paragraphs and tables, footers, in document order, on pages numbered from 1."""
    packages.check(data, limits, FORMAT_LABEL)
    try:
        document = docx.Document(io.BytesIO(data))
        pages = _read_body(document)
    except UNREADABLE_PACKAGE as error:
        raise corrupt(error, FORMAT_LABEL) from error
    if len(pages) > limits.max_pages:
        raise too_many_pages(len(pages), limits.max_pages)
    return with_text(pages, NO_TEXT_MESSAGE)
