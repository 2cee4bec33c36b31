"""The `spbe-evidence` command line: the operator's entry to matching, submitting, running and reporting."""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from catalog.model import CatalogError
from settings import Settings, get_settings
from spbe_evidence.errors import UserError
from spbe_evidence.options import evaluation_year
from storage.objects import ObjectNotFound, StorageError
from storage.state import StateStoreUnavailable

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_SIGNALLED = 128  # plus the signal's number, as a shell reports a command a signal ended
EXIT_FAILED = 1  # the command could not finish its work: object storage unreachable or refused
STATUS_RUNS_SHOWN = 5
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# An upload for a year after next is a slip of the keyboard: the evaluation of a year is prepared in it or the one before.
YEARS_AHEAD_ALLOWED = 1
PREFECT_TELEMETRY = "PREFECT_SERVER_ANALYTICS_ENABLED"
# Capabilities with commands of their own: each module has register(commands) adding its subparsers.
COMMAND_MODULES: tuple[str, ...] = (
    "spbe_evidence.eval_commands", "spbe_evidence.report_commands", "spbe_evidence.review_commands"
)

# Why a supports below the supports threshold is one, for the operator reading `match` (a score needs no words).
GROUND_WORDS = {
    "form": "the best of a document on electronic government",
    "policy_subject": "named in the enacted policy's subject, or in a chapter's or part's title",
    "announced": "the topic its title announces",
    "practice_document": "the practice's own work, such as a system design",
    "policy_carried_out": "the practice of the Kebijakan Internal topic this document, no policy, points to",
    "funded": "an activity this budget funds",
}


def main(argv: list[str] | None = None) -> int:
    # The ephemeral Prefect server of a command-line run would try to send usage telemetry, and on a government
    # network without internet log an ERROR on every run; `prefect serve` (flows/serve.py) turns it off the same way.
    os.environ.setdefault(PREFECT_TELEMETRY, "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    console = logging.StreamHandler()  # Prefect's flow and task logs reach the operator through it too
    console.setFormatter(CommandLogFormatter(LOG_FORMAT))
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        handlers=[console])  # fmt: skip
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        return _handle(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _handle(args: argparse.Namespace) -> int:
    """The command, with the errors an operator can fix said in one line and an exit code."""
    try:
        return args.handler(args)
    except (UserError, CatalogError) as error:  # a slip, or a data file the operator edits: named with the problem
        print(f"spbe-evidence: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as error:  # a setting the operator wrote: say which, and what it should be
        if error.title != Settings.__name__:  # another model's (Prefect's): a bug, with its traceback
            raise
        print(f"spbe-evidence: {setting_problems(error)}", file=sys.stderr)
        return EXIT_USAGE
    except (StorageError, StateStoreUnavailable) as error:  # the message names the service and what to check
        print(f"spbe-evidence: {error}", file=sys.stderr)
        return EXIT_FAILED


class CommandLogFormatter(logging.Formatter):
    """Log lines for the operator. The record of an error this command then explains in one line (wrong credentials,
    a missing bucket, a database that cannot be opened, a broken data file, reports not sent) is shown without its
    traceback: Prefect logs each failed task and flow with one, which buries the line that says what to check. A
    bug's keeps it (a missing object is one: its key was computed wrong)."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and explained(record.exc_info[1]):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)


def explained(error: BaseException | None) -> bool:
    """Whether the command ends by saying this error in words the operator can act on."""
    from reports.delivery import DeliveryFailed

    if isinstance(error, ObjectNotFound):
        return False
    return isinstance(error, (UserError, CatalogError, StorageError, StateStoreUnavailable, DeliveryFailed))


def _exit_on_sigterm(number: int, frame: object) -> None:
    """SIGTERM (`systemctl stop`, `kill`) ends the command as Ctrl-C does, by unwinding: the run is marked interrupted
    and the temporary Prefect server a run started is stopped by its own exit handler, not left running for good."""
    raise SystemExit(EXIT_SIGNALLED + number)


def setting_problems(error: ValidationError) -> str:
    """Each wrong SPBE_* setting with its value and what it should be, one per line."""
    lines = [
        f"{Settings.model_config['env_prefix']}{'_'.join(map(str, problem['loc'])).upper()}={problem['input']!r}: "
        f"{problem['msg'].removeprefix('Value error, ')}"
        for problem in error.errors()
    ]
    return "wrong setting (environment or .env):\n  " + "\n  ".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spbe-evidence", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    match = commands.add_parser("match", help="match local files to indicators (no storage, no Prefect server)")
    match.add_argument("files", nargs="+", type=Path, metavar="FILE", help="files, or folders of them")
    match.add_argument("--format", choices=["json", "table"], default="table")
    match.add_argument("--top", type=int, default=None, help="candidates per file (default SPBE_TOP_K)")
    match.set_defaults(handler=cmd_match)

    submit = commands.add_parser("submit", help="upload files as an SKPD's submissions for a year")
    submit.add_argument("files", nargs="+", type=Path, metavar="FILE")
    submit.add_argument("--skpd", required=True, help="SKPD code from the registry")
    submit.add_argument("--year", type=evaluation_year, default=None)
    submit.set_defaults(handler=cmd_submit)

    run = commands.add_parser("run", help="run the nightly flow now")
    add_run_options(run)
    run.set_defaults(handler=cmd_run)

    status = commands.add_parser("status", help="what the state store knows: documents, statuses, coverage, runs")
    status.add_argument("--year", type=evaluation_year, default=None)
    status.set_defaults(handler=cmd_status)

    storage = commands.add_parser("storage", help="the local development S3 server (SeaweedFS)")
    storage.add_argument("action", choices=["up", "down"])
    storage.set_defaults(handler=cmd_storage)

    demo = commands.add_parser("demo", help="local S3, sample submissions, one nightly run, report locations")
    demo.set_defaults(handler=cmd_demo)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(commands)
    return parser


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--year", type=evaluation_year, default=None, help="evaluation year (default: this year, WITA)")
    parser.add_argument("--skpd", action="append", default=None, metavar="CODE", help="only this SKPD (repeatable)")
    parser.add_argument("--indicator", action="append", type=int, default=None, metavar="N",
                        help="report only this indicator (repeatable)")
    parser.add_argument("--force", action="store_true", help="extract and embed again even if unchanged")
    parser.add_argument("--accept-empty", action="store_true",
                        help="a bucket without any of the year's submissions removes them all (else the run refuses)")


def cmd_match(args: argparse.Namespace) -> int:
    from flows.local_match import match_files

    settings = get_settings()
    missing = [str(path) for path in args.files if not path.exists()]
    if missing:
        raise UserError(f"no such file: {', '.join(missing)}")
    files = [found for path in args.files for found in files_in(path)]
    results = match_files(files, settings, top_k=args.top or settings.top_k, progress=_progress)
    if args.format == "json":
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for result in results:
            print(f"{result['file']}: {result['status']}" + (f" — {result['message']}" if result["message"] else ""))
            for match in result["matches"]:
                why = f" (held by rule: {match['unmet_rule']})" if match["unmet_rule"] else ""
                if match["ground"] not in (None, "score"):
                    why += f" ({GROUND_WORDS.get(match['ground'], match['ground'])})"
                print(f"  {match['indicator']:>2}  {match['score']:.3f}  {match['decision']:<8}  "
                      f"hal. {match['page']}: {match['passage'][:80]}{why}")
    return EXIT_OK


def files_in(path: Path) -> list[Path]:
    """A file itself, or a folder's files, its subfolders' included, in name order: not hidden ones (.DS_Store,
    .git) nor an editor's lock files, as the nightly skips them in the bucket."""
    from storage import layout

    if not path.is_dir():
        return [path]
    found = sorted(
        file for file in path.rglob("*")
        if file.is_file() and not any(part.startswith(".") for part in file.relative_to(path).parts)
        and not layout.is_unfinished_upload(file.name)
    )  # fmt: skip
    if not found:
        raise UserError(f"no files in {path}")
    return found


def cmd_submit(args: argparse.Namespace) -> int:
    from storage import layout
    from storage.objects import ObjectStore

    settings = get_settings()
    skpd = args.skpd.lower()  # as folder names are read: "Bappeda" is bappeda
    check_selection(settings, skpd=[skpd])
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        raise UserError(f"no such file: {', '.join(missing)}")
    year = args.year or settings.today_year()
    if year > settings.today_year() + YEARS_AHEAD_ALLOWED:
        raise UserError(f"year {year} is not being evaluated yet (this year is {settings.today_year()}); check --year")
    store = ObjectStore.from_settings(settings)  # a missing bucket is refused: a typo must not make a new one
    for path in args.files:
        key = layout.submission_key(year, skpd, path.name)
        store.put_file(key, path)
        print(f"uploaded {path} -> s3://{settings.s3_bucket}/{key}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from flows.nightly import nightly

    check_selection(get_settings(), skpd=args.skpd or (), indicators=args.indicator or ())
    result = nightly(year=args.year, skpd=args.skpd, indicators=args.indicator, force=args.force,
                     accept_empty=args.accept_empty)
    print_run_result(result)
    return EXIT_OK


def check_selection(settings: Settings, skpd: Iterable[str] = (), indicators: Iterable[int] = ()) -> None:
    """A UserError for an SKPD or indicator the data files lack, before anything is uploaded or run."""
    from catalog import UnknownSelection, load_framework, load_skpd_registry

    framework = load_framework(settings.framework_file)
    try:
        load_skpd_registry(settings.skpd_file, framework).check_codes(skpd)
        framework.check_numbers(indicators)
    except UnknownSelection as error:
        raise UserError(str(error)) from error


def print_run_result(result: dict) -> None:
    from flows.pipeline import totals_line

    print(f"\nRun {result['run_id']} (year {result['year']}): {totals_line(result['counts'])}")
    print("\nReports:")
    for report in result["reports"]:
        print(f"  {report['skpd']:<20} {report['key']}\n  {'':<20} {report['local_path']}")
    dashboard = result["dashboard"]
    print(f"\nCity dashboard (Kominfotik):\n  {dashboard['key']}\n  {dashboard['local_path']}")
    print("\nCoverage (indicators per state):\n" + result["coverage_table"])
    if loose := result["outside_skpd_folders"]:
        print(f"\nNot read, in no SKPD's folder (move each into its SKPD's folder): {', '.join(loose)}")


def cmd_status(args: argparse.Namespace) -> int:
    from extractors.document import Status
    from flows.pipeline import Pipeline, totals_line
    from reports.html import coverage_table
    from reports.review import pending_reviews
    from storage.state import shown_url

    settings = get_settings()
    year = args.year or settings.today_year()
    pipeline = Pipeline(settings)
    submissions = pipeline.state.submissions(year)
    print(f"Year {year}: {len(submissions)} submissions in {shown_url(settings.state_url())}")
    for status, count in sorted(Counter(sub.status for sub in submissions).items()):
        print(f"  {status:<12} {count}")
    for sub in submissions:
        if sub.status != Status.OK:
            print(f"  ! {sub.key}: {sub.status} — {sub.message}")
    print("\n" + coverage_table(pipeline.assess(year)))
    pending = pending_reviews(submissions, pipeline.state.verdicts(pipeline.framework.id), pipeline.framework)
    print(f"\nMatches waiting for a reviewer: {len(pending)} (`spbe-evidence review list`)")
    print("\nRecent runs:")
    for run in pipeline.state.runs(STATUS_RUNS_SHOWN):  # a run that did not complete says why, after what it did
        done = totals_line(run.counts) if run.counts else ""
        print(f"  {run.id}  {run.status:<10} year {run.year}  {'; '.join(filter(None, (done, run.message)))}")
    return EXIT_OK


def cmd_storage(args: argparse.Namespace) -> int:
    from storage import local_server
    from storage.objects import ObjectStore

    settings = get_settings()
    if args.action == "down":
        print(local_server.down(settings))
        return EXIT_OK
    print(local_server.up(settings))
    ObjectStore.from_settings(settings).ensure_bucket()  # what `submit` and `run` need, never made by them
    print(f"Bucket {settings.s3_bucket} is ready.")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from spbe_evidence.demo import run_demo

    print_run_result(run_demo(get_settings(), progress=_progress))
    return EXIT_OK


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
