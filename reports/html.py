"""Render for readers: the SKPD report and the city dashboard as HTML in Bahasa Indonesia, a text table for operators.

The HTML is also the e-mail body, so it keeps to what common mail clients show: tables, a <style> block,
no scripts; the dashboard's heatmap is inline (base64), so the page is one self-contained file.
"""
from __future__ import annotations

import base64
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from reports.completeness import CityCompleteness, EvidenceState
from reports.evidence_age import EvidenceAge
from reports.summary import CitySummary
from reports.views import FOR_OTHERS_NOTE, SkpdReport

STATE_CSS = {EvidenceState.MISSING: "belum", EvidenceState.REVIEW: "tinjau", EvidenceState.PRESENT: "ada"}
TIMESTAMP_FORMAT = "%d-%m-%Y %H:%M"
TIMEZONE_LABELS = {"Asia/Makassar": "WITA", "Asia/Jakarta": "WIB", "Asia/Jayapura": "WIT"}

_environment = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"]))


def local_timestamp(timezone: str, moment: datetime | None = None) -> str:
    """A time as an SKPD clerk reads it: day-month-year, in the city's zone (WITA for Banjarmasin). moment: a time
    as the state store keeps it (naive, UTC); now if none."""
    when = moment.replace(tzinfo=UTC) if moment else datetime.now(UTC)
    local = when.astimezone(ZoneInfo(timezone)).strftime(TIMESTAMP_FORMAT)
    return f"{local} {TIMEZONE_LABELS.get(timezone, timezone)}"


def render_skpd_html(report: SkpdReport, generated_at: str) -> str:
    return _environment.get_template("skpd.html").render(
        report=report, states=EvidenceState, ages=EvidenceAge, css=STATE_CSS, generated_at=generated_at,
        for_others_note=FOR_OTHERS_NOTE,
    )


def render_city_html(summary: CitySummary, heatmap_png: bytes, generated_at: str) -> str:
    """The dashboard: one self-contained page (the heatmap inline), also the body of the e-mail to Diskominfotik."""
    return _environment.get_template("city.html").render(
        summary=summary,
        states=EvidenceState,
        heatmap=base64.b64encode(heatmap_png).decode("ascii"),
        generated_at=generated_at,
    )


# An SKPD with no file of its own may still have evidence: another SKPD's upload that supports its indicators.
COVERAGE_LEGEND = "Bukti suatu indikator bisa berasal dari berkas SKPD itu sendiri atau dari berkas SKPD lain."


def coverage_table(city: CityCompleteness) -> str:
    """Plain-text table for the terminal: per SKPD and city-wide, indicators by evidence state."""
    header = ("SKPD", "ada bukti", "perlu ditinjau", "belum ada bukti", "berkas sendiri")
    rows = [
        (
            item.skpd.code,
            item.count(EvidenceState.PRESENT),
            item.count(EvidenceState.REVIEW),
            item.count(EvidenceState.MISSING),
            item.uploads,
        )
        for item in city.skpd
    ]
    rows.append(
        (
            "KOTA (semua indikator)",
            city.count(EvidenceState.PRESENT),
            city.count(EvidenceState.REVIEW),
            city.count(EvidenceState.MISSING),
            sum(item.uploads for item in city.skpd) + len(city.unregistered),  # a typo folder's count too
        )
    )
    widths = [max(len(str(row[col])) for row in [header, *rows]) for col in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.insert(len(lines) - 1, lines[1])
    return "\n".join([*lines, COVERAGE_LEGEND])
