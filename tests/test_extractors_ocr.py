"""What extract() reads by OCR: scanned PDFs, screenshots and photos. Every picture is drawn here.

The scans are made to look like a poor office scan (200 DPI, grey paper, tilted, grainy,
specks of dust, soft, JPEG), so the error rate checked below is one real uploads reach too:
the stray marks at line ends ("' NOMOR", "kelola:") are most of it, as in the real scans.
"""
from __future__ import annotations

import io
import os
import random
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from test_extractors import IN_PROCESS, LIMITS

from extractors import DEFAULT_LIMITS, Status, TextSource, extract, look_again_for_tools, ocr, tool_available
from extractors.ocr_quality import character_error_rate
from extractors.sniff import JPEG, PDF, TIFF

SYSTEM_PATH = os.environ["PATH"]
needs_tesseract = pytest.mark.skipif(
    ocr.unavailable_reason(DEFAULT_LIMITS.ocr_languages) is not None,
    reason=f"OCR unavailable: {ocr.unavailable_reason(DEFAULT_LIMITS.ocr_languages)}",
)

SCAN_DPI = 200
PAPER, INK = 246, 25
# Tesseract 5.3 (ind+eng) on scanned(DECREE): measured 0.065, confidence 82; the limit leaves room for other versions.
MAX_CHARACTER_ERROR_RATE = 0.10
MIN_CONFIDENCE = 70

DECREE = """KEPUTUSAN WALI KOTA BANJARMASIN
NOMOR 188.45/412/KUM/2024
TENTANG TIM KOORDINASI SISTEM PEMERINTAHAN
BERBASIS ELEKTRONIK
Menimbang bahwa untuk mewujudkan tata kelola
pemerintahan yang bersih, efektif, transparan dan
akuntabel, perlu dibentuk tim koordinasi SPBE.
Tim bertugas menyusun arsitektur, peta rencana
dan evaluasi layanan digital perangkat daerah."""


def font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans where fontconfig finds it, Pillow's own font otherwise."""
    if shutil.which("fc-match"):
        path = subprocess.run(["fc-match", "DejaVuSans", "--format=%{file}"], capture_output=True, text=True).stdout
        if path and Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def draw_text(text: str, *, size: int = 34, width: int = 1240, paper: int = 255, ink: int = 0) -> Image.Image:
    lines = text.splitlines()
    line_height = int(size * 1.5)
    image = Image.new("L", (width, 2 * line_height + len(lines) * line_height), paper)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((size * 2, line_height + number * line_height), line, font=font(size), fill=ink)
    return image


def scanned(text: str, seed: int = 7) -> Image.Image:
    """The text as a poor office scan: 200 DPI (26 px letters), grey, tilted, grainy, specks, soft, JPEG."""
    noise = random.Random(seed)
    image = draw_text(text, size=26, width=830, paper=PAPER, ink=INK)
    image = image.rotate(0.8, resample=Image.Resampling.BICUBIC, fillcolor=PAPER)
    grain = Image.frombytes("L", image.size, noise.randbytes(image.width * image.height))
    image = Image.blend(image, grain, 0.15).filter(ImageFilter.GaussianBlur(0.6))
    draw = ImageDraw.Draw(image)
    for _ in range(400):
        draw.point((noise.randrange(image.width), noise.randrange(image.height)), fill=INK)
    return Image.open(io.BytesIO(encoded(image, "JPEG", quality=50)))


def image_pdf(*pages: Image.Image | str) -> bytes:
    """A PDF of one page per argument: an image as a scanner's page (no text layer), or a string as text."""
    pdf = FPDF(unit="pt")
    pdf.set_font("helvetica", size=12)
    for page in pages:
        if isinstance(page, str):
            pdf.add_page(format="A4")
            pdf.multi_cell(0, 16, page)
        else:
            size = (page.width * 72 / SCAN_DPI, page.height * 72 / SCAN_DPI)
            pdf.add_page(format=size)
            pdf.image(page, 0, 0, w=size[0], h=size[1])
    return bytes(pdf.output())


def encoded(image: Image.Image, image_format: str, **options: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


@pytest.fixture
def without_tesseract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    ocr.unavailable_reason.cache_clear()
    yield
    ocr.unavailable_reason.cache_clear()


@needs_tesseract
def test_scanned_decree_is_read_by_ocr_within_the_stated_error_rate():
    document = extract(image_pdf(scanned(DECREE)), "sk-tim-spbe.pdf", **LIMITS)
    assert (document.status, document.kind) == (Status.OK, PDF)
    [page] = document.pages
    assert page.source is TextSource.OCR
    assert page.ocr_confidence is not None and page.ocr_confidence > MIN_CONFIDENCE
    assert character_error_rate(document.text, DECREE) <= MAX_CHARACTER_ERROR_RATE


@needs_tesseract
def test_mixed_pdf_ocrs_only_the_scanned_page():
    document = extract(image_pdf("Lampiran I berisi teks biasa.", scanned(DECREE)), **LIMITS)
    assert [page.source for page in document.pages] == [TextSource.TEXT_LAYER, TextSource.OCR]
    assert document.pages[0].text == "Lampiran I berisi teks biasa."
    assert "koordinasi" in words(document.pages[1].text)


@needs_tesseract
def test_garbage_text_layer_over_a_scan_is_replaced_by_ocr():
    pdf = FPDF(unit="pt")
    scan = scanned(DECREE)
    pdf.add_page(format=(scan.width * 72 / SCAN_DPI, scan.height * 72 / SCAN_DPI))
    pdf.image(scan, 0, 0, w=pdf.w, h=pdf.h)
    pdf.set_font("helvetica", size=8)
    pdf.set_text_color(255, 255, 255)
    pdf.text(10, 10, "I I KI 4 I t -] 7-l I;I Flrr 4p rF Ip r* fi$- LI f1 rtr t_l lx J, B")  # a scanner's failed OCR
    document = extract(bytes(pdf.output()), **LIMITS)
    assert document.pages[0].source is TextSource.OCR
    assert "Flrr" not in document.text and "koordinasi" in words(document.text)


@needs_tesseract
def test_screenshot_of_an_e_service_is_read():
    screen = Image.new("RGB", (1366, 420), "white")
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, 1366, 60), fill=(21, 101, 192))
    draw.text((24, 16), "SIPAMAN - Sistem Pengaduan Masyarakat", font=font(22), fill="white")
    for row, label in enumerate(["Nomor tiket", "Tanggal pengaduan", "Status tindak lanjut"]):
        draw.text((24, 100 + row * 40), label, font=font(14), fill=(60, 60, 60))
    document = extract(encoded(screen, "PNG"), "tangkapan-layar.png", **LIMITS)
    assert document.status is Status.OK
    assert {"pengaduan", "masyarakat", "tiket", "status"} <= words(document.text)


@needs_tesseract
def test_jpeg_named_png_is_read_as_the_jpeg_it_is():
    document = extract(encoded(draw_text("Layanan perizinan daring").convert("RGB"), "JPEG"), "bukti.png", **LIMITS)
    assert (document.status, document.kind) == (Status.OK, JPEG)
    assert {"layanan", "perizinan", "daring"} <= words(document.text)


@needs_tesseract
def test_multipage_tiff_gives_a_page_per_image():
    first, second = draw_text("Halaman pertama laporan"), draw_text("Halaman kedua laporan")
    buffer = io.BytesIO()
    first.save(buffer, "TIFF", save_all=True, append_images=[second], dpi=(SCAN_DPI, SCAN_DPI))
    document = extract(buffer.getvalue(), **LIMITS)
    assert document.kind == TIFF
    assert [("pertama" in words(page.text), "kedua" in words(page.text)) for page in document.pages] == [
        (True, False),
        (False, True),
    ]


@needs_tesseract
def test_scanned_pages_past_max_ocr_pages_are_marked_and_noted():
    data = image_pdf(scanned("Halaman pertama"), scanned("Halaman kedua"), scanned("Halaman ketiga"))
    document = extract(data, limits=replace(DEFAULT_LIMITS, max_ocr_pages=1))
    assert document.status is Status.OK
    assert [page.source for page in document.pages] == [TextSource.OCR, TextSource.OCR_SKIPPED, TextSource.OCR_SKIPPED]
    assert "2 halaman hasil pindai belum terbaca (halaman 2–3)" in document.message
    assert "max_ocr_pages=1" in document.detail


def test_scan_without_tesseract_is_empty_and_tells_the_operator_what_to_install(without_tesseract):
    document = extract(image_pdf(draw_text("Tidak terbaca")), limits=IN_PROCESS)
    assert document.status is Status.EMPTY
    assert "pindai" in document.message and "tidak perlu diunggah ulang" in document.message  # not the clerk's fault
    assert "tesseract-ocr-ind" in document.detail
    assert document.missing_tool == "tesseract"  # the pipeline reads it again once Tesseract is installed


@needs_tesseract
def test_tesseract_installed_after_a_scan_went_unread_is_seen_by_the_same_process(without_tesseract, monkeypatch):
    """A long-lived worker asks again, so the first run after the operator installs it reads the scan."""
    assert not tool_available(ocr.TESSERACT)
    monkeypatch.setenv("PATH", SYSTEM_PATH)  # the operator has installed it
    look_again_for_tools()  # as each run's triage does
    assert tool_available(ocr.TESSERACT)


def test_image_without_tesseract_is_empty_and_says_so(without_tesseract):
    document = extract(encoded(draw_text("Tidak terbaca"), "PNG"), limits=IN_PROCESS)
    assert (document.status, document.kind, document.missing_tool) == (Status.EMPTY, "png", "tesseract")
    assert "tesseract" in document.detail
