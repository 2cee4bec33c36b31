"""Demo submissions: written for this project and rendered to real PDF and DOCX files at run time."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from docx import Document as DocxDocument
from docx.enum.text import WD_BREAK
from fpdf import FPDF

PDF_FONT = "Helvetica"
PDF_TITLE_SIZE = 13
PDF_BODY_SIZE = 11
PDF_LINE_HEIGHT = 6


@dataclass(frozen=True)
class Sample:
    skpd: str
    filename: str
    format: str  # "pdf", "docx", or "bytes" for a deliberately unreadable upload
    expected_indicators: tuple[int, ...]
    title: str = ""
    pages: tuple[tuple[str, ...], ...] = ()
    bytes_base64: str = ""


def load_samples() -> list[Sample]:
    data = json.loads(files("spbe_evidence").joinpath("samples/demo.json").read_text(encoding="utf-8"))
    return [
        Sample(
            skpd=item["skpd"],
            filename=item["filename"],
            format=item["format"],
            expected_indicators=tuple(item.get("expected_indicators", ())),
            title=item.get("title", ""),
            pages=tuple(tuple(page) for page in item.get("pages", ())),
            bytes_base64=item.get("bytes_base64", ""),
        )
        for item in data["samples"]
    ]


def write_sample(sample: Sample, folder: Path) -> Path:
    """Render one sample into folder/filename (one page per entry of `pages`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / sample.filename
    if sample.format == "pdf":
        _write_pdf(sample, path)
    elif sample.format == "docx":
        _write_docx(sample, path)
    else:
        path.write_bytes(base64.b64decode(sample.bytes_base64))
    return path


def _write_pdf(sample: Sample, path: Path) -> None:
    pdf = FPDF()
    pdf.set_title(sample.title)
    for number, paragraphs in enumerate(sample.pages):
        pdf.add_page()
        if number == 0:
            pdf.set_font(PDF_FONT, style="B", size=PDF_TITLE_SIZE)
            pdf.multi_cell(0, PDF_LINE_HEIGHT, sample.title, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(PDF_LINE_HEIGHT)
        pdf.set_font(PDF_FONT, size=PDF_BODY_SIZE)
        for paragraph in paragraphs:
            pdf.multi_cell(0, PDF_LINE_HEIGHT, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(PDF_LINE_HEIGHT / 2)
    pdf.output(str(path))


def _write_docx(sample: Sample, path: Path) -> None:
    document = DocxDocument()
    document.core_properties.title = sample.title
    document.add_heading(sample.title, level=1)
    for number, paragraphs in enumerate(sample.pages):
        if number:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    document.save(str(path))
