"""The SKPD × indicator heatmap as a PNG (Pillow): the city's state at a glance, red where evidence is missing."""
from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from reports.completeness import EvidenceState
from reports.summary import HeatmapGrid

CELL = 16  # pixels per cell side
GAP = 1  # white line between cells
FONT_SIZE = 10
LABEL_PADDING = 6
HEADER_HEIGHT = 18  # indicator numbers above the columns
LEGEND_HEIGHT = 24
BACKGROUND = "#ffffff"
TEXT = "#222222"
STATE_COLOURS = {
    EvidenceState.MISSING: "#c62828",
    EvidenceState.REVIEW: "#f9a825",
    EvidenceState.PRESENT: "#2e7d32",
}
NOT_RESPONSIBLE_COLOUR = "#eeeeee"
NOT_RESPONSIBLE_LABEL = "bukan tanggung jawab"


def render_heatmap(grid: HeatmapGrid) -> bytes:
    """PNG bytes: one row per SKPD (its code), one column per indicator (its number), a legend below."""
    font = _font()
    label_width = labels_width(grid)
    width = max(label_width + len(grid.columns) * CELL, _legend_width(font)) + LABEL_PADDING
    height = HEADER_HEIGHT + len(grid.rows) * CELL + LEGEND_HEIGHT
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for column, number in enumerate(grid.columns):
        x = label_width + column * CELL + CELL // 2
        draw.text((x, HEADER_HEIGHT // 2), str(number), fill=TEXT, font=font, anchor="mm")
    for row, (code, cells) in enumerate(zip(grid.rows, grid.cells)):
        y = HEADER_HEIGHT + row * CELL
        draw.text((label_width - LABEL_PADDING, y + CELL // 2), code, fill=TEXT, font=font, anchor="rm")
        for column, state in enumerate(cells):
            x = label_width + column * CELL
            colour = STATE_COLOURS[state] if state else NOT_RESPONSIBLE_COLOUR
            draw.rectangle((x, y, x + CELL - 1 - GAP, y + CELL - 1 - GAP), fill=colour)
    _draw_legend(draw, font, HEADER_HEIGHT + len(grid.rows) * CELL + LEGEND_HEIGHT // 2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def labels_width(grid: HeatmapGrid) -> int:
    """Pixels left of the first column: the longest SKPD code and some padding."""
    font = _font()
    return max((int(font.getlength(code)) for code in grid.rows), default=0) + LABEL_PADDING


def _font() -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=FONT_SIZE)


def _legend_items() -> list[tuple[str, str]]:
    return [(colour, str(state)) for state, colour in STATE_COLOURS.items()] + [
        (NOT_RESPONSIBLE_COLOUR, NOT_RESPONSIBLE_LABEL)
    ]


def _legend_width(font: ImageFont.FreeTypeFont) -> int:
    return sum(CELL + LABEL_PADDING + int(font.getlength(label)) + CELL for _, label in _legend_items())


def _draw_legend(draw: ImageDraw.ImageDraw, font: ImageFont.FreeTypeFont, middle: int) -> None:
    x = LABEL_PADDING
    for colour, label in _legend_items():
        draw.rectangle((x, middle - CELL // 2 + GAP, x + CELL - 1 - GAP, middle + CELL // 2 - GAP), fill=colour)
        x += CELL + LABEL_PADDING
        draw.text((x, middle), label, fill=TEXT, font=font, anchor="lm")
        x += int(font.getlength(label)) + CELL
