"""Extraction speed and memory per format, on a corpus this script generates and on a folder of real uploads.

    .venv/bin/python bench/bench_extraction.py                                   # generated corpus
    .venv/bin/python bench/bench_extraction.py --folder /work/shared/devset/files # and real uploads

Each group of files is measured in a fresh Python process, so its peak RSS is its own: text
PDFs, a 500-page PDF, scanned PDFs, DOCX, XLSX, PPTX, screenshots. Extraction runs in that
process (time limit 0) to measure the readers; one more row reads the text PDFs through the
worker process, as services do, to show what isolation costs. Next to every PDF group stands
the raw pypdfium2 rate (open, text of each page, close) on the same files in the same
process. For a real folder the script also lists, per file, how its text was obtained, and
spot-checks the OCR against the texts of items.jsonl (same ids; those came from OCR too).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import docx
import openpyxl
import pptx
import pypdfium2 as pdfium
from fpdf import FPDF
from pptx.util import Inches

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extractors import DEFAULT_LIMITS, Document, TextSource, extract_path  # noqa: E402
from extractors.ocr_quality import character_error_rate, word_recall  # noqa: E402
from extractors.pdf import POINTS_PER_INCH  # noqa: E402

KIBIBYTES_PER_MEBIBYTE = 1024
SCAN_DPI = 200  # what office scanners are set to
SCREENSHOT_DPI = 110  # letters of a screen capture: ~13 px
REFERENCE_WORD_CUT = 4000  # items.jsonl texts were cut at 4,000 words
TEXT_PDFS = "text PDF (20 x 25 pages)"

SENTENCES = [
    "Pemerintah daerah menyusun arsitektur SPBE yang memuat domain proses bisnis, data, aplikasi dan infrastruktur.",
    "Tim koordinasi SPBE melaksanakan evaluasi mandiri setiap tahun dan melaporkan hasilnya kepada wali kota.",
    "Layanan pengaduan masyarakat dapat diakses secara daring melalui portal resmi pemerintah kota.",
    "Pusat data daerah dikelola oleh dinas komunikasi dan informatika dengan standar keamanan informasi.",
    "Setiap perangkat daerah wajib menggunakan sistem naskah dinas elektronik untuk surat-menyurat resmi.",
    "Peta rencana SPBE menetapkan prioritas pembangunan aplikasi umum dan aplikasi khusus selama lima tahun.",
    "Data yang dihasilkan perangkat daerah dibagipakaikan melalui sistem penghubung layanan pemerintah.",
    "Audit teknologi informasi dan komunikasi dilakukan oleh auditor internal bersama lembaga terkait.",
    "Anggaran belanja teknologi informasi direncanakan terpadu melalui mekanisme perencanaan daerah.",
    "Manajemen risiko SPBE mencakup identifikasi, analisis, evaluasi dan penanganan risiko layanan digital.",
]


def prose(rng: random.Random, sentences: int) -> str:
    return " ".join(rng.choice(SENTENCES) for _ in range(sentences))


# --- the generated corpus --------------------------------------------------------------------


def text_pdf(path: Path, pages: int, seed: int) -> Path:
    rng = random.Random(seed)
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for _ in range(pages):
        pdf.add_page()
        for _ in range(3):
            pdf.multi_cell(0, 6, prose(rng, 5))
            pdf.ln(4)
    pdf.output(str(path))
    return path


def scanned_pdf(path: Path, pages: int, seed: int, distinct: int | None = None) -> Path:
    """Text pages rendered at SCAN_DPI to JPEG images, then bound as an image-only PDF: a scan.

    With `distinct`, only that many pictures are made and the pages cycle through them (the
    PDF stores each once), so a 500-page scan stays a small file yet renders 500 pages.
    """
    source = pdfium.PdfDocument(text_pdf(path.with_suffix(".source.pdf"), distinct or pages, seed))
    pictures = []
    for page in source:
        picture = io.BytesIO()
        page.render(scale=SCAN_DPI / POINTS_PER_INCH, grayscale=True).to_pil().save(picture, "JPEG", quality=60)
        pictures.append((picture, page.get_size()))
        page.close()
    source.close()
    path.with_suffix(".source.pdf").unlink()
    pdf = FPDF(unit="pt")
    for number in range(pages):
        picture, (width, height) = pictures[number % len(pictures)]
        pdf.add_page(format=(width, height))
        pdf.image(picture, 0, 0, w=width, h=height)
    pdf.output(str(path))
    return path


def screenshot(path: Path, seed: int) -> Path:
    source = pdfium.PdfDocument(text_pdf(path.with_suffix(".pdf"), 1, seed))
    source[0].render(scale=SCREENSHOT_DPI / POINTS_PER_INCH).to_pil().save(path, "PNG")
    source.close()
    path.with_suffix(".pdf").unlink()
    return path


def word_file(path: Path, pages: int, seed: int) -> Path:
    rng = random.Random(seed)
    document = docx.Document()
    for page in range(pages):
        document.add_paragraph(f"Bab {page + 1}", style="Heading 1")
        for _ in range(3):
            document.add_paragraph(prose(rng, 5))
        table = document.add_table(rows=4, cols=3)
        for row in table.rows:
            for cell in row.cells:
                cell.text = rng.choice(SENTENCES)[:40]
        document.add_page_break()
    document.save(path)
    return path


def workbook(path: Path, sheets: int, seed: int) -> Path:
    rng = random.Random(seed)
    book = openpyxl.Workbook()
    for number in range(sheets):
        sheet = book.active if number == 0 else book.create_sheet()
        sheet.title = f"Anggaran {number + 1}"
        sheet.append(["Kode", "Kegiatan", "Unit", "Volume", "Harga", "Jumlah"])
        for row in range(300):
            volume, price = rng.randint(1, 50), rng.randint(10, 900) * 1000
            sheet.append([f"5.2.{row}", rng.choice(SENTENCES)[:50], "Diskominfo", volume, price, volume * price])
    book.save(path)
    return path


def slides(path: Path, count: int, seed: int) -> Path:
    rng = random.Random(seed)
    deck = pptx.Presentation()
    for number in range(count):
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        slide.shapes.add_textbox(Inches(0.5), Inches(0.3), Inches(9), Inches(1)).text_frame.text = f"Paparan {number}"
        slide.shapes.add_textbox(Inches(0.5), Inches(1.3), Inches(9), Inches(2)).text_frame.text = prose(rng, 3)
        table = slide.shapes.add_table(3, 3, Inches(0.5), Inches(4), Inches(9), Inches(2)).table
        for row in table.rows:
            for cell in row.cells:
                cell.text = rng.choice(SENTENCES)[:30]
    deck.save(path)
    return path


def _many(folder: Path, name: str, count: int, make: Callable[[Path, int], Path]) -> list[Path]:
    """`count` files name-0.ext.., each made from its path and its number as the random seed."""
    stem, suffix = Path(name).stem, Path(name).suffix
    return [make(folder / f"{stem}-{number}{suffix}", number) for number in range(count)]


def generate(folder: Path) -> dict[str, list[Path]]:
    """The corpus, by group; file counts keep a run to a few minutes on 2 cores."""
    folder.mkdir(parents=True, exist_ok=True)
    long_scan = f"scanned PDF, 500 pages (OCR stops at max_ocr_pages={DEFAULT_LIMITS.max_ocr_pages})"
    return {
        TEXT_PDFS: _many(folder, "text.pdf", 20, lambda path, seed: text_pdf(path, 25, seed)),
        "text PDF, 500 pages": [text_pdf(folder / "long.pdf", 500, 500)],
        "scanned PDF (4 x 2 pages)": _many(folder, "scan.pdf", 4, lambda path, seed: scanned_pdf(path, 2, seed)),
        long_scan: [scanned_pdf(folder / "long-scan.pdf", 500, 500, distinct=5)],
        "DOCX (10 x 20 pages)": _many(folder, "word.docx", 10, lambda path, seed: word_file(path, 20, seed)),
        "XLSX (5 x 3 sheets x 300 rows)": _many(folder, "book.xlsx", 5, lambda path, seed: workbook(path, 3, seed)),
        "PPTX (5 x 15 slides)": _many(folder, "deck.pptx", 5, lambda path, seed: slides(path, 15, seed)),
        "PNG screenshots (6)": _many(folder, "screen.png", 6, screenshot),
    }


# --- measuring, in a fresh process per group ---------------------------------------------------


def raw_pdfium_seconds(paths: list[Path]) -> tuple[int, float]:
    """Pages and seconds of the bare pypdfium2 text loop on the same PDFs (bytes already in memory)."""
    datas = [path.read_bytes() for path in paths if path.suffix.lower() == ".pdf"]
    pages, started = 0, time.perf_counter()
    for data in datas:
        document = pdfium.PdfDocument(data)
        for page in document:
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
            pages += 1
        document.close()
    return pages, time.perf_counter() - started


def file_row(path: Path, document: Document, seconds: float) -> dict:
    confidences = [page.ocr_confidence for page in document.pages if page.ocr_confidence is not None]
    return {
        "file": path.name,
        "status": str(document.status),
        "pages": len(document.pages),
        "text_layer": sum(page.source is TextSource.TEXT_LAYER for page in document.pages),
        "ocr": sum(page.source is TextSource.OCR for page in document.pages),
        "ocr_skipped": sum(page.source is TextSource.OCR_SKIPPED for page in document.pages),
        "ocr_confidence": round(sum(confidences) / len(confidences), 1) if confidences else None,
        "seconds": round(seconds, 3),
        "text": document.text,
    }


def measure(paths: list[Path], isolated: bool, pdf_tables: bool) -> dict:
    """Every file read (in this process, or through the worker as services do), then the raw loop on the text PDFs."""
    limits = replace(DEFAULT_LIMITS, pdf_tables=pdf_tables)
    worker_start = None
    if isolated:  # the worker starts once per service process: timed apart from the uploads
        started = time.perf_counter()
        extract_path(paths[0], limits=limits)
        worker_start = time.perf_counter() - started
    else:
        limits = replace(limits, time_limit_seconds=0)
    for path in paths:
        path.read_bytes()  # warm the page cache for both us and the raw loop
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIBIBYTES_PER_MEBIBYTE
    files = []
    for path in paths:
        started = time.perf_counter()
        document = extract_path(path, limits=limits)
        files.append(file_row(path, document, time.perf_counter() - started))
    # Tesseract's own RSS is not here: a forked child's maximum starts at its parent's size, so
    # RUSAGE_CHILDREN would only repeat ours. Measured apart: ~90 MB for a 300 DPI A4 page.
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIBIBYTES_PER_MEBIBYTE
    text_only = [path for path, row in zip(paths, files) if _text_layer_only(row)]
    raw_pages, raw_seconds = raw_pdfium_seconds(text_only)
    return {
        "files": files,
        "peak_rss_mb": None if isolated else round(own_peak),
        "rss_before_mb": None if isolated else round(baseline),
        "raw_pages": raw_pages,
        "raw_seconds": raw_seconds,
        "worker_start_seconds": worker_start,
    }


def _text_layer_only(row: dict) -> bool:
    """A file read from its text layer alone: no page needed OCR."""
    return not row["ocr"] and not row["ocr_skipped"]


def measured(paths: list[Path], *, isolated: bool = False, pdf_tables: bool = False) -> dict:
    """measure() in a fresh interpreter, so the peak RSS is this group's alone."""
    command = [sys.executable, __file__, "--measure", *map(str, paths)]
    command += ["--isolated"] * isolated + ["--pdf-tables"] * pdf_tables
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


# --- reporting -------------------------------------------------------------------------------


def rate(pages: int, seconds: float) -> str:
    """Pages per second, whole above 10 (1,916), with decimals below (0.94)."""
    if not seconds:
        return "-"
    per_second = pages / seconds
    return f"{per_second:,.0f}" if per_second >= 10 else f"{per_second:.2f}"


def summary(name: str, result: dict) -> str:
    """One row: all pages, then text-layer files against the raw loop, then OCR files, then memory."""
    files = result["files"]
    text_rows = [row for row in files if _text_layer_only(row)]
    ocr_rows = [row for row in files if row["ocr"]]
    pages, seconds = sum(row["pages"] for row in files), sum(row["seconds"] for row in files)
    text_pages, text_seconds = sum(row["pages"] for row in text_rows), sum(row["seconds"] for row in text_rows)
    ocr_pages, ocr_seconds = sum(row["ocr"] for row in ocr_rows), sum(row["seconds"] for row in ocr_rows)
    not_read = sum(row["ocr_skipped"] for row in files)
    raw, ratio = "-", "-"
    if result["raw_pages"]:
        raw = rate(result["raw_pages"], result["raw_seconds"])
        ratio = f"{(text_pages / text_seconds) / (result['raw_pages'] / result['raw_seconds']):.2f}"
    return (
        f"| {name} | {len(files)} | {pages} | {seconds:.2f} | {rate(pages, seconds)} | "
        f"{rate(text_pages, text_seconds)} | {raw} | {ratio} | "
        f"{rate(ocr_pages, ocr_seconds)} | {not_read or '-'} | "
        f"{result['rss_before_mb'] or '-'} | {result['peak_rss_mb'] or '-'} | "
        f"{', '.join(sorted({row['status'] for row in files}))} |"
    )


SUMMARY_HEADER = (
    "| group | files | pages | s | pages/s | text-layer pages/s | raw pypdfium2 pages/s | ours/raw | OCR pages/s "
    "| pages not read (OCR budget) | RSS before MB | peak RSS MB | statuses |\n|" + "---|" * 13
)


def per_file_table(result: dict) -> str:
    lines = ["| file | status | pages | text layer | OCR | not read | mean OCR confidence | s |", "|" + "---|" * 8]
    for row in result["files"]:
        lines.append(
            f"| {row['file']} | {row['status']} | {row['pages']} | {row['text_layer']} | {row['ocr']} | "
            f"{row['ocr_skipped']} | {row['ocr_confidence'] or '-'} | {row['seconds']:.2f} |"
        )
    return "\n".join(lines)


def spot_check(result: dict, items: Path, labels: Path) -> str:
    """Our OCR text against the reference text of each scanned file (character error rate, word recall)."""
    references = {item["id"]: item["text"] for item in map(json.loads, items.read_text().splitlines())}
    ids = {name: entry["id"] for name, entry in json.loads(labels.read_text()).items()}
    lines = ["| file | OCR pages | confidence | CER vs reference | reference words found |", "|---|---|---|---|---|"]
    cers, recalls = [], []
    for row in result["files"]:
        reference = references.get(ids.get(row["file"], Path(row["file"]).stem))
        if not row["ocr"] or reference is None:
            continue
        ours = row["text"]
        if len(reference.split()) >= REFERENCE_WORD_CUT * 0.99:  # the reference was cut: compare as much of ours
            ours = " ".join(ours.split()[: len(reference.split())])
        cer, recall = character_error_rate(ours, reference), word_recall(ours, reference)
        cers.append(cer)
        recalls.append(recall)
        lines.append(f"| {row['file']} | {row['ocr']} | {row['ocr_confidence']} | {cer:.3f} | {recall:.1%} |")
    if cers:
        mean_cer, mean_recall = sum(cers) / len(cers), sum(recalls) / len(recalls)
        lines.append(f"| **mean of {len(cers)}** | | | {mean_cer:.3f} | {mean_recall:.1%} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, help="real uploads to measure as well (e.g. /work/shared/devset/files)")
    parser.add_argument(
        "--items", type=Path, help="reference texts for the OCR spot-check (default: FOLDER/../items.jsonl)"
    )
    parser.add_argument("--corpus", type=Path, help="where to write the generated corpus (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="write every figure here too")
    parser.add_argument("--measure", nargs="+", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--isolated", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pdf-tables", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.isolated, args.pdf_tables)))
        return

    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="spbe-bench-") as scratch:
        corpus = generate(args.corpus or Path(scratch))
        for name, paths in corpus.items():
            results[name] = measured(paths)
        results[f"{TEXT_PDFS}, through the worker process"] = measured(corpus[TEXT_PDFS], isolated=True)
    if args.folder:
        real = sorted(path for path in args.folder.iterdir() if path.suffix.lower() == ".pdf")
        results["real uploads"] = measured(real)
        results["real uploads, through the worker process"] = measured(real, isolated=True)
        results["real uploads, pdf_tables on"] = measured(real, pdf_tables=True)

    print(SUMMARY_HEADER)
    for name, result in results.items():
        print(summary(name, result))
    starts = [result["worker_start_seconds"] for result in results.values() if result["worker_start_seconds"]]
    starts_text = ", ".join(f"{seconds:.2f} s" for seconds in starts)
    print(f"\nWorker process start plus its first upload (once per service process): {starts_text}")
    if args.folder:
        print("\nReal uploads, per file:\n")
        print(per_file_table(results["real uploads"]))
        items = args.items or args.folder.parent / "items.jsonl"
        if items.is_file():
            print("\nOCR spot-check against items.jsonl:\n")
            print(spot_check(results["real uploads"], items, args.folder / "labels.json"))
    if args.json:
        for result in results.values():
            for row in result["files"]:
                row.pop("text")
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
