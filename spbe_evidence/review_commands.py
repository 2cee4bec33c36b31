"""`spbe-evidence review list|accept|reject|undo`: a Kominfotik reviewer's word on what a document is evidence for."""
from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from settings import Settings, get_settings
from spbe_evidence.errors import UserError
from spbe_evidence.options import evaluation_year

if TYPE_CHECKING:
    from catalog import Framework
    from storage.state import StateStore

EXIT_OK = 0
PASSAGE_SHOWN = 100  # characters of a passage in the list: enough to recognise it, one line
NEXT_RUN = "the reports change with the next run (nightly, or `spbe-evidence run` now)"


def register(commands: argparse._SubParsersAction) -> None:
    review = commands.add_parser("review", help="list the matches waiting for review; accept or reject a claim")
    actions = review.add_subparsers(required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="the year's review matches no reviewer has decided (--decided: verdicts)")
    listing.add_argument("--year", type=evaluation_year, default=None, help="evaluation year (default: this year, WITA)")
    listing.add_argument("--skpd", default=None, metavar="CODE", help="only this SKPD's uploads")
    listing.add_argument("--decided", action="store_true", help="list the verdicts on the year's uploads instead")
    listing.set_defaults(handler=cmd_list)

    for name, verdict, help_text in (
        ("accept", "accepted", "the document is evidence for the indicator, whatever the matcher decided"),
        ("reject", "rejected", "the document is no evidence for the indicator, whatever the matcher decided"),
    ):
        decide = actions.add_parser(name, help=help_text)
        _add_claim(decide)
        decide.add_argument("--by", required=True, metavar="NAME", help="the reviewer, named in the reports")
        decide.add_argument("--note", default="", help="why, shown beside the verdict in the SKPD's report")
        decide.set_defaults(handler=cmd_decide, verdict=verdict)

    undo = actions.add_parser("undo", help="take a verdict back: the matcher's decision stands again")
    _add_claim(undo)
    undo.set_defaults(handler=cmd_undo)


def _add_claim(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", metavar="KEY", help="the submission's object key, as `review list` shows it")
    parser.add_argument("indicator", type=int, metavar="INDICATOR", help="the indicator's number")


@contextmanager
def reviewing() -> Iterator[tuple[Settings, Framework, StateStore]]:
    """The settings, framework and state store a review works on; a refused verdict becomes the operator's error."""
    from catalog import load_framework
    from reports.errors import ReportsError
    from storage.state import StateStore

    settings = get_settings()
    try:
        yield settings, load_framework(settings.framework_file), StateStore(settings.state_url())
    except ReportsError as error:
        raise UserError(str(error)) from error


def cmd_list(args: argparse.Namespace) -> int:
    from reports.html import local_timestamp
    from reports.review import decided_reviews, pending_reviews

    with reviewing() as (settings, framework, state):
        year = args.year or settings.today_year()
        submissions = [sub for sub in state.submissions(year) if args.skpd in (None, sub.skpd)]
        verdicts = state.verdicts(framework.id)
    if args.decided:
        decided = decided_reviews(submissions, verdicts)
        print(f"Year {year}: {len(decided)} verdicts")
        for item in decided:
            verdict = item.verdict
            print(f"  {item.key}  indicator {item.indicator}: {verdict.verdict} by {verdict.reviewer} "
                  f"on {local_timestamp(settings.timezone, verdict.decided_at)}"
                  + (f" — {verdict.note}" if verdict.note else ""))
        return EXIT_OK
    pending = pending_reviews(submissions, verdicts, framework)
    print(f"Year {year}, matches waiting for review: {len(pending)}")
    for item in pending:
        claim = item.claim
        rule = f" (held by rule: {claim.unmet_rule})" if claim.unmet_rule else ""
        print(f"  {claim.key}  indicator {claim.indicator}  score {claim.score:.3f}{rule}\n"
              f"    page {claim.page if claim.page is not None else '?'}: {claim.passage[:PASSAGE_SHOWN]}")
        if item.copies:
            print(f"    the same file, settled by the same verdict: {', '.join(item.copies)}")
    return EXIT_OK


def cmd_decide(args: argparse.Namespace) -> int:
    from reports.review import record_verdict, unclaimed_rejection
    from storage.state import VerdictKind

    verdict = VerdictKind(args.verdict)
    with reviewing() as (_, framework, state):
        submission = record_verdict(state, framework, args.key, args.indicator, verdict, args.by, args.note)
    print(f"{args.key}: indicator {args.indicator} {verdict} by {args.by.strip()}; {NEXT_RUN}")
    if warning := unclaimed_rejection(submission, args.indicator, verdict, framework):
        print(f"note: {warning}")
    return EXIT_OK


def cmd_undo(args: argparse.Namespace) -> int:
    from reports.review import remove_verdict

    with reviewing() as (_, framework, state):
        remove_verdict(state, framework, args.key, args.indicator)
    print(f"{args.key}: the verdict on indicator {args.indicator} is taken back; {NEXT_RUN}")
    return EXIT_OK
