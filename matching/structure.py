"""What a document's form says before its content: is it an enacted policy, does its file name cite an indicator."""
from __future__ import annotations

import re
from dataclasses import dataclass

from matching.text import phrase_pattern, words

TITLE_WORDS = 60  # a regulation's heading and its "tentang ..." clause fit in this
POLICY_MARKER_WITHIN = 12  # words from the start where "PERATURAN/KEPUTUSAN ..." must stand
# Words of a regulation's heading and preamble: its number, its subject, its considerations, its enactment.
POLICY_CONFIRMATION = ("nomor", "tentang", "menimbang", "mengingat", "memutuskan", "menetapkan", "ditetapkan")
ATTACHMENT_OPENING = "lampiran"  # an annex of a decree is the practice document, not the policy
# "35.screenshot LPSE.jpg", "1.a.Perwal.pdf", "16.b.SOP_DC.pdf", "[Indikator 42i] Screenshot ..."
FILENAME_INDICATOR = re.compile(r"^\s*\[?\s*(?:indikator\s*)?(\d{1,2})(?=[a-z]?[\]\s._-])", re.IGNORECASE)


@dataclass(frozen=True)
class DocumentStructure:
    title: str
    is_policy: bool
    filename_indicator: int | None


def read_structure(opening_text: str, filename: str, policy_markers: tuple[str, ...], indicators: range) -> DocumentStructure:
    """Title (opening words), policy form and a file-name indicator number, if the number exists in the framework."""
    opening = words(opening_text)[:TITLE_WORDS]
    title = " ".join(opening)
    head = " ".join(opening[:POLICY_MARKER_WITHIN])
    is_policy = (
        bool(opening)
        and opening[0] != ATTACHMENT_OPENING
        and any(phrase_pattern(marker).search(head) for marker in policy_markers)
        and any(word in opening for word in POLICY_CONFIRMATION)
    )
    found = FILENAME_INDICATOR.match(filename)
    number = int(found.group(1)) if found else None
    return DocumentStructure(title, is_policy, number if number in indicators else None)
