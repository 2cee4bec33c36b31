"""The evaluation framework and the city's work units, read from data files and checked on load.

A framework (indicators, weights, levels, rating bands) is data, so the next one (the 2025
Indeks Pemerintah Digital) arrives as a new JSON file, not as new code. Each check exists because
a wrong file would otherwise give a wrong index, or a report that silently skips an indicator.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

TOTAL_WEIGHT = 100.0
"""Weights are percentages: all indicators of a framework together weigh 100."""
WEIGHT_TOLERANCE = 1e-6
"""How far a weight sum may stray from its target: floating-point noise, not a data error."""
COORDINATOR = "coordinator"
MEMBER = "member"

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SKPD_CODE_CHARS = 64  # an SKPD code names its upload folder and is kept in the state store's columns of that width
FRAMEWORK_ID_CHARS = 64  # a framework's id keys the reviewers' verdicts in the state store, in a column of that width
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def is_skpd_code(text: str) -> bool:
    """An SKPD code names the SKPD's upload folder, so it is a slug safe in a path, and the state store keeps it."""
    return len(text) <= SKPD_CODE_CHARS and SLUG.fullmatch(text) is not None


class CatalogError(ValueError):
    """A framework or registry file that cannot be trusted; the message names the file and the problem."""


# The kinds of government a registry's city may be, as its name starts; its regulations' headings name the rest.
REGION_KINDS = frozenset(("kota", "kabupaten", "kab.", "kab", "provinsi", "prov.", "prov", "pemerintah"))


class UnknownSelection(ValueError):
    """A run, a report or an upload names an SKPD or an indicator the data files do not have: a typo, refused
    before any work, since a run over nothing would publish reports that say every indicator has evidence."""


class _Record(BaseModel):
    """Catalog records are read-only, and unknown keys are refused so a misspelt key is not silently ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class IndexScale(_Record):
    """The maturity levels an indicator can reach (SPBE: 1 to 5)."""

    min: int
    max: int

    @model_validator(mode="after")
    def _min_below_max(self) -> IndexScale:
        if self.min >= self.max:
            raise ValueError(f"index_scale: min {self.min} must be below max {self.max}")
        return self

    @property
    def levels(self) -> range:
        return range(self.min, self.max + 1)


class RatingBand(_Record):
    """A predikat and the lowest index that earns it."""

    name: str = Field(min_length=1)
    min: float = Field(ge=0)


class Domain(_Record):
    number: int = Field(ge=1)
    name: str = Field(min_length=1)
    weight: float = Field(gt=0)


class Aspect(_Record):
    number: int = Field(ge=1)
    name: str = Field(min_length=1)
    weight: float = Field(gt=0)
    domain: int


class IndicatorGroup(_Record):
    """Indicators that one kind of evidence serves interchangeably (the three sector-service slots)."""

    name: str = Field(min_length=1)
    indicators: tuple[int, ...] = Field(min_length=2)


class Level(_Record):
    """One maturity level: the criteria, how fulfilment is judged, and the evidence that proves it."""

    level: int
    name: str = Field(min_length=1)
    criteria: str = Field(min_length=1)
    fulfilment: str = ""
    evidence: str = ""


class Indicator(_Record):
    number: int = Field(ge=1)
    code: str = ""
    name: str = Field(min_length=1)
    domain: int
    aspect: int
    weight: float = Field(gt=0)
    maturity_type: Literal["process", "service"]
    question: str = ""
    description: str = ""
    assessment: str = ""
    example_evidence: str = ""
    levels: tuple[Level, ...]


class Framework(_Record):
    """One evaluation framework, as its data file describes it (the file nests the header under "framework")."""

    id: str = Field(min_length=1, max_length=FRAMEWORK_ID_CHARS)
    name: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    index_scale: IndexScale
    rating_bands: tuple[RatingBand, ...] = Field(min_length=1)
    evidence_max_age_years: int = Field(gt=0)
    domains: tuple[Domain, ...] = Field(min_length=1)
    aspects: tuple[Aspect, ...] = Field(min_length=1)
    indicator_groups: tuple[IndicatorGroup, ...] = ()
    indicators: tuple[Indicator, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _lift_header(cls, data: Any) -> Any:
        """The file keeps framework-wide facts under "framework"; the model holds them at top level."""
        if isinstance(data, dict) and isinstance(data.get("framework"), dict):
            return {**data["framework"], **{key: value for key, value in data.items() if key != "framework"}}
        return data

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not SLUG.fullmatch(value):
            raise ValueError(f"framework id {value!r} is not a lowercase slug (a-z, 0-9, hyphens)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Framework:
        """Collect every problem at once, so the person fixing the file sees them all in one run."""
        problems = [
            *self._numbering_problems(),
            *self._reference_problems(),
            *self._level_problems(),
            *self._weight_problems(),
            *self._band_problems(),
            *self._group_problems(),
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _numbering_problems(self) -> Iterator[str]:
        for kind, numbers in (
            ("domain", [d.number for d in self.domains]),
            ("aspect", [a.number for a in self.aspects]),
            ("indicator", [i.number for i in self.indicators]),
        ):
            for number, count in sorted(Counter(numbers).items()):
                if count > 1:
                    yield f"duplicate {kind} number {number} ({count} times)"
        present = {i.number for i in self.indicators}
        gaps = sorted(set(range(1, max(present) + 1)) - present)
        if gaps:
            yield f"indicator numbers must run from 1 without gaps: missing {gaps}"

    def _reference_problems(self) -> Iterator[str]:
        domains = {d.number for d in self.domains}
        aspects = {a.number: a for a in self.aspects}
        for aspect in self.aspects:
            if aspect.domain not in domains:
                yield f"aspect {aspect.number}: domain {aspect.domain} does not exist"
        for indicator in self.indicators:
            aspect = aspects.get(indicator.aspect)
            if aspect is None:
                yield f"indicator {indicator.number}: aspect {indicator.aspect} does not exist"
            elif aspect.domain != indicator.domain:
                yield (
                    f"indicator {indicator.number}: domain {indicator.domain} differs from "
                    f"its aspect {aspect.number}'s domain {aspect.domain}"
                )

    def _level_problems(self) -> Iterator[str]:
        expected = list(self.index_scale.levels)
        for indicator in self.indicators:
            found = [level.level for level in indicator.levels]
            if found != expected:
                yield (
                    f"indicator {indicator.number}: levels {found}, expected exactly "
                    f"{self.index_scale.min}..{self.index_scale.max} in order"
                )

    def _weight_problems(self) -> Iterator[str]:
        total = math.fsum(i.weight for i in self.indicators)
        if not _same_weight(total, TOTAL_WEIGHT):
            yield f"indicator weights sum to {total:g}, expected {TOTAL_WEIGHT:g} (tolerance {WEIGHT_TOLERANCE:g})"
        for aspect in self.aspects:
            members = math.fsum(i.weight for i in self.indicators if i.aspect == aspect.number)
            if not _same_weight(members, aspect.weight):
                yield f"aspect {aspect.number}: weight {aspect.weight:g} but its indicators sum to {members:g}"
        for domain in self.domains:
            members = math.fsum(a.weight for a in self.aspects if a.domain == domain.number)
            if not _same_weight(members, domain.weight):
                yield f"domain {domain.number}: weight {domain.weight:g} but its aspects sum to {members:g}"

    def _band_problems(self) -> Iterator[str]:
        minimums = [band.min for band in self.rating_bands]
        if any(higher <= lower for higher, lower in zip(minimums, minimums[1:])):
            yield f"rating bands must be listed from the highest minimum down, strictly: {minimums}"
        if minimums[-1] != 0:
            yield f"rating bands must cover from 0: the lowest band starts at {minimums[-1]:g}"
        names = [band.name for band in self.rating_bands]
        duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
        if duplicates:
            yield f"duplicate rating band names {duplicates}"

    def _group_problems(self) -> Iterator[str]:
        numbers = {i.number for i in self.indicators}
        seen: dict[int, str] = {}
        for group in self.indicator_groups:
            for number in group.indicators:
                if number not in numbers:
                    yield f"indicator group {group.name!r}: indicator {number} does not exist"
                elif number in seen:
                    yield f"indicator {number} is in two groups: {seen[number]!r} and {group.name!r}"
                seen.setdefault(number, group.name)

    def has_indicator(self, number: int) -> bool:
        return any(indicator.number == number for indicator in self.indicators)

    def check_numbers(self, numbers: Iterable[int]) -> None:
        """UnknownSelection for numbers that are none of this framework's indicators (numbered 1 to N, no gaps)."""
        if unknown := sorted({number for number in numbers if not self.has_indicator(number)}):
            raise UnknownSelection(
                f"no indicator {', '.join(map(str, unknown))} in {self.name}: its indicators are 1–{len(self.indicators)}"
            )

    def indicator(self, number: int) -> Indicator:
        for indicator in self.indicators:
            if indicator.number == number:
                return indicator
        raise KeyError(f"framework {self.id} has no indicator {number}")

    def domain(self, number: int) -> Domain:
        for domain in self.domains:
            if domain.number == number:
                return domain
        raise KeyError(f"framework {self.id} has no domain {number}")

    def indicators_in_domain(self, number: int) -> tuple[Indicator, ...]:
        self.domain(number)
        return tuple(i for i in self.indicators if i.domain == number)

    def group_of(self, number: int) -> frozenset[int]:
        """Indicators whose evidence also counts for this one: its group, or just itself."""
        self.indicator(number)
        for group in self.indicator_groups:
            if number in group.indicators:
                return frozenset(group.indicators)
        return frozenset({number})


class Skpd(_Record):
    """A work unit (perangkat daerah), where its reports go and which indicators it answers for."""

    code: str
    name: str = Field(min_length=1)
    emails: tuple[str, ...]  # [] while its address is not known: its report is published, `reports send` says unsent
    indicators: tuple[int, ...]
    role: Literal["coordinator", "member"] = MEMBER

    @field_validator("code")
    @classmethod
    def _code_is_slug(cls, value: str) -> str:
        if not is_skpd_code(value):
            raise ValueError(
                f"SKPD code {value!r} is not a lowercase slug (a-z, 0-9, hyphens) of at most {SKPD_CODE_CHARS} "
                "characters"
            )
        return value

    @field_validator("emails")
    @classmethod
    def _emails_valid(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _checked_emails(value)

    @field_validator("indicators")
    @classmethod
    def _indicators_once(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        repeated = sorted(number for number, count in Counter(value).items() if count > 1)
        if repeated:
            raise ValueError(f"indicators listed more than once: {repeated}")
        return value


class SkpdRegistry(_Record):
    """The city's work units for one framework; the operator edits this file."""

    city: str = Field(min_length=1)
    framework: str
    note: str = ""
    coordinator_emails: tuple[str, ...] = Field(min_length=1)
    skpd: tuple[Skpd, ...] = Field(min_length=1)

    @field_validator("coordinator_emails")
    @classmethod
    def _emails_valid(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _checked_emails(value)

    @model_validator(mode="after")
    def _consistent(self) -> SkpdRegistry:
        problems = []
        codes = Counter(unit.code for unit in self.skpd)
        problems += [f"duplicate SKPD code {code!r}" for code, count in sorted(codes.items()) if count > 1]
        coordinators = [unit.code for unit in self.skpd if unit.role == COORDINATOR]
        if len(coordinators) != 1:
            problems.append(f"exactly one SKPD must have role {COORDINATOR!r}, found {coordinators}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def region(self) -> str:
        """The city's name as the headings of its own regulations write it: "Kota Banjarmasin" → "Banjarmasin"
        ("PERATURAN WALI KOTA BANJARMASIN"), "Kabupaten Hulu Sungai Selatan" → "Hulu Sungai Selatan"."""
        name = self.city.split()
        while len(name) > 1 and name[0].lower() in REGION_KINDS:  # "Pemerintah Kota Banjarmasin" too
            name = name[1:]
        return " ".join(name)

    def find(self, code: str) -> Skpd | None:
        """The SKPD with this code, or None (an upload folder may name a unit the registry lacks)."""
        return next((unit for unit in self.skpd if unit.code == code), None)

    def unknown_codes(self, codes: Iterable[str]) -> list[str]:
        """The codes of no SKPD in the registry, sorted."""
        return sorted(set(codes) - {unit.code for unit in self.skpd})

    def check_codes(self, codes: Iterable[str]) -> None:
        """UnknownSelection for codes of no SKPD in the registry, listing those it has."""
        if unknown := self.unknown_codes(codes):
            known = ", ".join(unit.code for unit in self.skpd)
            raise UnknownSelection(f"unknown SKPD {', '.join(unknown)}; the registry has: {known}")

    def responsible_for(self, indicator_number: int) -> list[Skpd]:
        """The SKPD answering for an indicator, in registry order; empty only for a number outside the framework."""
        return [unit for unit in self.skpd if indicator_number in unit.indicators]

    @property
    def coordinator(self) -> Skpd:
        """The unit that receives the city summary (SPBE: Diskominfotik)."""
        return next(unit for unit in self.skpd if unit.role == COORDINATOR)


def load_framework(path: Path) -> Framework:
    """The framework in a data file, or CatalogError naming the file and every problem found."""
    try:
        return Framework.model_validate(_read_json(path))
    except ValidationError as error:
        raise CatalogError(f"{path}: {_describe(error)}") from error


def load_skpd_registry(path: Path, framework: Framework) -> SkpdRegistry:
    """The SKPD registry, checked against the framework it assigns: an uncovered indicator would never be reported."""
    try:
        registry = SkpdRegistry.model_validate(_read_json(path))
    except ValidationError as error:
        raise CatalogError(f"{path}: {_describe(error)}") from error
    problems = list(_assignment_problems(registry, framework))
    if problems:
        raise CatalogError(f"{path}: {'; '.join(problems)}")
    return registry


def _assignment_problems(registry: SkpdRegistry, framework: Framework) -> Iterator[str]:
    if registry.framework != framework.id:
        yield f"registry is for framework {registry.framework!r}, not {framework.id!r}"
        return
    numbers = {i.number for i in framework.indicators}
    for unit in registry.skpd:
        unknown = sorted(set(unit.indicators) - numbers)
        if unknown:
            yield f"SKPD {unit.code!r}: indicators {unknown} do not exist in {framework.id}"
    uncovered = sorted(numbers - {n for unit in registry.skpd for n in unit.indicators})
    if uncovered:
        yield f"indicators {uncovered} have no responsible SKPD"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CatalogError(f"{path}: cannot read: {error.strerror}") from error
    except ValueError as error:
        raise CatalogError(f"{path}: not valid UTF-8 JSON: {error}") from error


def _describe(error: ValidationError) -> str:
    """Pydantic's errors as 'where: what', with our own validators' messages unprefixed."""
    parts = []
    for detail in error.errors():
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"]).lstrip(".")
        what = str(detail["ctx"]["error"]) if detail["type"] == "value_error" else detail["msg"]
        parts.append(f"{where}: {what}" if where else what)
    return "; ".join(parts)


def _checked_emails(addresses: tuple[str, ...]) -> tuple[str, ...]:
    invalid = [address for address in addresses if not EMAIL.fullmatch(address)]
    if invalid:
        raise ValueError(f"not valid email addresses: {invalid}")
    return addresses


def _same_weight(actual: float, expected: float) -> bool:
    return abs(actual - expected) <= WEIGHT_TOLERANCE
