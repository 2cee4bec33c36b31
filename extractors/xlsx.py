"""Excel (XLSX) cell values, one page per worksheet: the sheet's name, then its rows as a table.

Budget sheets and application inventories arrive as workbooks. Cells are read as last saved
(data_only: a formula gives its cached result, as the clerk saw it), streamed in read-only
mode so a large sheet is never held whole, and external links are not even loaded.
"""
from __future__ import annotations

import io
import zipfile
import zlib
from datetime import date, datetime, time

import openpyxl
from lxml import etree
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from extractors import packages
from extractors.document import Block, BlockKind, Page, TextSource, table_text
from extractors.failures import corrupt, too_many_pages, with_text
from extractors.limits import ExtractionLimits

FORMAT_LABEL = "Excel (XLSX)"
NO_TEXT_MESSAGE = (
    "Berkas Excel ini tidak berisi data. Periksa apakah berkas yang benar sudah diunggah, lalu unggah lagi."
)


# What openpyxl raises for a workbook it cannot read.
UNREADABLE_WORKBOOK = (
    InvalidFileException,
    zipfile.BadZipFile,
    zlib.error,
    KeyError,  # a part the workbook names is missing
    ValueError,
    TypeError,  # a malformed attribute value
    OSError,  # no workbook part
    etree.XMLSyntaxError,
)

CellValue = str | int | float | bool | date | datetime | time | None


def _cell_text(value: CellValue) -> str:
    """A value as the sheet shows it: 12 not 12.0, dates without a midnight time."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time():
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return " ".join(str(value).split())


def _rows(sheet: ReadOnlyWorksheet) -> list[list[str]]:
    """Rows with a value, trailing empty cells dropped; a merged cell has its value in its first cell only."""
    rows = []
    for values in sheet.iter_rows(values_only=True):
        cells = [_cell_text(value) for value in values]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            rows.append(cells)
    return rows


def read(data: bytes, limits: ExtractionLimits) -> list[Page]:
    """Worksheets in workbook order; a sheet without values is a page without blocks."""
    packages.check(data, limits, FORMAT_LABEL)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except UNREADABLE_WORKBOOK as error:
        raise corrupt(error, FORMAT_LABEL) from error
    try:
        sheets = workbook.worksheets
        if len(sheets) > limits.max_pages:
            raise too_many_pages(len(sheets), limits.max_pages)
        pages = []
        for number, sheet in enumerate(sheets, start=1):
            rows = _rows(sheet)
            blocks = [Block(BlockKind.PARAGRAPH, sheet.title), Block(BlockKind.TABLE, table_text(rows))]
            pages.append(Page(number, blocks if rows else [], TextSource.DOCUMENT))
    except UNREADABLE_WORKBOOK as error:
        raise corrupt(error, FORMAT_LABEL) from error
    finally:
        workbook.close()
    return with_text(pages, NO_TEXT_MESSAGE)
