"""The nightly flow: thin Prefect wiring around flows/pipeline.py, one task per stage."""
from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows.pipeline import Pipeline, Processed, PublishedReport, RunTotals
from reports.completeness import CityCompleteness
from reports.html import coverage_table
from settings import get_settings
from storage.objects import StoredObject

STORAGE_RETRIES = 3
STORAGE_RETRY_DELAYS = [5, 30, 120]  # seconds: a restarting S3 server is usually back within a minute
RUN_ID_TIME_FORMAT = "%Y%m%dT%H%M%S"
RUN_ID_SUFFIX_CHARS = 8


@task(cache_policy=NO_CACHE, retries=STORAGE_RETRIES, retry_delay_seconds=STORAGE_RETRY_DELAYS)
def discover_submissions(pipeline: Pipeline, year: int, skpd: set[str] | None) -> list[StoredObject]:
    return pipeline.discover(year, skpd)


@task(cache_policy=NO_CACHE, task_run_name="process {obj.key}")
def process_submission(pipeline: Pipeline, obj: StoredObject, run_id: str, force: bool) -> Processed:
    return pipeline.process(obj, run_id, force)


@task(cache_policy=NO_CACHE, retries=STORAGE_RETRIES, retry_delay_seconds=STORAGE_RETRY_DELAYS)
def assess_and_publish(
    pipeline: Pipeline, year: int, indicators: set[int] | None, run_id: str
) -> tuple[CityCompleteness, list[PublishedReport]]:
    city = pipeline.assess(year, indicators)
    return city, pipeline.publish_reports(city, run_id)


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
) -> dict:
    """Read what SKPD submitted for the year, match what changed, and publish each SKPD's completeness report."""
    logger = get_run_logger()
    settings = get_settings()
    year = year or settings.today_year()
    skpd_filter = set(skpd) if skpd else None
    indicator_filter = set(indicators) if indicators else None
    pipeline = Pipeline(settings)
    run_id = new_run_id(settings.timezone)
    pipeline.state.start_run(run_id, year, {"skpd": skpd, "indicators": indicators, "force": force})
    started = time.monotonic()
    totals = RunTotals()
    try:
        objects = discover_submissions(pipeline, year, skpd_filter)
        totals.removed = len(pipeline.mark_removed(year, objects, skpd_filter))
        logger.info("run %s: %d submissions for %d", run_id, len(objects), year)
        for number, obj in enumerate(objects, start=1):
            try:
                processed = process_submission(pipeline, obj, run_id, force)
            except Exception as error:  # one document never stops the run; its state stays as it was
                totals.failed += 1
                logger.error("[%d/%d] %s failed, retried next run: %s", number, len(objects), obj.key, error)
                continue
            totals.add(processed)
            logger.info("[%d/%d] %s: %s (%s)", number, len(objects), obj.key, processed.outcome, processed.status)
        city, published = assess_and_publish(pipeline, year, indicator_filter, run_id)
    except Exception as error:
        pipeline.state.finish_run(run_id, "failed", totals.as_dict(), str(error))
        raise
    counts = totals.as_dict()
    pipeline.state.finish_run(run_id, "completed", counts)
    logger.info("run %s done in %.1f s: %s", run_id, time.monotonic() - started, counts)
    return {
        "run_id": run_id,
        "year": year,
        "counts": counts,
        "reports": [{"skpd": r.skpd, "key": r.key, "local_path": str(r.local_path)} for r in published],
        "coverage_table": coverage_table(city),
    }
