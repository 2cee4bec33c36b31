"""`spbe-evidence reports send|preview`: e-mail the newest reports of a year, or write the messages to look at first."""
from __future__ import annotations

import argparse
import sys

from settings import get_settings
from spbe_evidence.errors import UserError
from spbe_evidence.options import evaluation_year

EXIT_OK = 0
EXIT_NOT_SENT = 1  # some reports failed to send: recorded, stored, retried by the next run
OUTCOME_LABELS = {
    "sent": "sent",
    "already-sent": "already sent (unchanged)",
    "failed": "FAILED",
    "not-tried": "NOT TRIED: the mail server could not be reached (sent by the next run)",
    "no-address": "NOT SENT: no e-mail address in the SKPD file (add one; the next run sends it)",
    "uncertain": "NOT SENT: an earlier send was interrupted and may have been delivered (see --retry-uncertain)",
    "dry-run": "would be sent",
}


def register(commands: argparse._SubParsersAction) -> None:
    reports = commands.add_parser("reports", help="e-mail the newest reports, or preview the messages")
    actions = reports.add_subparsers(required=True, metavar="ACTION")

    send = actions.add_parser("send", help="e-mail each SKPD its report and Diskominfotik the city summary, if changed")
    _add_selection(send)
    send.add_argument("--dry-run", action="store_true",
                      help="write the messages to the outbox folder instead of sending (recorded as dry-run)")
    send.add_argument("--retry-uncertain", action="store_true",
                      help="send again what an interrupted earlier send may have delivered (check the mail log first)")
    send.set_defaults(handler=cmd_send)

    preview = actions.add_parser("preview", help="write every message to the outbox folder; nothing sent or recorded")
    _add_selection(preview)
    preview.set_defaults(handler=cmd_preview)


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--year", type=evaluation_year, default=None, help="evaluation year (default: this year, WITA)")
    parser.add_argument("--skpd", action="append", default=None, metavar="CODE",
                        help="only this SKPD's report (repeatable; the city summary is then left out)")


def cmd_send(args: argparse.Namespace) -> int:
    from flows.send_reports import send_reports
    from reports.delivery import DeliveryFailed
    from reports.errors import ReportsError
    from reports.mail import check_mail_settings
    from spbe_evidence.cli import check_selection

    settings = get_settings()
    check_selection(settings, skpd=args.skpd or ())  # refused here, not after a Prefect server has started
    try:
        if not args.dry_run:
            check_mail_settings(settings)
        result = send_reports(year=args.year, skpd=args.skpd, dry_run=args.dry_run, retry_uncertain=args.retry_uncertain)
    except ReportsError as error:
        raise UserError(str(error)) from error
    except DeliveryFailed as error:
        print_deliveries([result.as_dict() for result in error.results])
        print(f"spbe-evidence: {error}", file=sys.stderr)
        return EXIT_NOT_SENT
    print_deliveries(result["deliveries"])
    print("\n" + ", ".join(f"{outcome} {count}" for outcome, count in sorted(result["counts"].items())))
    return EXIT_OK


def cmd_preview(args: argparse.Namespace) -> int:
    from flows.send_reports import preview_reports
    from reports.errors import ReportsError

    settings = get_settings()
    try:
        results = preview_reports(settings, args.year or settings.today_year(), args.skpd)
    except ReportsError as error:
        raise UserError(str(error)) from error
    print_deliveries([result.as_dict() for result in results])
    return EXIT_OK


def print_deliveries(deliveries: list[dict]) -> None:
    for delivery in deliveries:
        print(f"{delivery['report']:<20} {OUTCOME_LABELS[delivery['outcome']]} -> {', '.join(delivery['recipients'])}")
        if delivery["error"]:
            print(f"{'':<20} {delivery['error']}")
        if delivery["path"]:
            print(f"{'':<20} {delivery['path']}")
