"""Text from pictures of text (scanned pages, screenshots) with the Tesseract command-line program.

The `tesseract` binary is run once per page with TSV output, which gives every word with its
confidence and its block/paragraph/line, so paragraphs come back as blocks and each page can
say how far to trust it. Calling the binary (no Python binding) keeps the dependency a
Debian package: tesseract-ocr plus tesseract-ocr-ind for Bahasa Indonesia.

Tesseract's own OpenMP threads slow it down on small machines (a 300 DPI page: 4.2 s with
them, 2.0 s without, on 2 cores), so each process runs single-threaded and OcrPool runs
`ocr_workers` pages side by side instead.
"""
from __future__ import annotations

import functools
import io
import logging
import math
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from PIL import Image

from extractors.document import Block, BlockKind, Page, Status, TextSource
from extractors.failures import ExtractionFailure, with_text
from extractors.limits import ExtractionLimits

logger = logging.getLogger(__name__)

TESSERACT = "tesseract"
INSTALL_HINT = "install the Debian packages tesseract-ocr and tesseract-ocr-ind (or your system's equivalents)"
UNAVAILABLE_MESSAGE = (
    "Berkas ini hasil pindai (scan) dan belum dapat dibaca karena pembaca teks hasil pindai (OCR) di server belum "
    "tersedia. Berkas Anda tidak perlu diunggah ulang: berkas akan dibaca lagi otomatis setelah pengelola "
    "sistem memasangnya."
)
SINGLE_THREADED = {"OMP_THREAD_LIMIT": "1"}

# One page that takes longer than this is pathological (Tesseract normally needs 1-3 s).
PAGE_TIMEOUT_SECONDS = 120
# OCR starts no page after this share of the upload's time limit, so the pages read so far
# come back (with the rest marked not read) before the whole extraction is stopped.
TIME_LIMIT_SHARE = 0.8

# An image smaller than this on a side, or with less contrast, cannot hold readable text.
MIN_SIDE_PIXELS = 16
MIN_CONTRAST = 32

# TSV: one row per layout element; level 5 rows are words.
WORD_LEVEL = "5"
TSV_COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num",
               "left", "top", "width", "height", "conf", "text")  # fmt: skip
NO_CONFIDENCE = -1.0


class OcrError(Exception):
    """Tesseract failed on one image (its stderr is the message)."""


@dataclass(frozen=True)
class OcrResult:
    blocks: list[Block]
    confidence: float | None  # mean word confidence 0-100; None when no word was found


NOTHING_READ = OcrResult([], None)


@functools.cache
def unavailable_reason(languages: str) -> str | None:
    """Why OCR cannot run here (no binary, a language missing), or None when it can; asked once per process."""
    binary = shutil.which(TESSERACT)
    if binary is None:
        return f"`{TESSERACT}` is not on PATH: {INSTALL_HINT}"
    listing = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, check=False)
    installed = set(listing.stdout.split()[1:] if listing.returncode == 0 else ())  # first line is a heading
    if missing := [language for language in languages.split("+") if language not in installed]:
        return f"Tesseract language data missing: {', '.join(missing)}: {INSTALL_HINT}"
    return None


def _parse_tsv(tsv: str) -> OcrResult:
    """Words grouped back into lines and paragraphs (Tesseract's own layout), with their mean confidence."""
    paragraphs: dict[tuple[str, str], dict[str, list[str]]] = {}
    confidences: list[float] = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) != len(TSV_COLUMNS):
            continue
        word = dict(zip(TSV_COLUMNS, cells))
        if word["level"] != WORD_LEVEL or not word["text"].strip():
            continue
        lines = paragraphs.setdefault((word["block_num"], word["par_num"]), {})
        lines.setdefault(word["line_num"], []).append(word["text"].strip())
        if (confidence := float(word["conf"])) > NO_CONFIDENCE:
            confidences.append(confidence)
    blocks = [
        Block(BlockKind.PARAGRAPH, "\n".join(" ".join(words) for words in lines.values()))
        for lines in paragraphs.values()
    ]
    if not blocks:
        return NOTHING_READ
    return OcrResult(blocks, round(sum(confidences) / len(confidences), 1) if confidences else None)


def _portable_anymap(image: Image.Image) -> bytes | None:
    """The image as uncompressed PGM (cheaper to write than PNG), or None when it cannot hold text."""
    if min(image.size) < MIN_SIDE_PIXELS:
        return None
    gray = image if image.mode == "L" else image.convert("L")
    darkest, lightest = gray.getextrema()
    if lightest - darkest < MIN_CONTRAST:
        return None  # a blank page or a flat colour
    buffer = io.BytesIO()
    gray.save(buffer, "PPM")
    return buffer.getvalue()


def _run(picture: bytes, dpi: int, languages: str) -> OcrResult:
    command = [TESSERACT, "stdin", "stdout", "-l", languages, "--dpi", str(dpi), "tsv"]
    try:
        done = subprocess.run(
            command, input=picture, capture_output=True, timeout=PAGE_TIMEOUT_SECONDS,
            env={**os.environ, **SINGLE_THREADED}, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as error:
        raise OcrError(f"tesseract took over {PAGE_TIMEOUT_SECONDS} s on one page") from error
    if done.returncode != 0:
        raise OcrError(f"tesseract exit {done.returncode}: {done.stderr.decode(errors='replace').strip()}")
    return _parse_tsv(done.stdout.decode("utf-8", errors="replace"))


class OcrPool:
    """Pages OCRed side by side within the upload's budget; a page past the budget is marked OCR_SKIPPED.

    page() is called in reading order from the thread that owns the source (pdfium is not
    thread-safe), renders there, and hands only the encoded picture to a Tesseract thread;
    at most `ocr_workers` pictures wait or run at once, so memory stays flat on long scans.
    """

    def __init__(self, limits: ExtractionLimits) -> None:
        self._limits = limits
        self._pages_left = limits.max_ocr_pages
        self._stop_at = (
            time.monotonic() + limits.time_limit_seconds * TIME_LIMIT_SHARE if limits.time_limit_seconds else math.inf
        )
        self._executor: ThreadPoolExecutor | None = None
        self._slots = threading.BoundedSemaphore(limits.ocr_workers)
        self._unavailable_logged = False

    def __enter__(self) -> OcrPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def _may_read(self) -> bool:
        if self._pages_left <= 0 or time.monotonic() >= self._stop_at:
            return False
        if reason := unavailable_reason(self._limits.ocr_languages):
            if not self._unavailable_logged:
                logger.warning("scanned pages left unread: %s", reason)
                self._unavailable_logged = True
            return False
        return True

    def page(self, fallback: Page, render: Callable[[], Image.Image], dpi: int) -> Callable[[], Page]:
        """A promise of `fallback`'s page read by OCR from the image render() draws.

        `fallback` is the page as known without OCR (a thin text layer, or nothing); it comes
        back marked OCR_SKIPPED past the budget, and as it is when OCR finds no text.
        """
        if not self._may_read():
            skipped = replace(fallback, source=TextSource.OCR_SKIPPED)
            return lambda: skipped
        self._pages_left -= 1
        self._slots.acquire()
        try:
            picture = _portable_anymap(render())
        except BaseException:
            self._slots.release()
            raise
        if picture is None:
            self._slots.release()
            return lambda: self._settle(fallback, NOTHING_READ)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._limits.ocr_workers, thread_name_prefix="ocr")
        future = self._executor.submit(_run, picture, dpi, self._limits.ocr_languages)
        future.add_done_callback(lambda _: self._slots.release())
        return lambda: self._outcome(fallback, future)

    def _outcome(self, fallback: Page, future: Future[OcrResult]) -> Page:
        try:
            return self._settle(fallback, future.result())
        except OcrError as error:
            logger.warning("OCR failed on page %d: %s", fallback.number, error)
            return replace(fallback, source=TextSource.OCR_SKIPPED)

    @staticmethod
    def _settle(fallback: Page, result: OcrResult) -> Page:
        if not result.blocks and fallback.blocks:
            return fallback  # OCR saw nothing the text layer did not already give
        return Page(fallback.number, result.blocks, TextSource.OCR, result.confidence)


def require_text(pages: list[Page], message: str, limits: ExtractionLimits) -> list[Page]:
    """with_text(), but a scan left unread for want of Tesseract tells the operator what to install."""
    skipped = any(page.source is TextSource.OCR_SKIPPED for page in pages)
    if skipped and not any(page.blocks for page in pages) and (reason := unavailable_reason(limits.ocr_languages)):
        raise ExtractionFailure(Status.EMPTY, UNAVAILABLE_MESSAGE, f"pages need OCR, but {reason}", TESSERACT)
    return with_text(pages, message)


def skipped_detail(page_numbers: list[int], limits: ExtractionLimits) -> str:
    """Why pages that needed OCR were not read, for the operator."""
    reason = unavailable_reason(limits.ocr_languages) or (
        f"OCR budget spent (max_ocr_pages={limits.max_ocr_pages}, or {TIME_LIMIT_SHARE:.0%} of "
        f"time_limit_seconds={limits.time_limit_seconds:g}), or Tesseract failed on the page (see log)"
    )
    return f"{len(page_numbers)} pages not read by OCR ({', '.join(map(str, page_numbers))}): {reason}"
