"""The nightly flow and its helper: thin Prefect wiring around flows/pipeline.py, one task per stage.

A run holds the only run slot while it processes (flows/operations.py), lists the year's submissions and puts those
that changed on a to-do list in the state store. Processes of this machine, and helper flow runs on other workers,
claim documents from that list one at a time: a run is shared without a document done twice, and a run that is
killed leaves every finished document recorded, so the next run only does the rest.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, wait
from prefect.runtime import flow_run
from prefect.task_runners import ProcessPoolTaskRunner
from prefect.tasks import exponential_backoff

from flows.operations import (
    PROGRESS_INTERVAL_SECONDS,
    RunProgress,
    Stopwatch,
    retry_transient,
    run_slot,
    start_helpers,
)
from flows.pipeline import (
    Discovery, Log, Outcome, Pipeline, Processed, RunTotals, processes_for, share_cores, totals_line, worker_name,
)
from flows.review import publish_work_list
from flows.send_reports import send_reports as send_reports_flow
from reports.completeness import CityCompleteness
from reports.html import coverage_table
from reports.publish import Publication, PublishedReport
from reports.summary import CitySummary, ranking_table, summary_markdown
from settings import Settings, get_settings
from storage.objects import StoredObject
from storage.state import DocumentState, RunStatus, StateStore

STORAGE_RETRIES = 3
STORAGE_RETRY_DELAYS = [5, 30, 120]  # seconds: a restarting S3 server is usually back within a minute
DOCUMENT_RETRIES = 2
DOCUMENT_RETRY_BACKOFF_SECONDS = 10  # then 20 s: a restarting S3 server or database, without holding up the run long
RUN_ID_TIME_FORMAT = "%Y%m%dT%H%M%S"
RUN_ID_SUFFIX_CHARS = 8
STOPPED_MESSAGE = "stopped by a signal (Ctrl-C, SIGTERM) before it finished; the next run does the rest"
# Artifact keys are stable per year, so the Prefect UI shows each year's summary with its history of runs.
SUMMARY_ARTIFACT_KEY = "spbe-ringkasan-kota-{year}"
RANKING_ARTIFACT_KEY = "spbe-peringkat-skpd-{year}"


class RunTakenOver(Exception):
    """Another run took this run's slot and its remaining documents while it was paused past the slot's lease (its
    process stopped, its machine asleep): that run publishes the reports, this one must not publish over them."""


@task(
    cache_policy=NO_CACHE, retries=STORAGE_RETRIES, retry_delay_seconds=STORAGE_RETRY_DELAYS,
    retry_condition_fn=retry_transient,
)  # fmt: skip
def discover_submissions(pipeline: Pipeline, year: int, skpd: set[str] | None) -> Discovery:
    return pipeline.discover(year, skpd)


@task(
    cache_policy=NO_CACHE, task_run_name="process {obj.key}", retries=DOCUMENT_RETRIES,
    retry_delay_seconds=exponential_backoff(DOCUMENT_RETRY_BACKOFF_SECONDS), retry_condition_fn=retry_transient,
)  # fmt: skip
def process_submission(pipeline: Pipeline, obj: StoredObject, run_id: str, force: bool) -> Processed:
    return pipeline.process(obj, run_id, force)


def as_task(pipeline: Pipeline, run_id: str, force: bool) -> Callable[[StoredObject], Processed]:
    """Processing of one document as a task run of its own: retried, timed and listed in the Prefect UI."""
    return lambda obj: process_submission(pipeline, obj, run_id, force)


@task(
    cache_policy=NO_CACHE, task_run_name="claim documents of run {run_id}", retries=STORAGE_RETRIES,
    retry_delay_seconds=STORAGE_RETRY_DELAYS, retry_condition_fn=retry_transient,
)  # fmt: skip
def process_claimed(settings: Settings, run_id: str, force: bool, pipeline: Pipeline | None = None) -> int:
    """One process's share of a run: one pipeline, so the model loads once, claiming documents until none is left.
    A share in a thread of the run's own process uses the run's pipeline, its indicator index already built."""
    pipeline = pipeline or Pipeline(settings)
    return pipeline.drain(run_id, force, worker_name(), get_run_logger(), as_task(pipeline, run_id, force))


def process_here(
    settings: Settings, run_id: str, force: bool, waiting: int, progress: RunProgress | None,
    pipeline: Pipeline | None = None,
) -> int:  # fmt: skip
    """This machine's share of a run, in as many processes as its CPUs keep busy; the documents it took. `pipeline`:
    this process's own, if it has one, for a share in a thread of it."""
    processes = processes_for(settings, waiting)
    get_run_logger().info("Processing run %s here in %d process(es); %d documents waiting", run_id, processes, waiting)
    parameters = {"settings": settings, "run_id": run_id, "force": force}
    if processes == 1:  # a thread of this process: no start-up cost, the model already loaded here is reused
        return sum(await_shares([process_claimed.submit(**parameters, pipeline=pipeline)], progress))
    # Spawned processes import the caller's main module again: a script calling nightly() needs the usual
    # `if __name__ == "__main__":` guard (the CLI, Prefect's flow-run processes and pytest have it).
    with ProcessPoolTaskRunner(max_workers=processes, initializer=share_cores, initargs=(processes,)) as runner:
        return sum(await_shares([runner.submit(process_claimed, parameters) for _ in range(processes)], progress))


def await_shares(futures: list[PrefectFuture[int]], progress: RunProgress | None) -> list[int]:
    """The documents each share took; a share that failed after its retries fails the run."""
    if progress is None:
        wait(futures)
    else:
        progress.follow(futures)
    return [future.result() for future in futures]


def finish_claimed_elsewhere(pipeline: Pipeline, run_id: str, force: bool, progress: RunProgress, log: Log) -> None:
    """Wait for the documents helpers hold; take over those whose claim lapsed because their worker died."""
    while True:
        counts = progress.update()
        if not counts[DocumentState.PENDING] + counts[DocumentState.CLAIMED]:
            return
        if not pipeline.drain(run_id, force, worker_name(), log, as_task(pipeline, run_id, force)):
            time.sleep(PROGRESS_INTERVAL_SECONDS)  # helpers still hold documents


@task(
    cache_policy=NO_CACHE, retries=STORAGE_RETRIES, retry_delay_seconds=STORAGE_RETRY_DELAYS,
    retry_condition_fn=retry_transient,
)  # fmt: skip
def assess_and_publish(
    pipeline: Pipeline, year: int, indicators: set[int] | None, run_id: str, loose: list[str]
) -> tuple[CityCompleteness, Publication]:
    city = pipeline.assess(year, indicators, loose)
    return city, pipeline.publish_reports(city, run_id)


def publish_summary_artifacts(summary: CitySummary) -> None:
    """The city summary in the Prefect UI: the whole picture as Markdown, the SKPD ranking as a table."""
    create_markdown_artifact(
        key=SUMMARY_ARTIFACT_KEY.format(year=summary.year),
        markdown=summary_markdown(summary),
        description=f"Ringkasan kelengkapan data dukung SPBE {summary.year}",
    )
    create_table_artifact(
        key=RANKING_ARTIFACT_KEY.format(year=summary.year),
        table=ranking_table(summary),
        description=f"Peringkat SKPD menurut kelengkapan data dukung SPBE {summary.year}",
    )


def published_files(report: PublishedReport) -> dict:
    """Where one report's files are, per format, in the bucket and locally."""
    return {fmt: {"key": file.key, "local_path": str(file.local_path)} for fmt, file in report.files.items()}


def report_entry(report: PublishedReport) -> dict:
    """An SKPD's report in the run's result: the HTML's key and local copy (what the printout shows), every format."""
    files = published_files(report)
    return {"skpd": report.name, **files["html"], "files": files}


def new_run_id(timezone: str) -> str:
    """Sortable and traceable: local start time plus the Prefect flow run id."""
    started = datetime.now(ZoneInfo(timezone)).strftime(RUN_ID_TIME_FORMAT)
    return f"{started}-{(flow_run.get_id() or '')[:RUN_ID_SUFFIX_CHARS] or 'local'}"


@flow(name="spbe-nightly")
def nightly(
    year: int | None = None,
    skpd: list[str] | None = None,
    indicators: list[int] | None = None,
    force: bool = False,
    send_reports: bool = False,
    helpers: int = 0,
    accept_empty: bool = False,
) -> dict:
    """Read what SKPD submitted for the year, match what changed, and publish each SKPD's completeness report.

    `skpd` limits the run to those SKPD's submissions and `indicators` the reports to those indicators; `force`
    reads and embeds again what did not change; `send_reports` e-mails the reports whose content changed afterwards
    (the spbe-send-reports flow); `helpers` asks that many more workers of the pool to share the documents;
    `accept_empty` lets a bucket without any of the year's submissions remove every one (else the run refuses: a
    wrong bucket would empty every SKPD's report).
    """
    logger = get_run_logger()
    settings = get_settings()
    year = year or settings.today_year()
    pipeline = Pipeline(settings)
    pipeline.framework.check_numbers(indicators or ())  # a typo must not publish reports over nothing
    skpd = [code.lower() for code in skpd] if skpd else skpd  # as folder names are read: "Bappeda/" is bappeda
    if unknown := pipeline.registry.unknown_codes(skpd or ()):
        # the relay's rerun for a folder of no SKPD in the registry: its uploads still count, and the summary lists them
        logger.warning("SKPD %s not in the registry %s: only the uploads in their folders are processed (none, if the "
                       "code is a typo)", ", ".join(unknown), settings.skpd_file)
    with run_slot(settings, pipeline.state, logger):
        result = run_year(pipeline, year, skpd, indicators, force, helpers, logger, accept_empty)
    if send_reports:
        result["deliveries"] = send_reports_flow(year=year)
    return result


def run_year(
    pipeline: Pipeline, year: int, skpd: list[str] | None, indicators: list[int] | None, force: bool, helpers: int,
    log: Log, accept_empty: bool = False,
) -> dict:  # fmt: skip
    """The run itself, inside the run slot: its to-do list, the processing, the totals and the reports."""
    settings, state = pipeline.settings, pipeline.state
    skpd_filter = set(skpd) if skpd else None
    indicator_filter = set(indicators) if indicators else None
    run_id = new_run_id(settings.timezone)
    stopwatch = Stopwatch()
    totals = RunTotals()
    state.start_run(run_id, year, {"skpd": skpd, "indicators": indicators, "force": force})
    try:  # from the moment the run is recorded: a signal at any later point marks it interrupted
        for stopped in state.interrupt_unfinished_runs(run_id):
            log.warning("Run %s stopped before it finished; its finished documents stay, this run does the rest",
                        stopped)
        discovery = discover_submissions(pipeline, year, skpd_filter)
        objects = discovery.objects
        removed = pipeline.mark_removed(year, discovery, skpd_filter, accept_empty)
        pending, current = pipeline.triage(year, objects, force)
        state.add_run_documents(run_id, pending, {key: (Outcome.UNCHANGED, status) for key, status in current.items()})
        for key, status in current.items():
            log.info("%s: unchanged, %s", key, status)
        for key in removed:
            log.info("%s: no longer in the bucket, stops counting as evidence", key)
        log.info(
            "Run %s for %d: %d submissions, %d to process, %d unchanged, %d removed",
            run_id, year, len(objects), len(pending), len(current), len(removed),
        )  # fmt: skip
        stopwatch.lap("discover")
        if pending:
            start_helpers(settings, run_id, helpers, log)
            progress = RunProgress(state, run_id, log)
            process_here(settings, run_id, force, len(pending), progress, pipeline)
            finish_claimed_elsewhere(pipeline, run_id, force, progress, log)
        stopwatch.lap("process")
        if not pipeline.still_running(run_id, log):
            raise RunTakenOver(f"run {run_id} was taken over by another run while it was paused; that run publishes "
                               "the reports, so this one publishes none")
        documents = state.run_documents(run_id)
        totals = RunTotals.of_documents(documents, removed=len(removed))
        city, publication = assess_and_publish(pipeline, year, indicator_filter, run_id, discovery.loose)
        stopwatch.lap("publish")
    except RunTakenOver:
        raise  # its status is the one the run that took over gave it
    except Exception as error:
        state.finish_run(run_id, RunStatus.FAILED, totals.as_dict(), str(error))
        raise
    except BaseException:  # Ctrl-C or SIGTERM: its workers stop after their document, the next run does the rest
        state.finish_run(run_id, RunStatus.INTERRUPTED, totals.as_dict(), STOPPED_MESSAGE)
        raise
    counts = totals.as_dict()
    state.finish_run(run_id, RunStatus.COMPLETED, counts)
    log.info("Run %s done in %.1f s (%s): %s", run_id, stopwatch.total, stopwatch, totals_line(counts))
    if not city.partial:  # the artifacts' history is of the whole city, like the latest reports
        try:
            publish_summary_artifacts(publication.summary)
            publish_work_list(state, pipeline.framework, year)
        except Exception as error:  # the UI's copies only: the reports are published, and must still be sent
            log.warning("Run %s: the Prefect artifacts (city summary, review work list) were not published: %s",
                        run_id, error)
    city_files = published_files(publication.city)
    return {
        "run_id": run_id,
        "year": year,
        "counts": counts,
        "durations": stopwatch.laps,
        "workers": dict(Counter(document.claimed_by for document in documents if document.claimed_by)),
        "reports": [report_entry(report) for report in publication.skpd],
        "dashboard": city_files["html"],
        "city_summary": city_files,
        "manifest": publication.manifest_key,
        "coverage_table": coverage_table(city),
        "outside_skpd_folders": discovery.loose,
    }


@flow(name="spbe-process-documents")
def process_documents(run_id: str) -> dict:
    """Help a nightly or rerun in progress: process its documents on this worker until none is left to claim."""
    logger = get_run_logger()
    settings = get_settings()
    state = StateStore(settings.state_url())
    run = state.run(run_id)
    if run is None or run.status != RunStatus.RUNNING:
        logger.info("Run %s is %s: nothing left to help with", run_id, run.status if run else "unknown")
        return {"run_id": run_id, "documents": 0}
    waiting = state.run_progress(run_id)[DocumentState.PENDING]
    taken = process_here(settings, run_id, run.parameters.get("force", False), waiting, progress=None)
    logger.info("Helped run %s with %d documents", run_id, taken)
    return {"run_id": run_id, "documents": taken}
