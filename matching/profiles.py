"""What each indicator is matched against: the framework's own words plus the curated profile data file.

The profile file (catalog/profiles-spbe-2024.json) gives each indicator a kind (policy, practice, service)
and a topic whose terms name the applications, documents and activities that identify it. Operators edit it
without code; a new framework brings its own.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from catalog import Framework
from matching.structure import PolicyScope, StructureMarkers
from matching.text import words


class IndicatorKind(StrEnum):
    POLICY = "policy"  # Kebijakan Internal: needs an enacted regulation or decree
    PRACTICE = "practice"  # shown carried out: documents, reports, minutes
    SERVICE = "service"  # an electronic service: manuals, screenshots, SOPs


@dataclass(frozen=True)
class PracticeDocument:
    """The parts of the documents a topic's practice produces (a system design: its requirements, its database
    design, its UML models), each as the words that name it ("erd", "entity relationship"): a document that names at
    least `at_least` of the parts is that practice's own work. A part named twice over, by a word and its
    abbreviation, counts once."""

    parts: tuple[tuple[str, ...], ...]
    at_least: int


@dataclass(frozen=True)
class IndicatorProfile:
    indicator: int
    kind: IndicatorKind
    topic: str
    texts: tuple[str, ...]  # embedded by the dense channel
    terms: tuple[str, ...]  # curated phrases for the lexical channel
    policy_indicator: int | None = None  # a practice's Kebijakan Internal indicator: its topic's, or one named
    needs_spbe: bool = False  # a generic topic (a team, risk, training): only a document that names SPBE or ICT counts
    funds_activities: bool = False  # a budget topic: its document (a DPA sheet) is evidence of the activity it funds
    # the names a budget's activity fields give the topic's work besides its terms ("Pengembangan dan Pengelolaan
    # Aplikasi Generik"): read in those fields only, where they name nothing else
    activity_terms: tuple[str, ...] = ()
    practice_document: PracticeDocument | None = None  # what the documents of its practice name, if the file says


@dataclass(frozen=True)
class ProfileSet:
    profiles: tuple[IndicatorProfile, ...]
    structure_markers: StructureMarkers
    weights: dict[str, float]  # of the fusion, by feature name
    generic_words: frozenset[str] = frozenset()  # in every indicator of the framework: no lexical evidence


class ProfileError(ValueError):
    """The profile data file does not fit the framework; the message names the file and the problem."""


def load_profiles(path: Path, framework: Framework) -> ProfileSet:
    """Join the framework's texts with the profile file, checking that every indicator has exactly one profile."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("framework") != framework.id:
        raise ProfileError(f"{path}: profiles are for framework {data.get('framework')!r}, not {framework.id!r}")
    topics = data["topics"]
    entries = {entry["number"]: entry for entry in data["indicators"]}
    numbers = {indicator.number for indicator in framework.indicators}
    if set(entries) != numbers:
        raise ProfileError(f"{path}: profiles missing for {sorted(numbers - set(entries))}, unknown {sorted(set(entries) - numbers)}")
    policy_of_topic = {entry["topic"]: number for number, entry in entries.items() if entry["kind"] == IndicatorKind.POLICY}
    profiles = []
    for indicator in framework.indicators:
        entry = entries[indicator.number]
        if entry["topic"] not in topics:
            raise ProfileError(f"{path}: indicator {indicator.number}: unknown topic {entry['topic']!r}")
        texts = (indicator.name, indicator.description, indicator.example_evidence)
        profiles.append(
            IndicatorProfile(
                indicator=indicator.number,
                kind=IndicatorKind(entry["kind"]),
                topic=entry["topic"],
                texts=tuple(text for text in texts if text),
                terms=lowered(topics[entry["topic"]]["terms"]),
                policy_indicator=policy_indicator(indicator.number, entries, policy_of_topic, path),
                needs_spbe=bool(topics[entry["topic"]].get("needs_spbe_context", False)),
                funds_activities=bool(topics[entry["topic"]].get("funds_activities", False)),
                activity_terms=phrases(topics[entry["topic"]].get("activity_terms", []), entry["topic"],
                                       "activity_terms", path),
                practice_document=practice_document(entry["topic"], topics[entry["topic"]], path)
                if entry["kind"] == IndicatorKind.PRACTICE else None,  # a policy's evidence is a regulation
            )
        )
    markers = structure_markers(data, path)
    if unknown := sorted({number for scope in markers.policy_scopes for number in scope.indicators} - numbers):
        raise ProfileError(f"{path}: policy_scopes name indicators {unknown} that the framework does not have")
    carried_out = {profile.indicator: profile.policy_indicator for profile in profiles if profile.policy_indicator}
    for scope in markers.policy_scopes:  # a policy counts for the Kebijakan Internal of such a practice instead
        if held := sorted(set(scope.indicators) & set(carried_out)):
            raise ProfileError(
                f"{path}: policy scope {scope.name!r} names practice indicators {held} whose policy is a Kebijakan "
                f"Internal indicator of its own ({sorted({carried_out[number] for number in held})}): name that one"
            )
    generic = frozenset(word.lower() for word in data.get("generic_words", ()))
    return ProfileSet(tuple(profiles), markers, dict(data["fusion"]), generic)


def phrases(value: object, topic: str, field: str, path: Path) -> tuple[str, ...]:
    """A topic's list of phrases, lowercased; a mistake that would match everything or nothing is named."""
    if not isinstance(value, list) or not all(isinstance(phrase, str) and phrase.strip() for phrase in value):
        raise ProfileError(f"{path}: topic {topic!r}: {field} must be a list of phrases, each with words")
    return lowered(value)


def practice_document(name: str, topic: dict, path: Path) -> PracticeDocument | None:
    found = topic.get("practice_document")
    if found is None:
        return None
    parts, at_least = found.get("parts"), found.get("at_least")
    if not isinstance(parts, list) or not parts:
        raise ProfileError(f"{path}: topic {name!r}: practice_document needs 'parts', a list of lists of phrases")
    if isinstance(at_least, bool) or not isinstance(at_least, int) or not 1 <= at_least <= len(parts):
        raise ProfileError(
            f"{path}: topic {name!r}: practice_document needs 'at_least', a whole number from 1 to its {len(parts)} parts"
        )
    return PracticeDocument(tuple(phrases(part, name, "each part of practice_document", path) for part in parts),
                            at_least)


def policy_indicator(number: int, entries: dict[int, dict], policy_of_topic: dict[str, int], path: Path) -> int | None:
    """The Kebijakan Internal indicator whose policy a practice indicator carries out: the one its entry names
    ("policy": 9 for the three audits, whose topics are narrower than Audit TIK's), else its own topic's."""
    entry = entries[number]
    if entry["kind"] != IndicatorKind.PRACTICE:
        if "policy" in entry:
            raise ProfileError(f"{path}: indicator {number}: only a practice indicator names the policy it carries out")
        return None
    policy = entry.get("policy", policy_of_topic.get(entry["topic"]))
    if policy is not None and entries.get(policy, {}).get("kind") != IndicatorKind.POLICY:
        raise ProfileError(f"{path}: indicator {number}: its policy {policy!r} is not a policy indicator")
    return policy


def lowered(terms: list[str]) -> tuple[str, ...]:
    """Terms as they are matched: in lowercase, whatever case an operator wrote them in."""
    return tuple(term.lower() for term in terms)


def policy_scopes(data: dict, path: Path) -> tuple[PolicyScope, ...]:
    """The parts of SPBE a policy may regulate as a whole, each with a name, its subjects (as words() reads a
    subject: "Manajemen  SPBE" is "manajemen spbe") and its indicators, checked so an operator's edit fails loudly."""
    if "policy_general_subjects" in data:
        raise ProfileError(f"{path}: policy_general_subjects is now the 'SPBE' entry of policy_scopes (see docs)")
    scopes = []
    for number, entry in enumerate(data.get("policy_scopes", []), start=1):
        entry = entry if isinstance(entry, dict) else {}  # not an object: reported below as missing its lists
        name = entry.get("name", f"entry {number}")
        subjects, indicators = entry.get("subjects"), entry.get("indicators")
        if not isinstance(subjects, list) or not all(isinstance(subject, str) for subject in subjects):
            raise ProfileError(f"{path}: policy scope {name!r}: 'subjects' must be a list of phrases")
        if not isinstance(indicators, list) or not all(isinstance(item, int) for item in indicators):
            raise ProfileError(f"{path}: policy scope {name!r}: 'indicators' must be a list of indicator numbers")
        phrases = tuple(" ".join(words(subject)) for subject in subjects)
        if not phrases or not all(phrases):
            raise ProfileError(f"{path}: policy scope {name!r}: every subject must have words, and it needs one")
        scopes.append(PolicyScope(name, phrases, tuple(indicators)))
    return tuple(scopes)


def structure_markers(data: dict, path: Path) -> StructureMarkers:
    """The words and fields that tell a document's form, from the profile file."""
    headings = tuple(data["policy_document_markers"])
    decree_headings = tuple(data.get("decree_markers", ()))
    if unknown := sorted(set(decree_headings) - set(headings)):
        raise ProfileError(f"{path}: decree_markers {unknown} are not among the policy_document_markers")
    context = data.get("spbe_context", {})
    offices = data.get("office_names", {})
    flagged = sorted(name for name, topic in data["topics"].items() if topic.get("needs_spbe_context"))
    if flagged and not context.get("terms"):
        raise ProfileError(f"{path}: topics {flagged} need an SPBE context, but spbe_context names no terms")
    return StructureMarkers(
        headings=headings,
        titles=tuple(data.get("policy_title_markers", ())),
        policy_scopes=policy_scopes(data, path),
        organisation_subjects=tuple(data.get("organisation_subjects", ())),
        decree_headings=decree_headings,
        subject_fields=lowered(data.get("subject_fields", [])),
        subject_field_ends=lowered(data.get("subject_field_ends", [])),
        activity_fields=lowered(data.get("activity_fields", [])),
        electronic_terms=lowered(data["electronic_evidence"]["terms"]),
        electronic_prefixes=tuple(data["electronic_evidence"]["prefixes"]),
        electronic_per_thousand=float(data["electronic_evidence"]["per_thousand_words"]),
        spbe_terms=lowered(context.get("terms", ())),
        spbe_min_mentions=int(context.get("min_mentions", 0)),
        spbe_per_thousand=float(context.get("per_thousand_words", 0)),
        office_kinds=lowered(offices.get("kinds", [])),
        office_name_ends=lowered(offices.get("ends", [])),
        office_kind_not_after=lowered(offices.get("not_after", [])),
    )
