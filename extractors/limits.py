"""Every knob of extraction in one frozen value, so a reader deep in a child process needs no Settings.

The fields mirror the "Extraction limits" of settings.Settings; DEFAULT_LIMITS takes their
defaults, ExtractionLimits.from_settings(settings) the operator's values.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from settings import Settings


@dataclass(frozen=True)
class ExtractionLimits:
    """How much one upload may cost (bytes, pages, unzipped size, pixels, OCR pages, seconds) and how OCR runs."""

    max_bytes: int
    max_pages: int
    max_unzipped_bytes: int
    max_compression_ratio: float
    max_zip_members: int
    max_image_pixels: int
    time_limit_seconds: float  # 0: read in this process, with no limit
    max_ocr_pages: int
    ocr_languages: str
    ocr_dpi: int
    ocr_workers: int
    pdf_tables: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> ExtractionLimits:
        return cls(**{field.name: getattr(settings, _setting_name(field.name)) for field in fields(cls)})

    @classmethod
    def defaults(cls) -> ExtractionLimits:
        """Settings' own defaults, for callers without a Settings (scripts, the REPL, tests)."""
        return cls(**{field.name: Settings.model_fields[_setting_name(field.name)].default for field in fields(cls)})


# Limit fields whose Settings name says more than the limit's own (Settings holds every knob of the service).
_SETTING_NAMES = {
    "max_bytes": "max_upload_bytes",
    "time_limit_seconds": "extraction_time_limit_seconds",
}


def _setting_name(field_name: str) -> str:
    return _SETTING_NAMES.get(field_name, field_name)

DEFAULT_LIMITS = ExtractionLimits.defaults()
