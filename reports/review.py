"""A reviewer's verdicts: the matches waiting for a person, and a verdict recorded on one document and indicator.

The matcher sends a document to review when its topic is close but the framework's evidence rule or its score
leaves doubt, and it misses secondary topics of long documents. A Kominfotik reviewer reads the document and
accepts or rejects its claim to an indicator (or adds one the matcher did not see); the reports of every later run
show the verdict in place of the matcher's decision.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from catalog import Framework
from matching.matcher import Decision
from reports.completeness import Evidence, document_verdicts, reviewed_claims
from reports.errors import ReportsError
from storage.state import StateStore, Submission, Verdict, Verdicts, VerdictKind

WORK_LIST_ARTIFACT_KEY = "spbe-perlu-ditinjau-{year}"  # the Prefect table artifact of pending_reviews, per year
WORK_LIST_PASSAGE_CHARS = 200  # of the passage in the work list: enough to recognise the evidence


@dataclass(frozen=True)
class DecidedReview:
    """A verdict on a submission of the year, as the operator lists it."""

    key: str
    indicator: int
    verdict: Verdict


@dataclass(frozen=True)
class PendingReview:
    """A review claim no verdict decides, once per content: a verdict is on the file's content, so one settles every
    upload of the same file (a clerk's re-uploads, the same decree in two SKPD's folders)."""

    claim: Evidence
    copies: tuple[str, ...] = ()  # the keys of the same file's other uploads, settled by the same verdict


def pending_reviews(
    submissions: Sequence[Submission], verdicts: Verdicts, framework: Framework
) -> list[PendingReview]:
    """Every review claim of these submissions that no verdict decides (one on its group does), once per content and
    indicator group (one verdict decides the group), by SKPD, file and indicator."""
    same: dict[tuple[str, int], list[Evidence]] = {}
    for sub in submissions:
        for claim in reviewed_claims(sub, verdicts, framework):
            if claim.decision is Decision.REVIEW:
                same.setdefault((claim.sha256 or claim.key, min(framework.group_of(claim.indicator))), []).append(claim)
    return [
        PendingReview(first, tuple(dict.fromkeys(copy.key for copy in copies if copy.key != first.key)))
        for first, *copies in same.values()
    ]


def claimed(submission: Submission, indicator: int, framework: Framework) -> bool:
    """The matcher now claims the indicator, or another of its group, for the document (supports or review)."""
    group = framework.group_of(indicator)
    return any(match.indicator in group and match.decision != Decision.NONE for match in submission.matches)


def decided_reviews(submissions: Sequence[Submission], verdicts: Verdicts) -> list[DecidedReview]:
    """The verdicts on these submissions' contents, by submission and indicator."""
    return [
        DecidedReview(sub.key, number, verdict)
        for sub in submissions
        for number, verdict in sorted(document_verdicts(verdicts, sub).items())
    ]


def record_verdict(
    state: StateStore,
    framework: Framework,
    key: str,
    indicator: int,
    verdict: VerdictKind,
    reviewer: str,
    note: str = "",
) -> Submission:
    """Keep a reviewer's verdict on the content of the submission at key (it replaces one on another indicator of
    the group, whose evidence is shared); the submission it applies to.

    Refused, with the reason, for an unknown submission or indicator, one removed from the bucket, one whose content
    was never fetched (a verdict is on the content), or no reviewer's name (a verdict says who decided)."""
    submission = _read_submission(state, framework, key, indicator)
    if not reviewer.strip():
        raise ReportsError("say who decides (the reviewer's name): the reports name the reviewer of a verdict")
    state.record_verdict(framework=framework.id, sha256=submission.sha256, indicator=indicator, verdict=verdict,
                         reviewer=reviewer.strip(), note=note.strip(), group=framework.group_of(indicator))
    return submission


def remove_verdict(state: StateStore, framework: Framework, key: str, indicator: int) -> Submission:
    """Take back the verdict on the submission's content for the indicator (or another of its group), so the
    matcher's decision stands again."""
    submission = _read_submission(state, framework, key, indicator)
    if not state.remove_verdict(framework.id, submission.sha256, framework.group_of(indicator)):
        raise ReportsError(f"no verdict on {key} for indicator {indicator} to take back")
    return submission


def unclaimed_rejection(submission: Submission, indicator: int, verdict: VerdictKind, framework: Framework) -> str:
    """What a reviewer should know of a rejection the matcher has nothing to reject for: it changes no report until
    a later rematch claims the indicator; empty otherwise."""
    if verdict is not VerdictKind.REJECTED or claimed(submission, indicator, framework):
        return ""
    return (f"the matcher does not claim indicator {indicator} (or its group) for this document now; the rejection "
            "counts only if a later rematch does")


def _read_submission(state: StateStore, framework: Framework, key: str, indicator: int) -> Submission:
    """The submission a verdict is on, if a verdict on it can count: one in the bucket whose content a run fetched."""
    if not framework.has_indicator(indicator):
        raise ReportsError(f"{framework.name} has no indicator {indicator} (1–{len(framework.indicators)})")
    submission = state.submission(key)
    if submission is None:
        raise ReportsError(f"no submission {key!r} in the state store (an upload is there once a run has read it); "
                           "the work list shows the keys (`spbe-evidence review list`, or the Prefect artifact "
                           f"{WORK_LIST_ARTIFACT_KEY.format(year='YEAR')})")
    if submission.removed:
        raise ReportsError(f"{key} was removed from the bucket and counts for nothing; decide on the upload that "
                           "replaced it")
    if submission.sha256 is None:
        raise ReportsError(f"{key} was never downloaded ({submission.status}: {submission.message}), so there is no "
                           "content to decide on; ask its SKPD for a file the run can fetch")
    return submission


def work_list_rows(pending: Sequence[PendingReview]) -> list[dict]:
    """The reviewer's work list as the rows of a table (the Prefect artifact): Indonesian column names, since the
    reviewers of Kominfotik read them."""
    return [
        {
            "kunci": item.claim.key,
            "SKPD": item.claim.skpd,
            "berkas": item.claim.filename,
            "indikator": item.claim.indicator,
            "skor": round(item.claim.score, 3),
            "halaman": item.claim.page,
            "kutipan": item.claim.passage[:WORK_LIST_PASSAGE_CHARS],
            "aturan": item.claim.unmet_rule or "",
            "salinan": ", ".join(item.copies),  # the same file's other uploads, settled with it
        }
        for item in pending
    ]
