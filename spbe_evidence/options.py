"""Argument types the commands share, so that a slip is refused by argparse with a usage line, not a traceback."""
from __future__ import annotations

import argparse
import re

YEAR_DIGITS = re.compile(r"[12][0-9]{3}")


def evaluation_year(text: str) -> int:
    """An evaluation year as the command line takes it: four digits ("26" is a slip for 2026, not the year 26)."""
    if not YEAR_DIGITS.fullmatch(text):
        raise argparse.ArgumentTypeError(f"give the evaluation year in four digits, such as 2026, not {text!r}")
    return int(text)
