"""Completeness: which indicators have evidence, city-wide and for each SKPD's responsibilities."""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeVar

from catalog import Framework, Indicator, Skpd, SkpdRegistry
from extractors.document import Status
from matching.matcher import Decision, EvidenceRule, Ground
from storage.state import MatchRow, Submission, Verdict, Verdicts

# Why an upload the matcher found evidence in counts for nothing, in the words of its SKPD's report.
REJECTED_MESSAGE = "ditolak oleh peninjau {reviewer} sebagai bukti indikator {indicator} ({name})"
# What became of an upload that is evidence only for indicators other SKPD answer for.
FOR_OTHERS_MESSAGE = "bukti indikator {indicators}"
# The other names under which the same file was uploaded, after what became of it.
COPIES_MESSAGE = "berkas yang sama juga diunggah sebagai {names}"


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
    sha256: str | None  # the content, whose extracted text tells the document's date (None: no text, no date)
    indicator: int  # the indicator it matched; another one of the same group counts the same
    score: float
    decision: Decision
    page: int | None
    passage: str
    unmet_rule: EvidenceRule | None = None  # why this document is only for review, where a framework rule says
    ground: Ground | None = None  # why a supports is one: its score, or the document's form
    reviewer: str | None = None  # the reviewer who accepted (supports) or rejected (none) it, whatever the matcher said
    review_note: str = ""  # what the reviewer wrote with it


@dataclass
class IndicatorCoverage:
    indicator: Indicator
    evidence: list[Evidence] = field(default_factory=list)
    rejected: list[Evidence] = field(default_factory=list)  # claims a reviewer rejected: no evidence, said why

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
    # its uploads that are evidence only for indicators other SKPD answer for: counted city-wide, shown nowhere else
    # in its report, so its clerk sees what became of them
    for_others: list[Upload] = field(default_factory=list)

    def count(self, state: EvidenceState) -> int:
        return sum(1 for coverage in self.indicators if coverage.state is state)


@dataclass
class CityCompleteness:
    year: int
    coverage: list[IndicatorCoverage]
    skpd: list[SkpdCompleteness]
    partial: bool = False  # only some indicators were assessed: not a report to publish as the latest
    awaiting_review: int = 0  # review claims no reviewer has decided: the reviewer's work list
    # uploads in a folder of no SKPD in the registry (a typo, a unit not yet listed): they count city-wide, but no
    # SKPD's report shows them, so Kominfotik is told
    unregistered: list[tuple[str, Upload]] = field(default_factory=list)  # (the folder's code, the upload)
    # the file names of uploads put into no SKPD's folder at all: not read, so Kominfotik is told to move them
    loose: list[str] = field(default_factory=list)

    def count(self, state: EvidenceState) -> int:
        return sum(1 for coverage in self.coverage if coverage.state is state)


def assess(
    framework: Framework,
    registry: SkpdRegistry,
    submissions: Sequence[Submission],
    year: int,
    indicators: Collection[int] | None = None,
    verdicts: Verdicts | None = None,
    loose: Iterable[str] = (),
) -> CityCompleteness:
    """Collect every supports/review match of the year per indicator, then view it per SKPD.

    A match counts for every indicator of its group (the sector-service slots share evidence), and each
    document appears once per indicator, with its best match. A reviewer's verdict stands above the matcher's
    decision: an accepted document supports the indicator, a rejected one is no evidence for it. `loose` names the
    uploads found in no SKPD's folder, which only the city summary lists.
    """
    selected = [ind for ind in framework.indicators if indicators is None or ind.number in indicators]
    coverage = {ind.number: IndicatorCoverage(ind) for ind in selected}
    claims = {submission.key: reviewed_claims(submission, verdicts or {}, framework) for submission in submissions}
    for submission in submissions:
        best: dict[int, Evidence] = {}
        rejected: dict[int, Evidence] = {}
        for evidence in claims[submission.key]:
            chosen = rejected if evidence.decision is Decision.NONE else best  # none: rejected by a reviewer
            for number in framework.group_of(evidence.indicator) & coverage.keys():
                if number not in chosen or _rank(evidence, number) < _rank(chosen[number], number):
                    chosen[number] = evidence
        for number, evidence in best.items():
            coverage[number].evidence.append(evidence)
        for number in rejected.keys() - best.keys():  # once per document, where nothing of it still counts
            coverage[number].rejected.append(rejected[number])
    for number, item in coverage.items():
        item.evidence.sort(key=lambda evidence: (*_rank(evidence, number), evidence.key))
        item.rejected.sort(key=lambda evidence: evidence.key)

    counting = {key for key, found in claims.items() if any(claim.decision is not Decision.NONE for claim in found)}
    per_skpd = [_skpd_view(skpd, coverage, submissions, claims, counting, framework) for skpd in registry.skpd]
    partial = len(selected) < len(framework.indicators)
    awaiting = len({  # a verdict is on the content and the group: one settles every upload of the same file
        (claim.sha256 or claim.key, min(framework.group_of(claim.indicator)))
        for found in claims.values() for claim in found if claim.decision is Decision.REVIEW
    })  # fmt: skip
    unregistered = [
        (sub.skpd, Upload(sub.filename, sub.key, sub.status, sub.message))
        for sub in submissions
        if registry.find(sub.skpd) is None
    ]
    return CityCompleteness(year=year, coverage=list(coverage.values()), skpd=per_skpd, partial=partial,
                            awaiting_review=awaiting, unregistered=unregistered, loose=sorted(loose))


def document_verdicts(verdicts: Verdicts, submission: Submission) -> Mapping[int, Verdict]:
    """The verdicts on a submission's content, by indicator (none for one never downloaded)."""
    return verdicts.get(submission.sha256 or "", {})


def reviewed_claims(submission: Submission, verdicts: Verdicts, framework: Framework) -> list[Evidence]:
    """A document's supports and review claims as its reviewers' verdicts leave them: an accepted one supports,
    also where the matcher saw none (a secondary topic it missed, a scan it could not read: no page or passage
    then); a rejected one is kept once, as none on the indicator the reviewer named, so the report can say why it
    does not count. A verdict on an indicator holds for the claims on its group (45–47 share their evidence); one on
    an indicator the framework no longer has is ignored."""
    verdicts = document_verdicts(verdicts, submission)
    matched = {match.indicator for match in submission.matches}
    unmatched = [  # what the matcher said of an indicator it kept no row for, nor for its group: nothing
        MatchRow(indicator=number, score=0.0, decision=Decision.NONE, page=None, passage="")
        for number in sorted(verdicts) if framework.has_indicator(number) and not framework.group_of(number) & matched
    ]
    claims = []
    rejections: set[int] = set()  # the verdicts already said: one rejection decides its group's claims at once
    for match in [*submission.matches, *unmatched]:
        verdict = verdict_on(match.indicator, verdicts, framework)
        if verdict is None:
            if match.decision != Decision.NONE:
                claims.append(_evidence(submission, match))
        elif verdict.accepted:
            claims.append(replace(_evidence(submission, match), unmet_rule=None, ground=None,
                                  decision=Decision.SUPPORTS, reviewer=verdict.reviewer, review_note=verdict.note))
        elif match.decision != Decision.NONE and verdict.indicator not in rejections:  # never claimed: nothing said
            rejections.add(verdict.indicator)
            claims.append(replace(_evidence(submission, match), indicator=verdict.indicator, unmet_rule=None,
                                  ground=None, decision=Decision.NONE, reviewer=verdict.reviewer,
                                  review_note=verdict.note))
    return claims


def verdict_on(indicator: int, verdicts: Mapping[int, Verdict], framework: Framework) -> Verdict | None:
    """The verdict that decides a claim on an indicator: the one on it, else one on another of its group."""
    if indicator in verdicts:
        return verdicts[indicator]
    if not framework.has_indicator(indicator):
        return None
    return next((verdicts[number] for number in sorted(framework.group_of(indicator)) if number in verdicts), None)


def _evidence(submission: Submission, match: MatchRow) -> Evidence:
    return Evidence(
        key=submission.key,
        skpd=submission.skpd,
        filename=submission.filename,
        sha256=submission.sha256 if submission.status == Status.OK else None,  # an unreadable one has no text to date
        indicator=match.indicator,
        score=match.score,
        decision=stored_decision(match.decision),
        page=match.page,
        passage=match.passage,
        unmet_rule=stored_rule(match.unmet_rule),
        ground=stored_ground(match.ground),
    )


def stored_decision(value: str) -> Decision:
    """A stored decision; one this release does not know (a newer release wrote it before a rollback) is read as
    review, so that a person looks at the document instead of the report failing."""
    return Decision(value) if value in Decision.__members__.values() else Decision.REVIEW


def stored_rule(value: str | None) -> EvidenceRule | None:
    """A stored evidence rule; one this release does not know is read as none: the report still says review."""
    return EvidenceRule(value) if value in EvidenceRule.__members__.values() else None


def stored_ground(value: str | None) -> Ground | None:
    """A stored ground of a supports; one this release does not know, or none (stored before grounds were kept),
    is read as none: the report says supports without saying why."""
    return Ground(value) if value in Ground.__members__.values() else None


def _rank(evidence: Evidence, indicator: int) -> tuple[bool, bool, float]:
    """Supports before review, a direct match before one through the group, then the higher score."""
    return evidence.decision is not Decision.SUPPORTS, evidence.indicator != indicator, -evidence.score


def _skpd_view(
    skpd: Skpd,
    coverage: dict[int, IndicatorCoverage],
    submissions: Sequence[Submission],
    claims: Mapping[str, list[Evidence]],
    counting: set[str],
    framework: Framework,
) -> SkpdCompleteness:
    """One SKPD's indicators and uploads; counting: the keys of the uploads that are evidence for something."""
    own = [sub for sub in submissions if sub.skpd == skpd.code]
    responsible = [coverage[number] for number in skpd.indicators if number in coverage]
    responsible.sort(key=lambda item: (STATE_ORDER[item.state], item.indicator.number))
    unreadable = [  # an unreadable upload a reviewer accepted is evidence: nothing for its clerk to do
        _upload(sub, copies, sub.message)
        for sub, copies in once_per_content(sub for sub in own if sub.status != Status.OK and sub.key not in counting)
    ]
    unmatched = [  # the extractor's word on it (a scan left without OCR) and any reviewer's rejection
        _upload(sub, copies, sub.message, *_rejections(claims[sub.key], framework))
        for sub, copies in once_per_content(sub for sub in own if sub.status == Status.OK and sub.key not in counting)
    ]
    answers_for = {member for number in skpd.indicators for member in framework.group_of(number)}
    known = {indicator.number for indicator in framework.indicators}  # not a match stored under an older framework
    supported = {
        sub.key: {claim.indicator for claim in claims[sub.key] if claim.decision is Decision.SUPPORTS} & known
        for sub in own
    }
    for_others = []
    for shown, copies in once_per_content(sub for sub in own if supported[sub.key]):
        counted = sorted(set().union(*(supported[sub.key] for sub in (shown, *copies))))  # copies named otherwise
        if answers_for.isdisjoint(counted):
            names = ", ".join(f"{number} ({framework.indicator(number).name})" for number in counted)
            for_others.append(_upload(shown, copies, FOR_OTHERS_MESSAGE.format(indicators=names)))
    return SkpdCompleteness(skpd, responsible, unreadable, unmatched, uploads=len(own), for_others=for_others)


Uploaded = TypeVar("Uploaded", Evidence, Submission)  # what names an uploaded file: its key and its content's hash


def by_content(uploads: Iterable[Uploaded]) -> list[list[Uploaded]]:
    """The uploads grouped by content, in the order each content first appears: a file uploaded under several names
    (a re-upload, the same decree in two SKPD's folders) is one document (one never downloaded is its own)."""
    groups: dict[str, list[Uploaded]] = {}
    for upload in uploads:
        groups.setdefault(upload.sha256 or upload.key, []).append(upload)
    return list(groups.values())


def once_per_content(submissions: Iterable[Submission]) -> list[tuple[Submission, list[Submission]]]:
    """Each content once, under its shortest name (the original, not "… (1).pdf"), with its other uploads, in the
    order of the names shown: a file uploaded twice is one file to the clerk who reads the list."""
    distinct = []
    for copies in by_content(submissions):
        shown = min(copies, key=lambda sub: (len(sub.filename), sub.filename))
        distinct.append((shown, sorted((sub for sub in copies if sub is not shown), key=lambda sub: sub.filename)))
    return sorted(distinct, key=lambda group: group[0].filename)


def _upload(sub: Submission, copies: Sequence[Submission], *messages: str) -> Upload:
    """An upload as a list of its SKPD's report shows it: what became of it, and the other names of the same file."""
    names = ", ".join(copy.filename for copy in copies)
    parts = [part for part in (*messages, COPIES_MESSAGE.format(names=names) if copies else "") if part]
    return Upload(sub.filename, sub.key, sub.status, "; ".join([part.rstrip(".") for part in parts[:-1]] + parts[-1:]))


def _rejections(claims: list[Evidence], framework: Framework) -> list[str]:
    """Why an upload the matcher found evidence in counts for nothing: a reviewer rejected each of its claims."""
    return [
        REJECTED_MESSAGE.format(reviewer=claim.reviewer, indicator=claim.indicator,
                                name=framework.indicator(claim.indicator).name)
        + (f": {claim.review_note}" if claim.review_note else "")
        for claim in claims
    ]
