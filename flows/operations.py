"""Running unattended under Prefect: one run at a time, retries that only retry what a pause fixes, helpers on
other workers, and progress an operator can follow in the Prefect UI.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime
from uuid import uuid4

from prefect import Task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.client.schemas.objects import ConcurrencyLeaseHolder, TaskRun
from prefect.concurrency.sync import concurrency
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.futures import PrefectFuture, wait
from prefect.runtime import flow_run
from prefect.states import State

from flows.pipeline import RENEWALS_PER_LEASE, Log, is_transient, renewing
from reports.html import local_timestamp
from settings import Settings
from storage.state import DocumentState, StateStore

RUN_SLOTS = 1  # one nightly or rerun processes at a time: they write the same reports and "latest" copies
# A run renews its slot's lease while it lives; one that is killed frees the slot at most this long after.
RUN_SLOT_LEASE_SECONDS = 300
SLOT_POLL_SECONDS = 5  # a waiting run looks at the slot this often
# A holder silent this long is dead. Twice the lease: a production server expires a dead run's lease itself after one
# (its repossessor), and its freeing must come first, or the slot would be given back twice.
ORPHANED_AFTER_SECONDS = 2 * RUN_SLOT_LEASE_SECONDS
PROGRESS_INTERVAL_SECONDS = 10
PERCENT = 100
HELPER_TAG = "helper"


def retry_transient(task: Task, task_run: TaskRun, state: State) -> bool:
    """Prefect retry condition: retry storage and database errors, not a bug that would fail again."""
    return is_transient(state.result(raise_on_failure=False))


@contextmanager
def run_slot(settings: Settings, state: StateStore, log: Log) -> Iterator[None]:
    """Hold the only slot of the run limit (settings.run_slot) while processing; a second run waits and says why.

    The limit is created with one slot where missing, so a fresh Prefect server is guarded too; strict=True then
    fails a run rather than let it run unguarded if the limit cannot be read. The holder says in the state store
    that it is alive while it holds the slot, so that a slot left taken by a run killed outright is freed.
    """
    name, holding = settings.run_slot, uuid4().hex
    ensure_run_slot(name)
    waited_since = time.monotonic()
    run_id = flow_run.get_id()
    holder = ConcurrencyLeaseHolder(type="flow_run", id=run_id) if run_id else None
    taken, slot = False, ExitStack()
    while True:  # another waiting run may take the slot first: then wait for that one in turn
        taken = wait_for_run_slot(settings, state, holding, log) or taken
        try:
            slot.enter_context(concurrency(name, occupy=RUN_SLOTS, strict=True, holder=holder,
                                           lease_duration=RUN_SLOT_LEASE_SECONDS, timeout_seconds=SLOT_POLL_SECONDS))
            break
        except TimeoutError:  # Prefect's AcquireConcurrencySlotTimeoutError, raised on entering only
            continue
    with slot:
        if taken:
            log.info("Got the run slot %r after waiting %.0f s", name, time.monotonic() - waited_since)
        state.hold_slot(name, holding)
        try:
            with renewing(lambda: state.renew_slot(name, holding), RUN_SLOT_LEASE_SECONDS / RENEWALS_PER_LEASE,
                          f"the run slot {name!r}", log):
                yield
        finally:
            state.release_slot(name, holding)


def wait_for_run_slot(settings: Settings, state: StateStore, holding: str, log: Log) -> bool:
    """Wait while another run holds the run slot; whether one did. A slot whose holder's record has not changed for
    ORPHANED_AFTER_SECONDS by this machine's clock (no renewal: its process was killed outright, and Prefect's lease
    on the slot died with it; or none on record for as long) is freed, with a warning, by the one waiting run that
    takes the holder's place as `holding`. A production server's own expiry of a dead run's lease comes first."""
    name = settings.run_slot
    observed: tuple[str, datetime] | None = None  # the holder's record as last read: none, or who and when alive
    unchanged_since = time.monotonic()
    waited = False
    while run_slot_taken(name):
        if not waited:
            log.warning(
                "Waiting for the run slot %r: %s. This run starts when that one ends (a nightly and a rerun never"
                " process at the same time).", name, holder_description(state, settings.timezone),
            )  # fmt: skip
        record = state.slot_holder(name)
        seen = (record.holder, record.alive_at) if record else None
        if seen != observed:
            observed, unchanged_since = seen, time.monotonic()
        elif time.monotonic() - unchanged_since >= ORPHANED_AFTER_SECONDS and state.take_over_slot(
            name, record.holder if record else None, holding
        ):
            last_seen = f"last alive {local_timestamp(settings.timezone, record.alive_at)}" if record else "none on record"
            log.warning(
                "The run slot %r is held by a run that stopped without freeing it (%s, silent for %d s): freeing it",
                name, last_seen, ORPHANED_AFTER_SECONDS,
            )  # fmt: skip
            free_run_slot(name)
            return True
        waited = True
        time.sleep(SLOT_POLL_SECONDS)
    return waited


def run_slot_taken(name: str) -> bool:
    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(name).active_slots >= RUN_SLOTS


def free_run_slot(name: str) -> None:
    """Give back the slot of a run that died holding it (Prefect's own lease on it is gone with its process)."""
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active_slots=0))


def ensure_run_slot(name: str) -> None:
    """The run limit on the Prefect server of the current settings: created with one slot, or set back to one."""
    with get_client(sync_client=True) as client:
        try:
            client.upsert_global_concurrency_limit_by_name(name, RUN_SLOTS)
        except ObjectAlreadyExists:
            pass  # another run created it a moment ago


def holder_description(state: StateStore, timezone: str) -> str:
    """Which run probably holds the slot: the newest one the state store has as running."""
    unfinished = state.unfinished_runs()
    if not unfinished:
        return "another run holds it (one starting up, or a stopped one whose lease has not lapsed yet)"
    run = unfinished[0]
    return f"run {run.id} (year {run.year}, started {local_timestamp(timezone, run.started_at)}) is processing"


def start_helpers(settings: Settings, run_id: str, helpers: int, log: Log) -> None:
    """Ask `helpers` more workers of the pool to share this run's documents: a flow run of the helper deployment each."""
    for number in range(1, helpers + 1):
        try:
            helper = run_deployment(
                settings.helper_deployment, parameters={"run_id": run_id}, timeout=0, tags=[HELPER_TAG]
            )
        except ObjectNotFound:
            log.warning(
                "No deployment %s (deploy prefect.yaml): this worker processes run %s alone",
                settings.helper_deployment, run_id,
            )  # fmt: skip
            return
        log.info("Started helper %d of %d for run %s: flow run %s", number, helpers, run_id, helper.name)


class RunProgress:
    """The run's progress from its shared to-do list: a progress artifact in the Prefect UI, and a log line."""

    def __init__(self, state: StateStore, run_id: str, log: Log) -> None:
        self.state, self.run_id, self.log = state, run_id, log
        self.artifact = create_progress_artifact(
            progress=0.0, description=f"Documents of run {run_id} brought up to date"
        )

    def update(self) -> Counter[str]:
        """Read the to-do list, show it, and return its counts per document state."""
        counts = self.state.run_progress(self.run_id)
        total = sum(counts.values())
        finished = counts[DocumentState.DONE] + counts[DocumentState.FAILED]
        update_progress_artifact(self.artifact, PERCENT * finished / total if total else PERCENT)
        self.log.info(
            "Progress of run %s: %d of %d documents done (%d failed), %d in process, %d waiting", self.run_id,
            finished, total, counts[DocumentState.FAILED], counts[DocumentState.CLAIMED], counts[DocumentState.PENDING],
        )  # fmt: skip
        return counts

    def follow(self, futures: Sequence[PrefectFuture]) -> None:
        """Update every PROGRESS_INTERVAL_SECONDS until the futures are done."""
        while wait(futures, timeout=PROGRESS_INTERVAL_SECONDS).not_done:
            self.update()


class Stopwatch:
    """Durations of a run's stages, for the log and the result."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()
        self.laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.laps[stage] = round(now - self.last, 1)
        self.last = now

    @property
    def total(self) -> float:
        return time.monotonic() - self.started

    def __str__(self) -> str:
        return ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in self.laps.items())
