"""Running unattended: a run's documents claimed once across workers, a killed run resumed, one run at a time."""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.concurrency.sync import concurrency
from prefect.states import Failed
from sqlalchemy.exc import OperationalError

import flows.nightly
import flows.operations
import flows.pipeline
from flows.nightly import nightly
from flows.operations import retry_transient
from flows.pipeline import is_transient, processes_for
from settings import Settings, get_settings
from spbe_evidence.cli import EXIT_SIGNALLED
from storage import layout
from storage.objects import ObjectNotFound, ObjectStore, StorageError, StoredObject
from storage.state import DocumentState, RunDocument, RunStatus, StateStore, StateStoreUnavailable
from test_state import postgres_url, state  # noqa: F401  (the state store on SQLite and PostgreSQL)

YEAR = 2026
RUN = "run-1"
LEASE_SECONDS = 600.0
SHARED_DOCUMENTS = 60
SHARING_WORKERS = 3
SECONDS_PER_DOCUMENT = 0.01
KILL_AFTER_DOCUMENTS = 3
SLOW_SECONDS_PER_DOCUMENT = 1.0
SHORT_LEASE_SECONDS = 0.3
ORPHANED_AFTER_SECONDS = 1.0  # for the tests of a run slot's holder: silent this long is dead
SLOT_POLL_SECONDS = 0.1
LEASES_PER_DOCUMENT = 4  # how many leases the slow document takes: it outlives each, and is still its worker's
TIMEOUT_SECONDS = 60.0


def listing(count: int) -> list[StoredObject]:
    return [
        StoredObject(f"submissions/{YEAR}/bappeda/dokumen-{number:03}.pdf", f"etag-{number}", 100, datetime(2026, 1, 5))
        for number in range(count)
    ]


def test_a_claimed_document_is_not_given_to_another_worker(state):
    state.add_run_documents(RUN, listing(2), done={})
    first = state.claim_document(RUN, "worker-a", LEASE_SECONDS)
    second = state.claim_document(RUN, "worker-b", LEASE_SECONDS)
    assert first.key != second.key
    assert state.claim_document(RUN, "worker-c", LEASE_SECONDS) is None


def test_a_lapsed_claim_is_taken_over_and_its_late_finish_refused(state):
    state.add_run_documents(RUN, listing(1), done={})
    lapsed = state.claim_document(RUN, "worker-a", lease_seconds=0)
    taken_over = state.claim_document(RUN, "worker-b", LEASE_SECONDS)
    assert taken_over.key == lapsed.key and taken_over.attempts == 2
    assert not state.finish_document(RUN, lapsed.key, "worker-a", state=DocumentState.DONE, seconds=1)
    assert state.finish_document(RUN, lapsed.key, "worker-b", state=DocumentState.DONE, seconds=1)


def test_a_worker_takes_back_its_own_claim_after_an_error(state):
    state.add_run_documents(RUN, listing(1), done={})
    claimed = state.claim_document(RUN, "worker-a", LEASE_SECONDS)
    assert state.claim_document(RUN, "worker-b", LEASE_SECONDS) is None
    assert state.claim_document(RUN, "worker-a", LEASE_SECONDS).key == claimed.key


def test_progress_counts_the_documents_per_state(state):
    state.add_run_documents(RUN, listing(3), done={"submissions/2026/dinkes/lama.pdf": ("unchanged", "ok")})
    claimed = state.claim_document(RUN, "worker-a", LEASE_SECONDS)
    state.finish_document(RUN, claimed.key, "worker-a", state=DocumentState.FAILED, seconds=1, message="rusak")
    state.claim_document(RUN, "worker-a", LEASE_SECONDS)
    assert state.run_progress(RUN) == {"done": 1, "failed": 1, "claimed": 1, "pending": 1}


def drain_slowly(url: str, worker: str, start: Barrier, taken: Queue) -> None:
    """A worker process: claim and 'process' documents until none is left, reporting the keys it took."""
    store = StateStore(url)
    start.wait()
    while (claimed := store.claim_document(RUN, worker, LEASE_SECONDS)) is not None:
        time.sleep(SECONDS_PER_DOCUMENT)
        store.finish_document(RUN, claimed.key, worker, state=DocumentState.DONE, seconds=SECONDS_PER_DOCUMENT)
        taken.put((worker, claimed.key))
    taken.put((worker, None))


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_workers_in_separate_processes_share_a_run_without_doing_a_document_twice(database, request, tmp_path):
    url = f"sqlite:///{tmp_path / 'state.db'}" if database == "sqlite" else request.getfixturevalue("postgres_url")
    StateStore(url).add_run_documents(RUN, listing(SHARED_DOCUMENTS), done={})
    context = multiprocessing.get_context("spawn")
    start, taken = context.Barrier(SHARING_WORKERS), context.Queue()
    workers = [context.Process(target=drain_slowly, args=(url, f"worker-{n}", start, taken)) for n in range(SHARING_WORKERS)]
    for worker in workers:
        worker.start()
    results, finished = [], 0
    while finished < SHARING_WORKERS:
        worker, key = taken.get(timeout=TIMEOUT_SECONDS)
        finished += key is None
        results += [(worker, key)] if key else []
    for worker in workers:
        worker.join()
    keys = [key for _, key in results]
    assert sorted(keys) == sorted(obj.key for obj in listing(SHARED_DOCUMENTS))  # each once, none lost
    assert len({worker for worker, _ in results}) > 1
    assert {document.attempts for document in StateStore(url).run_documents(RUN)} == {1}


def test_only_storage_and_database_errors_are_retried():
    assert is_transient(StorageError("the S3 endpoint did not answer"))
    assert is_transient(OperationalError("SELECT 1", {}, Exception("server closed the connection")))
    assert is_transient(ConnectionResetError())
    assert not is_transient(ObjectNotFound("no such key"))
    restarting = StateStoreUnavailable("cannot open the state database")
    restarting.__cause__ = OperationalError("SELECT 1", {}, Exception("the database system is starting up"))
    assert is_transient(restarting)  # a worker opening its state store while PostgreSQL restarts tries again
    assert not is_transient(StateStoreUnavailable("cannot open the state database: Can't load plugin"))
    assert not is_transient(ValueError("a bug"))
    assert retry_transient(None, None, Failed(data=StorageError("S3 restarting")))
    assert not retry_transient(None, None, Failed(data=KeyError("a bug")))


def test_a_machine_opens_processes_only_for_enough_documents():
    settings = Settings(_env_file=None, processes=4)
    assert processes_for(settings, documents=0) == 1
    assert processes_for(settings, documents=flows.pipeline.DOCUMENTS_PER_PROCESS * 2) == 2
    assert processes_for(settings, documents=10_000) == 4


def test_workers_stop_taking_documents_once_their_run_is_stopped(settings):
    """Ctrl-C or SIGTERM marks the run interrupted: its workers finish the document in hand, not the whole list."""
    pipeline = flows.pipeline.Pipeline(settings)
    pipeline.state.start_run(RUN, YEAR, {})
    pipeline.state.add_run_documents(RUN, listing(3), done={})

    def stopped_meanwhile(obj: StoredObject) -> flows.pipeline.Processed:
        pipeline.state.finish_run(RUN, RunStatus.INTERRUPTED, {}, flows.nightly.STOPPED_MESSAGE)
        return flows.pipeline.Processed(obj.key, flows.pipeline.Outcome.NEW, "ok")

    assert pipeline.drain(RUN, False, "worker-a", process=stopped_meanwhile) == 1
    assert pipeline.state.run_progress(RUN)[DocumentState.PENDING] == 2  # the next run does them


def drain_one_slow_document(settings: Settings) -> tuple[flows.pipeline.Pipeline, RunDocument | None]:
    """A worker on a short lease processes one document for several leases; meanwhile another worker tries to
    claim it. Returns the pipeline and what that other worker got."""
    pipeline = flows.pipeline.Pipeline(settings.model_copy(update={"claim_lease_seconds": SHORT_LEASE_SECONDS}))
    pipeline.state.start_run(RUN, YEAR, {})
    pipeline.state.add_run_documents(RUN, listing(1), done={})
    taken_meanwhile = []

    def slower_than_its_lease(obj: StoredObject) -> flows.pipeline.Processed:
        time.sleep(SHORT_LEASE_SECONDS * LEASES_PER_DOCUMENT)
        taken_meanwhile.append(pipeline.state.claim_document(RUN, "worker-b", LEASE_SECONDS))
        return flows.pipeline.Processed(obj.key, flows.pipeline.Outcome.NEW, "ok")

    pipeline.drain(RUN, False, "worker-a", process=slower_than_its_lease)
    return pipeline, taken_meanwhile[0]


def test_a_document_that_takes_longer_than_the_lease_stays_with_its_worker(settings):
    """The lease says the worker is alive, not how long a document may take: a 1,000-page scan is not done twice."""
    pipeline, taken_meanwhile = drain_one_slow_document(settings)
    assert taken_meanwhile is None
    [document] = pipeline.state.run_documents(RUN)
    assert (document.state, document.claimed_by, document.attempts) == (DocumentState.DONE, "worker-a", 1)


def test_a_document_still_in_hand_after_its_leases_is_left_to_another_worker(settings, monkeypatch):
    """A read that never returns must not hold the run for ever: after LEASES_PER_DOCUMENT the claim lapses."""
    monkeypatch.setattr(flows.pipeline, "LEASES_PER_DOCUMENT", 1)
    _, taken_meanwhile = drain_one_slow_document(settings)
    assert taken_meanwhile.claimed_by == "worker-b"


def test_a_renewal_is_refused_once_the_claim_was_taken_over(state):
    state.add_run_documents(RUN, listing(1), done={})
    lapsed = state.claim_document(RUN, "worker-a", lease_seconds=0)
    assert state.claim_document(RUN, "worker-b", LEASE_SECONDS) is not None
    assert not state.renew_claim(RUN, lapsed.key, "worker-a", LEASE_SECONDS)
    assert state.renew_claim(RUN, lapsed.key, "worker-b", LEASE_SECONDS)


# Through the flow: ephemeral Prefect server, the test S3 bucket, SQLite.


def upload_unreadable(settings: Settings, count: int) -> list[str]:
    """Broken PDFs of distinct contents: read and recorded like any upload, but without the model, so tests stay fast."""
    store = ObjectStore.from_settings(settings)
    keys = [layout.submission_key(YEAR, "bappeda", f"pindaian-{number:02}.pdf") for number in range(count)]
    for number, key in enumerate(keys):
        store.put_bytes(key, b"%PDF-1.4 rusak " + str(number).encode())
    return keys


# A worker that reads slowly, killed part-way through its run by the test.
DOOMED_WORKER = f"""
import sys, time
from flows.pipeline import Pipeline
from settings import get_settings
pipeline, run_id = Pipeline(get_settings()), sys.argv[1]
pending, _ = pipeline.triage({YEAR}, pipeline.discover({YEAR}).objects, force=False)
pipeline.state.start_run(run_id, {YEAR}, {{}})
pipeline.state.add_run_documents(run_id, pending, done={{}})
def slowly(obj):
    time.sleep({SLOW_SECONDS_PER_DOCUMENT})
    return pipeline.process(obj, run_id)
pipeline.drain(run_id, False, "doomed", process=slowly)
"""


def test_a_killed_run_keeps_its_finished_documents_and_the_next_run_does_the_rest(environment, prefect_harness):
    keys = upload_unreadable(environment, count=8)
    state = StateStore(environment.state_url())
    doomed = subprocess.Popen([sys.executable, "-c", DOOMED_WORKER, "doomed-run"], start_new_session=True)
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while state.run_progress("doomed-run")[DocumentState.DONE] < KILL_AFTER_DOCUMENTS:
        assert time.monotonic() < deadline and doomed.poll() is None
        time.sleep(0.1)
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait()
    finished = state.run_progress("doomed-run")[DocumentState.DONE]
    result = nightly(year=YEAR)
    assert result["counts"]["unchanged"] == finished
    assert result["counts"]["new"] == len(keys) - finished
    assert result["counts"]["extracted"] == len(keys) - finished and result["counts"]["failed"] == 0
    assert state.run("doomed-run").status == RunStatus.INTERRUPTED


def child_processes(pid: int) -> set[int]:
    """The processes `pid` started (Linux /proc): a command-line run's temporary Prefect server among them."""
    children = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children |= {int(child) for child in (task / "children").read_text().split()}
    return children


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")  # a zombie has ended


def test_sigterm_ends_a_command_line_run_and_its_temporary_prefect_server(environment):
    """`kill` or `systemctl stop` on `spbe-evidence run`: the run is marked interrupted, the next run does the rest,
    and the Prefect server the command started for itself is not left running for good."""
    upload_unreadable(environment, count=SHARED_DOCUMENTS)
    state = StateStore(environment.state_url())
    alone = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_API")}
    command = subprocess.Popen([sys.executable, "-m", "spbe_evidence.cli", "run", "--year", str(YEAR)], env=alone,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not state.runs(limit=1):
        assert time.monotonic() < deadline and command.poll() is None
        time.sleep(SLOT_POLL_SECONDS)
    servers = child_processes(command.pid)
    command.send_signal(signal.SIGTERM)
    assert command.wait(TIMEOUT_SECONDS) == EXIT_SIGNALLED + signal.SIGTERM
    assert servers
    while any(is_running(pid) for pid in servers):
        assert time.monotonic() < deadline, "the temporary Prefect server outlived its command"
        time.sleep(SLOT_POLL_SECONDS)
    [run] = state.runs(limit=1)
    assert run.status == RunStatus.INTERRUPTED


def test_a_signal_the_moment_a_run_is_recorded_marks_it_interrupted(settings, monkeypatch):
    """The window the command-line test above hits on a loaded machine: SIGTERM while the run takes over the runs an
    earlier killed process left, before it lists the bucket."""
    def stopped(state, run_id):
        raise SystemExit(EXIT_SIGNALLED + signal.SIGTERM)  # as the command's SIGTERM handler raises it

    monkeypatch.setattr(StateStore, "interrupt_unfinished_runs", stopped)
    pipeline = flows.pipeline.Pipeline(settings)
    with pytest.raises(SystemExit):
        flows.nightly.run_year(pipeline, YEAR, None, None, False, 0, logging.getLogger(__name__))
    [run] = pipeline.state.runs(limit=1)
    assert run.status == RunStatus.INTERRUPTED


def test_a_second_run_waits_for_the_run_slot(environment, prefect_harness):
    upload_unreadable(environment, count=1)
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(environment.run_slot, 1)
    results = []
    second = threading.Thread(target=lambda: results.append(nightly(year=YEAR)))
    with concurrency(environment.run_slot, occupy=1, strict=True):  # the test is the first run
        second.start()
        time.sleep(5)
        assert second.is_alive() and StateStore(environment.state_url()).runs(limit=1) == []
    second.join(TIMEOUT_SECONDS)
    assert results[0]["counts"]["new"] == 1


def test_a_run_slot_left_taken_by_a_killed_run_is_freed_by_the_next_run(
    environment, prefect_harness, caplog, monkeypatch
):
    """Prefect's lease on the slot died with the killed process (an ephemeral server keeps it in memory): without
    this, every later run would wait for ever. Silence is measured on the waiting run's own clock."""
    monkeypatch.setattr(flows.operations, "ORPHANED_AFTER_SECONDS", ORPHANED_AFTER_SECONDS)
    monkeypatch.setattr(flows.operations, "SLOT_POLL_SECONDS", SLOT_POLL_SECONDS)
    upload_unreadable(environment, count=1)
    flows.operations.ensure_run_slot(environment.run_slot)
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(environment.run_slot, GlobalConcurrencyLimitUpdate(active_slots=1))
    state = StateStore(environment.state_url())
    state.hold_slot(environment.run_slot, "killed-run")  # and never renewed
    result = nightly(year=YEAR)
    assert result["counts"]["new"] == 1
    assert "held by a run that stopped without freeing it" in caplog.text
    assert not flows.operations.run_slot_taken(environment.run_slot) and state.slot_holder(environment.run_slot) is None


def test_a_holder_that_says_it_is_alive_keeps_the_run_slot(environment, prefect_harness, monkeypatch):
    """However long it runs: a waiting run frees only a slot whose holder fell silent."""
    monkeypatch.setattr(flows.operations, "ORPHANED_AFTER_SECONDS", ORPHANED_AFTER_SECONDS)
    monkeypatch.setattr(flows.operations, "SLOT_POLL_SECONDS", SLOT_POLL_SECONDS)
    flows.operations.ensure_run_slot(environment.run_slot)
    state = StateStore(environment.state_url())
    waiting = []
    second = threading.Thread(target=lambda: waiting.append(
        flows.operations.wait_for_run_slot(environment, state, "second", logging.getLogger(__name__))))
    with concurrency(environment.run_slot, occupy=1, strict=True):
        state.hold_slot(environment.run_slot, "first")
        second.start()
        deadline = time.monotonic() + 4 * ORPHANED_AFTER_SECONDS
        while time.monotonic() < deadline:
            assert state.renew_slot(environment.run_slot, "first")
            time.sleep(SLOT_POLL_SECONDS)
        assert second.is_alive() and state.slot_holder(environment.run_slot).holder == "first"
        state.release_slot(environment.run_slot, "first")
    second.join(TIMEOUT_SECONDS)
    assert waiting == [True]


def test_processes_of_one_machine_share_a_run(environment, prefect_harness, monkeypatch):
    monkeypatch.setattr(flows.pipeline, "DOCUMENTS_PER_PROCESS", 1)
    monkeypatch.setenv("SPBE_PROCESSES", "2")
    get_settings.cache_clear()
    keys = upload_unreadable(environment, count=4)
    result = nightly(year=YEAR)
    assert result["counts"]["new"] == len(keys)
    assert sum(result["workers"].values()) == len(keys)
    assert all(not worker.endswith(f":{os.getpid()}") for worker in result["workers"])  # in the pool's processes


def test_a_run_taken_over_while_it_was_paused_publishes_nothing(environment, prefect_harness, monkeypatch):
    """Paused past its slot's lease, it finds another run has taken over: that run's reports must stand."""
    upload_unreadable(environment, count=1)
    process = flows.pipeline.Pipeline.process

    def paused_and_taken_over(pipeline, obj, run_id, force=False):
        pipeline.state.interrupt_unfinished_runs("the-run-that-took-over")  # what that run does as it starts
        return process(pipeline, obj, run_id, force)

    monkeypatch.setattr(flows.pipeline.Pipeline, "process", paused_and_taken_over)
    with pytest.raises(flows.nightly.RunTakenOver, match="publishes none"):
        nightly(year=YEAR)
    [run] = StateStore(environment.state_url()).runs(limit=1)
    assert run.status == RunStatus.INTERRUPTED and "took over" in run.message
    assert not list(ObjectStore.from_settings(environment).list_objects(f"reports/{YEAR}/"))


def test_a_document_is_retried_when_storage_does_not_answer(environment, prefect_harness, monkeypatch):
    upload_unreadable(environment, count=1)
    monkeypatch.setattr(flows.nightly, "process_submission", flows.nightly.process_submission.with_options(
        retry_delay_seconds=0))  # fmt: skip
    calls = []
    process = flows.pipeline.Pipeline.process

    def flaky(pipeline, obj, run_id, force=False):
        calls.append(obj.key)
        if len(calls) == 1:
            raise StorageError("cannot download: the S3 endpoint did not answer properly")
        return process(pipeline, obj, run_id, force)

    monkeypatch.setattr(flows.pipeline.Pipeline, "process", flaky)
    result = nightly(year=YEAR)
    assert (result["counts"]["new"], result["counts"]["failed"], len(calls)) == (1, 0, 2)
