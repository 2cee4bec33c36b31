"""PowerPoint (PPTX) text, one page per slide: its shapes in drawing order (text boxes, tables,
grouped shapes), then the speaker notes, where presenters often write what a slide shows.
"""
from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator

import pptx
from lxml import etree
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.exc import PackageNotFoundError
from pptx.shapes.base import BaseShape
from pptx.slide import Slide

from extractors import packages
from extractors.document import CELL_SEPARATOR, ROW_SEPARATOR, Block, BlockKind, Page, TextSource
from extractors.failures import corrupt, too_many_pages, with_text
from extractors.limits import ExtractionLimits

FORMAT_LABEL = "PowerPoint (PPTX)"
NO_TEXT_MESSAGE = (
    "Presentasi PowerPoint ini tidak berisi teks. Jika isinya gambar atau tangkapan layar, "
    "simpan sebagai PDF lalu unggah lagi."
)

LINE_BREAK = "\v"  # python-pptx's text for a soft line break (Shift+Enter)

# What python-pptx raises for a presentation it cannot read.
UNREADABLE_PRESENTATION = (
    PackageNotFoundError, zipfile.BadZipFile, zlib.error, KeyError, ValueError, etree.XMLSyntaxError,
)  # fmt: skip


def _shape_blocks(shapes: Iterable[BaseShape]) -> Iterator[Block]:
    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shape_blocks(shape.shapes)
        elif shape.has_text_frame:
            yield Block(BlockKind.PARAGRAPH, shape.text_frame.text.replace(LINE_BREAK, "\n"))
        elif shape.has_table:
            rows = (
                CELL_SEPARATOR.join(" ".join(cell.text.split()) for cell in row.cells if not cell.is_spanned)
                for row in shape.table.rows
            )
            yield Block(BlockKind.TABLE, ROW_SEPARATOR.join(row for row in rows if row.strip(" |")))


def _slide_blocks(slide: Slide) -> list[Block]:
    blocks = list(_shape_blocks(slide.shapes))
    if slide.has_notes_slide and (notes := slide.notes_slide.notes_text_frame) is not None:
        blocks.append(Block(BlockKind.PARAGRAPH, notes.text.replace(LINE_BREAK, "\n")))
    return [Block(block.kind, block.text.strip()) for block in blocks if block.text.strip()]


def read(data: bytes, limits: ExtractionLimits) -> list[Page]:
    """Slides in presentation order, numbered as PowerPoint numbers them."""
    packages.check(data, limits, FORMAT_LABEL)
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
        slides = list(presentation.slides)
        if len(slides) > limits.max_pages:
            raise too_many_pages(len(slides), limits.max_pages)
        pages = [Page(number, _slide_blocks(slide), TextSource.DOCUMENT) for number, slide in enumerate(slides, 1)]
    except UNREADABLE_PRESENTATION as error:
        raise corrupt(error, FORMAT_LABEL) from error
    return with_text(pages, NO_TEXT_MESSAGE)
