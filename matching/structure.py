"""What a document's form says before its content: its title and subject, its section headings, whether it is
an enacted policy, and whether its file name cites an indicator."""
from __future__ import annotations

import re
from dataclasses import dataclass

from matching.text import phrase_pattern, words

TITLE_WORDS = 60  # a regulation's heading and its "tentang ..." clause fit in this
OPENING_CHARS = TITLE_WORDS * 20  # ample for the opening words, so the whole text is not tokenised for them
POLICY_MARKER_WITHIN = 30  # words from the start where "PERATURAN/KEPUTUSAN ..." must stand, after a letterhead
POLICY_TITLE_WITHIN = 12  # words from the start where a self-evident policy title ("Kebijakan Internal ...") stands
# Words of a regulation's heading and preamble: its number, its subject, its considerations, its enactment.
POLICY_CONFIRMATION = ("nomor", "tentang", "menimbang", "mengingat", "memutuskan", "menetapkan", "ditetapkan")
ATTACHMENT_OPENING = "lampiran"  # an annex of a decree is the practice document, not the policy
SUBJECT_OPENING = "tentang"  # "PERATURAN ... NOMOR 5 TAHUN 2024 TENTANG <subject>"
SUBJECT_WORDS = 20  # the subject clause, or a document's first words when it has none
# Where a regulation's subject clause ends: the enacting office, the preamble or the body begins.
SUBJECT_ENDS = frozenset(
    ("dengan", "menimbang", "mengingat", "bahwa", "walikota", "bupati", "gubernur", "menteri", "presiden", "pasal", "bab")
)
# "... tentang Sistem Pemerintahan Berbasis Elektronik 2. Peraturan ...": the next item of a legal-basis list
# (a one- or two-digit numeral; years have four) ends a subject read from that list.
LIST_NUMERAL = re.compile(r"\d{1,2}")
HEADING_WORDS = 8  # a chapter, part or paragraph title after its marker
# "BAB IV ARSITEKTUR SPBE", "Bagian Ketiga Peta Rencana SPBE", "Paragraf 2 Pusat Data": one regulation, many subjects.
SECTION_HEADING = re.compile(
    rf"(?<![a-z0-9])(?:bab [ivxlc]+|bagian ke[a-z]+|paragraf \d+)\s+((?:\S+\s+){{0,{HEADING_WORDS - 1}}}\S+)"
)
# "35.screenshot LPSE.jpg", "1.a.Perwal.pdf", "16.b.SOP_DC.pdf", "[Indikator 42i] Screenshot ..."
FILENAME_INDICATOR = re.compile(r"^\s*\[?\s*(?:indikator\s*)?(\d{1,2})(?=[a-z]?[\]\s._-])", re.IGNORECASE)


@dataclass(frozen=True)
class PolicyMarkers:
    """From the profile file: heading words of an enacted policy, titles that are a policy by themselves, and the
    subjects of a policy on SPBE as a whole."""

    headings: tuple[str, ...]  # "peraturan", "keputusan", ...: confirmed by a number, a "tentang", a preamble
    titles: tuple[str, ...]  # "kebijakan internal": a policy by its title alone
    general_subjects: tuple[str, ...]  # "sistem pemerintahan berbasis elektronik": a policy on SPBE as a whole


@dataclass(frozen=True)
class DocumentStructure:
    title: str
    subject: str
    headings: str  # the section titles of the whole document, joined
    is_policy: bool
    is_general_policy: bool  # an enacted policy on SPBE as a whole: it sets the policy of every topic it covers
    filename_indicator: int | None


def read_structure(text: str, filename: str, markers: PolicyMarkers, indicators: range) -> DocumentStructure:
    """Title (opening words), subject, section headings, policy form, and a file-name indicator number if the
    framework has it."""
    opening = words(text[:OPENING_CHARS])[:TITLE_WORDS]
    found = FILENAME_INDICATOR.match(filename)
    number = int(found.group(1)) if found else None
    clause = subject(opening)
    policy = is_policy(opening, markers)
    return DocumentStructure(
        title=" ".join(opening),
        subject=clause,
        headings=" | ".join(dict.fromkeys(SECTION_HEADING.findall(text.lower()))),
        is_policy=policy,
        is_general_policy=policy and is_general(clause, markers.general_subjects),
        filename_indicator=number if number in indicators else None,
    )


def is_policy(opening: list[str], markers: PolicyMarkers) -> bool:
    """An enacted regulation, decree or circular, not a report citing one later or the annex of one."""
    if not opening or opening[0] == ATTACHMENT_OPENING:
        return False
    title = " ".join(opening[:POLICY_TITLE_WITHIN])
    if any(phrase_pattern(marker).search(title) for marker in markers.titles):
        return True
    head = " ".join(opening[:POLICY_MARKER_WITHIN])
    return any(phrase_pattern(marker).search(head) for marker in markers.headings) and any(
        word in opening for word in POLICY_CONFIRMATION
    )


def subject(opening: list[str]) -> str:
    """A regulation's "tentang ..." clause; otherwise the first words, where a report or manual names itself."""
    if SUBJECT_OPENING not in opening:
        return " ".join(opening[:SUBJECT_WORDS])
    clause: list[str] = []
    for word in opening[opening.index(SUBJECT_OPENING) + 1 :][:SUBJECT_WORDS]:
        if (word in SUBJECT_ENDS or LIST_NUMERAL.fullmatch(word)) and clause:
            break
        clause.append(word)
    return " ".join(clause)


def is_general(subject: str, general_subjects: tuple[str, ...]) -> bool:
    """Whether the subject is SPBE as a whole ("penyelenggaraan SPBE di ..."), not one part of it ("tim koordinasi SPBE")."""
    return any(subject == general or subject.startswith(f"{general} ") for general in general_subjects)
