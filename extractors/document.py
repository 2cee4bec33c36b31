"""The one document shape every extractor returns, whatever the format or failure."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum

CELL_SEPARATOR = " | "
ROW_SEPARATOR = "\n"


class Status(StrEnum):
    """Outcome of reading an upload; everything but OK means there is no usable text."""

    OK = "ok"
    EMPTY = "empty"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    UNSUPPORTED = "unsupported"
    TOO_LARGE = "too_large"


class BlockKind(StrEnum):
    PARAGRAPH = "paragraph"
    TABLE = "table"


class TextSource(StrEnum):
    """How a page's text was obtained, so a reviewer knows how far to trust it."""

    TEXT_LAYER = "text_layer"  # a PDF's own text
    DOCUMENT = "document"  # structured formats (DOCX, XLSX, PPTX): text read from the file's XML
    OCR = "ocr"  # Tesseract read a scan or an image; see Page.ocr_confidence
    OCR_SKIPPED = "ocr_skipped"  # needed OCR but was not read (page cap, time budget, no Tesseract)


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str


def table_text(rows: Iterable[Sequence[str]]) -> str:
    """A TABLE block's text, the same for every format: cells joined by " | ", rows by newline, empty rows left out."""
    return ROW_SEPARATOR.join(CELL_SEPARATOR.join(cells) for cells in rows if any(cells))


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, as a reader would cite it
    blocks: list[Block]
    source: TextSource
    ocr_confidence: float | None = None  # Tesseract's mean word confidence, 0-100, for OCR pages

    @property
    def text(self) -> str:
        return "\n".join(block.text for block in self.blocks)


@dataclass(frozen=True)
class Document:
    """Result of extraction: pages of blocks when status is OK, otherwise a reason.

    `message` is for the SKPD clerk (Bahasa Indonesia), `detail` for the operator's log. An OK
    document may carry them too, as a note: some scanned pages were not read, say.
    """

    status: Status
    message: str = ""
    detail: str = ""
    kind: str | None = None  # "pdf", "docx", ... as sniffed from the bytes
    pages: list[Page] = field(default_factory=list)
    # A program this machine lacks that would have read the upload (Tesseract, LibreOffice): then the outcome is
    # the machine's, not the file's, and is read again once the operator installs it.
    missing_tool: str = ""

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Document:
        pages = [
            Page(
                number=page["number"],
                blocks=[Block(BlockKind(b["kind"]), b["text"]) for b in page["blocks"]],
                source=TextSource(page["source"]),
                ocr_confidence=page.get("ocr_confidence"),  # absent from dicts stored before OCR
            )
            for page in data.get("pages", [])
        ]
        return cls(
            status=Status(data["status"]),
            message=data.get("message", ""),
            detail=data.get("detail", ""),
            kind=data.get("kind"),
            pages=pages,
            missing_tool=data.get("missing_tool", ""),
        )
