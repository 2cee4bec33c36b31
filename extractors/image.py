"""Photos, scans and screenshots (JPEG, PNG, TIFF) read by OCR, one page per image (per TIFF page).

A screenshot of an e-service is common evidence for the service indicators, and its text is
small: 12-14 px letters, below what Tesseract reads well, so narrow images are enlarged first.
"""
from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator

from PIL import Image, ImageOps, ImageSequence

from extractors import ocr
from extractors.document import Page, Status, TextSource
from extractors.failures import ExtractionFailure, corrupt, too_many_pages
from extractors.limits import ExtractionLimits

FORMAT_LABEL = "gambar"
NO_TEXT_MESSAGE = (
    "Gambar ini tidak berisi teks yang dapat dibaca. Jika ini foto atau hasil pindai dokumen, "
    "pastikan gambarnya tajam, terang dan tegak, atau unggah dokumennya sebagai PDF atau DOCX."
)
TOO_MANY_PIXELS_MESSAGE = (
    "Gambar ini terlalu besar ({megapixels} megapiksel). Perkecil resolusinya atau simpan sebagai PDF, "
    "lalu unggah lagi."
)

# Screen captures are 1,000-2,000 px wide with small letters; enlarged twice they read like a 150 DPI scan.
SCREENSHOT_MAX_WIDTH = 2000
SCREENSHOT_ENLARGEMENT = 2
# A photo or screenshot says nothing of its resolution; Tesseract then assumes this.
ASSUMED_DPI = 150
WHITE = 255
PIXELS_PER_MEGAPIXEL = 1_000_000

# What Pillow raises for an image it cannot decode (cut off, damaged, wrong inner format).
UNREADABLE_IMAGE = (OSError, SyntaxError, ValueError, EOFError)


def _too_many_pixels(pixels: int, detail: str) -> ExtractionFailure:
    return ExtractionFailure(
        Status.TOO_LARGE, TOO_MANY_PIXELS_MESSAGE.format(megapixels=pixels // PIXELS_PER_MEGAPIXEL), detail
    )


def _check_pixels(image: Image.Image, limits: ExtractionLimits) -> None:
    """Refuse before decoding: a few KB of PNG can declare a picture of gigabytes."""
    pixels = image.width * image.height
    if pixels > limits.max_image_pixels:
        raise _too_many_pixels(
            pixels, f"{image.width}x{image.height} pixels, limit max_image_pixels={limits.max_image_pixels}"
        )


def _flattened(frame: Image.Image) -> Image.Image:
    """Gray, upright, transparency on white (a transparent PNG would otherwise turn black)."""
    frame = ImageOps.exif_transpose(frame)
    if frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info:
        rgba = frame.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (WHITE, WHITE, WHITE, WHITE))
        frame = Image.alpha_composite(background, rgba)
    return frame.convert("L")


def _prepared(frame: Image.Image, limits: ExtractionLimits) -> tuple[Callable[[], Image.Image], int]:
    """How to draw the frame for OCR (converted only when OCR has budget left) and the DPI to tell Tesseract."""
    dpi = round(frame.info.get("dpi", (ASSUMED_DPI,))[0]) or ASSUMED_DPI
    enlarge = (
        frame.width < SCREENSHOT_MAX_WIDTH
        and frame.width * frame.height * SCREENSHOT_ENLARGEMENT**2 <= limits.max_image_pixels
    )

    def draw() -> Image.Image:
        gray = _flattened(frame)
        if enlarge:
            size = (gray.width * SCREENSHOT_ENLARGEMENT, gray.height * SCREENSHOT_ENLARGEMENT)
            return gray.resize(size, Image.Resampling.LANCZOS)
        return gray

    return draw, dpi * SCREENSHOT_ENLARGEMENT if enlarge else dpi


def _frames(image: Image.Image, limits: ExtractionLimits) -> Iterator[Image.Image]:
    """Each page of the image (one, except multi-page TIFF), checked and copied before the next is seeked."""
    frame_count = getattr(image, "n_frames", 1)
    if frame_count > limits.max_pages:
        raise too_many_pages(frame_count, limits.max_pages)
    for frame in ImageSequence.Iterator(image):
        _check_pixels(frame, limits)
        yield frame.copy()


def read(data: bytes, limits: ExtractionLimits) -> list[Page]:
    """One OCR page per frame; EMPTY when no frame holds text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # max_image_pixels decides
            with Image.open(io.BytesIO(data)) as image:
                _check_pixels(image, limits)
                with ocr.OcrPool(limits) as pool:
                    promised = [
                        pool.page(Page(number, [], TextSource.OCR), *_prepared(frame, limits))
                        for number, frame in enumerate(_frames(image, limits), start=1)
                    ]
                    pages = [promise() for promise in promised]
    except Image.DecompressionBombError as error:  # Pillow's own hard limit, past max_image_pixels set higher
        raise _too_many_pixels(2 * Image.MAX_IMAGE_PIXELS, str(error)) from error
    except UNREADABLE_IMAGE as error:
        raise corrupt(error, FORMAT_LABEL) from error
    return ocr.require_text(pages, NO_TEXT_MESSAGE, limits)
