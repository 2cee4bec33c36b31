"""The review flow: a Kominfotik reviewer's verdict from the Prefect UI (Run → Custom run), and the year's matches
waiting for one as a table artifact (thin Prefect wiring around reports/review.py; the same as
`spbe-evidence review`)."""
from __future__ import annotations

from enum import StrEnum

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from catalog import Framework, load_framework
from reports.errors import ReportsError
from reports.review import (
    WORK_LIST_ARTIFACT_KEY,
    PendingReview,
    pending_reviews,
    record_verdict,
    remove_verdict,
    unclaimed_rejection,
    work_list_rows,
)
from settings import get_settings
from storage.state import StateStore, VerdictKind


class ReviewAction(StrEnum):
    LIST = "list"  # only publish the work list
    ACCEPT = "accept"  # the document is evidence for the indicator, whatever the matcher decided
    REJECT = "reject"  # it is not
    UNDO = "undo"  # take the verdict back: the matcher's decision stands again


VERDICT_OF = {ReviewAction.ACCEPT: VerdictKind.ACCEPTED, ReviewAction.REJECT: VerdictKind.REJECTED}


@flow(name="spbe-review")
def review(
    action: ReviewAction = ReviewAction.LIST,
    key: str = "",
    indicator: int = 0,
    reviewer: str = "",
    note: str = "",
    year: int | None = None,
) -> dict:
    """Accept or reject a submission's claim to an indicator (key: its object key, as the work list shows it), or
    undo a verdict; then publish the matches of the submission's year still waiting for a reviewer (with list: of
    year, this year if empty). The reports change with the next run. A verdict that cannot be kept fails the run
    with the reason, and keeps nothing."""
    logger = get_run_logger()
    settings = get_settings()
    framework = load_framework(settings.framework_file)
    state = StateStore(settings.state_url())
    if action is ReviewAction.LIST and (key or indicator):
        raise ReportsError("action is list, which records nothing: choose accept, reject or undo for a verdict on "
                           f"{key or 'a submission'}")
    if action is ReviewAction.UNDO:
        year = remove_verdict(state, framework, key, indicator).year
        logger.info("%s: the verdict on indicator %s is taken back", key, indicator)
    elif action in VERDICT_OF:
        submission = record_verdict(state, framework, key, indicator, VERDICT_OF[action], reviewer, note)
        year = submission.year
        logger.info("%s: indicator %s %s by %s", key, indicator, VERDICT_OF[action], reviewer.strip())
        if warning := unclaimed_rejection(submission, indicator, VERDICT_OF[action], framework):
            logger.warning(warning)
    year = year or settings.today_year()
    pending = publish_work_list(state, framework, year)
    return {"year": year, "action": str(action), "pending": len(pending)}


def publish_work_list(state: StateStore, framework: Framework, year: int) -> list[PendingReview]:
    """The year's review matches no reviewer has decided, as a table artifact with a stable key: what a reviewer
    opens in the Prefect UI before accepting or rejecting with this flow."""
    pending = pending_reviews(state.submissions(year), state.verdicts(framework.id), framework)
    create_table_artifact(
        key=WORK_LIST_ARTIFACT_KEY.format(year=year),
        table=work_list_rows(pending),
        description=f"{len(pending)} kecocokan data dukung SPBE {year} menunggu peninjau: terima atau tolak dengan "
        "deployment spbe-review/review (action accept/reject, key, indicator, reviewer, note)",
    )
    return pending
