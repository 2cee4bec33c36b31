"""How close OCR text is to a reference, as numbers: the benchmark's spot-check and the tests use these.

Both texts are compared normalised (lower case, runs of whitespace as one space), since line
breaks and capitals depend on layout more than on reading.
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np

_WORD = re.compile(r"\w+")


def normalised(text: str) -> str:
    return " ".join(text.lower().split())


def edit_distance(first: str, second: str) -> int:
    """Levenshtein distance in O(len(first)) numpy steps of O(len(second)), so 30,000-character pages stay fast.

    Within a row, an insertion chain is a running minimum of (cost - column), added back.
    """
    if not first or not second:
        return max(len(first), len(second))
    target = np.frombuffer(second.encode("utf-32-le"), dtype=np.uint32)
    columns = np.arange(len(target) + 1, dtype=np.int32)
    previous = columns.copy()
    for row, char in enumerate(first, start=1):
        substitution = previous[:-1] + (target != ord(char))
        current = np.empty_like(previous)
        current[0] = row
        current[1:] = np.minimum(previous[1:] + 1, substitution)
        previous = np.minimum.accumulate(current - columns) + columns
    return int(previous[-1])


def character_error_rate(ocr: str, reference: str) -> float:
    """Edits to turn the OCR text into the reference, per reference character (0 is perfect)."""
    ocr, reference = normalised(ocr), normalised(reference)
    return edit_distance(ocr, reference) / max(len(reference), 1)


def word_recall(ocr: str, reference: str) -> float:
    """Share of the reference's words (counted with repeats) that the OCR text also holds."""
    found, wanted = Counter(_WORD.findall(ocr.lower())), Counter(_WORD.findall(reference.lower()))
    return sum((found & wanted).values()) / max(sum(wanted.values()), 1)
