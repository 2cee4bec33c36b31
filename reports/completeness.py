"""Completeness: which indicators have evidence, city-wide and for each SKPD's responsibilities."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from catalog import Framework, Indicator, Skpd, SkpdRegistry
from extractors.document import Status
from matching.matcher import Decision
from storage.state import Submission


class EvidenceState(StrEnum):
    """The three states an SKPD reads in its report, worst first."""

    MISSING = "belum ada bukti"
    REVIEW = "perlu ditinjau"
    PRESENT = "ada bukti"


STATE_ORDER = {EvidenceState.MISSING: 0, EvidenceState.REVIEW: 1, EvidenceState.PRESENT: 2}


@dataclass(frozen=True)
class Evidence:
    """One document's claim on one indicator, with where in it the evidence is."""

    key: str
    skpd: str
    filename: str
    score: float
    decision: Decision
    page: int | None
    passage: str


@dataclass
class IndicatorCoverage:
    indicator: Indicator
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def state(self) -> EvidenceState:
        decisions = {item.decision for item in self.evidence}
        if Decision.SUPPORTS in decisions:
            return EvidenceState.PRESENT
        if Decision.REVIEW in decisions:
            return EvidenceState.REVIEW
        return EvidenceState.MISSING

    def from_other_skpd(self, skpd: str) -> bool:
        """Evidence exists city-wide but none of it was uploaded by this SKPD."""
        return bool(self.evidence) and all(item.skpd != skpd for item in self.evidence)


@dataclass(frozen=True)
class Upload:
    filename: str
    key: str
    status: str
    message: str


@dataclass
class SkpdCompleteness:
    skpd: Skpd
    indicators: list[IndicatorCoverage]  # missing first, then review, then present
    unreadable: list[Upload]
    unmatched: list[Upload]
    uploads: int

    def count(self, state: EvidenceState) -> int:
        return sum(1 for coverage in self.indicators if coverage.state is state)


@dataclass
class CityCompleteness:
    year: int
    coverage: list[IndicatorCoverage]
    skpd: list[SkpdCompleteness]

    def count(self, state: EvidenceState) -> int:
        return sum(1 for coverage in self.coverage if coverage.state is state)


def assess(
    framework: Framework,
    registry: SkpdRegistry,
    submissions: Sequence[Submission],
    year: int,
    indicators: Collection[int] | None = None,
) -> CityCompleteness:
    """Collect every supports/review match of the year per indicator, then view it per SKPD."""
    selected = [ind for ind in framework.indicators if indicators is None or ind.number in indicators]
    coverage = {ind.number: IndicatorCoverage(ind) for ind in selected}
    for submission in submissions:
        for match in submission.matches:
            if match.decision != Decision.NONE and match.indicator in coverage:
                coverage[match.indicator].evidence.append(
                    Evidence(
                        key=submission.key,
                        skpd=submission.skpd,
                        filename=submission.filename,
                        score=match.score,
                        decision=Decision(match.decision),
                        page=match.page,
                        passage=match.passage,
                    )
                )
    for item in coverage.values():
        item.evidence.sort(key=lambda e: (e.decision is not Decision.SUPPORTS, -e.score))

    per_skpd = [_skpd_view(skpd, coverage, submissions) for skpd in registry.skpd]
    return CityCompleteness(year=year, coverage=list(coverage.values()), skpd=per_skpd)


def _skpd_view(skpd: Skpd, coverage: dict[int, IndicatorCoverage], submissions: Sequence[Submission]) -> SkpdCompleteness:
    own = [sub for sub in submissions if sub.skpd == skpd.code]
    responsible = [coverage[number] for number in skpd.indicators if number in coverage]
    responsible.sort(key=lambda item: (STATE_ORDER[item.state], item.indicator.number))
    unreadable = [
        Upload(sub.filename, sub.key, sub.status, sub.message) for sub in own if sub.status != Status.OK
    ]
    unmatched = [
        Upload(sub.filename, sub.key, sub.status, sub.message)
        for sub in own
        if sub.status == Status.OK and all(match.decision == Decision.NONE for match in sub.matches)
    ]
    return SkpdCompleteness(skpd, responsible, unreadable, unmatched, uploads=len(own))
