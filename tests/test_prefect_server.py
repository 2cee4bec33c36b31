"""Production with Prefect, for real: a Prefect server on PostgreSQL, prefect.yaml deployed, two process workers, and
the state store on PostgreSQL. Started with the pieces `make serve` uses (flows/serve.py); ~2 minutes."""
from __future__ import annotations

import http.client
import json
import random
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from fpdf import FPDF
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterTags,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings

from databases import state_url, throwaway_database
from flows.relay import RELAY_TAG, Relay, RelayServer
from flows.serve import deploy, prefect_environment, start_server, start_worker
from settings import Settings
from storage import layout
from storage.objects import ObjectStore
from storage.state import DocumentState, RunStatus, StateStore
from test_relay import filer_file_created, post

pytestmark = [pytest.mark.prefect_server, pytest.mark.postgres]

EVALSET = Path(__file__).resolve().parent.parent / "evalsets" / "own" / "items.jsonl"
WITA = ZoneInfo("Asia/Makassar")
SHARED_YEAR, WAITING_YEAR = 2026, 2027
SHARED_SKPD = ("bappeda", "diskominfotik", "inspektorat", "dinkes")
# Enough reading (~20 s for one worker) for the helper to join: its flow run takes ~10 s to start and load the model.
SHARED_DOCUMENTS = 40
WORKERS = 2
WORKER_POLL_SECONDS = "1"  # how often a worker asks for runs (Prefect's default is 10 s)
RUN_TIMEOUT_SECONDS = 240.0
POLL_SECONDS = 1.0
WAIT_MESSAGE = "Waiting for the run slot"
AWAITING_SLOT = "AwaitingConcurrencySlot"
RELAY_TOKEN = "rahasia"
PDF_FONT_SIZE = 10
PDF_LINE_HEIGHT = 5
LATIN_1 = "latin-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Stack:
    api_url: str
    settings: Settings  # what the workers run with
    nightly_starts: list[datetime]  # the runs the server scheduled for the nightly deployment

    @property
    def state(self) -> StateStore:
        return StateStore(self.settings.state_url())


def set_nightly_schedule_aside() -> list[datetime]:
    """The nightly's runs as the server scheduled them; then the schedule is paused (the server drops its runs), so
    a real 02:00 WITA nightly never joins a test."""
    with get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name("spbe-nightly/nightly")
        of_nightly = DeploymentFilter(id=DeploymentFilterId(any_=[nightly.id]))
        wait_for(lambda: client.read_flow_runs(deployment_filter=of_nightly), "the server to schedule the nightly")
        scheduled = client.read_flow_runs(deployment_filter=of_nightly)
        for schedule in nightly.schedules:
            client.update_deployment_schedule(nightly.id, schedule.id, active=False)
        assert not client.read_flow_runs(deployment_filter=of_nightly)
    return [flow_run.expected_start_time for flow_run in scheduled]

    @property
    def state(self) -> StateStore:
        return StateStore(self.settings.state_url())


@pytest.fixture(scope="module")
def stack(s3_server, tmp_path_factory) -> Iterator[Stack]:
    """Prefect server (PostgreSQL, pg_trgm), the deployments of prefect.yaml, two workers, one run at a time each."""
    home = tmp_path_factory.mktemp("prefect-home")
    with throwaway_database("pg_trgm") as prefect_db, throwaway_database() as state_db:
        settings = Settings(
            _env_file=None, s3_endpoint=s3_server.endpoint, s3_access_key=s3_server.access_key,
            s3_secret_key=s3_server.secret_key, s3_bucket=f"prefect-{uuid.uuid4().hex[:10]}",
            database_url=state_url(state_db),
            data_dir=home / "var", processes=1,  # one process a worker: the sharing is between workers
        )  # fmt: skip
        ObjectStore.from_settings(settings).ensure_bucket()
        port = free_port()
        spbe = {f"SPBE_{name.upper()}": str(value) for name, value in settings.model_dump().items() if value is not None}
        env = prefect_environment(f"http://127.0.0.1:{port}/api", home, {
            **spbe, "PREFECT_API_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{prefect_db}",
            "PREFECT_WORKER_QUERY_SECONDS": WORKER_POLL_SECONDS,
        })  # fmt: skip
        server = start_server(env, port, home / "server.log")
        workers = []
        try:
            deploy(env, settings.run_slot)
            with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}):
                nightly_starts = set_nightly_schedule_aside()
            workers = [start_worker(env, f"worker-{n}", 1, home / f"worker-{n}.log") for n in range(1, WORKERS + 1)]
            yield Stack(env["PREFECT_API_URL"], settings, nightly_starts)
        finally:
            for process in [*workers, server]:
                process.stop()


@pytest.fixture
def api(stack: Stack) -> Iterator[Stack]:
    """This test process talks to the stack's server."""
    with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
        yield stack


def evalset_pdfs(count: int) -> list[bytes]:
    """PDFs of the project's own labelled documents (real Indonesian paperwork text, each different)."""
    items = [json.loads(line) for line in EVALSET.read_text(encoding="utf-8").splitlines()]
    pdfs = []
    for item in random.Random(SHARED_DOCUMENTS).sample(items, count):
        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=PDF_FONT_SIZE)
        pdf.multi_cell(0, PDF_LINE_HEIGHT, item["text"].encode(LATIN_1, "replace").decode(LATIN_1))
        pdfs.append(bytes(pdf.output()))
    return pdfs


def wait_until_final(flow_run_id: UUID) -> FlowRun:
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    with get_client(sync_client=True) as client:
        while not (flow_run := client.read_flow_run(flow_run_id)).state.is_final():
            assert time.monotonic() < deadline, f"flow run {flow_run.name} still {flow_run.state.name}"
            time.sleep(POLL_SECONDS)
    return flow_run


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(POLL_SECONDS)


def logs_of(flow_run_id: UUID) -> str:
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return "\n".join(log.message for log in logs)


def state_names(flow_run_id: UUID) -> list[str]:
    with get_client(sync_client=True) as client:
        return [state.name for state in client.read_flow_run_states(flow_run_id)]


def run_of(state: StateStore, flow_run: FlowRun):
    """The state store's record of a flow run's run (its id ends with the flow run id's start)."""
    return next(run for run in state.runs(limit=50) if run.id.endswith(str(flow_run.id)[:8]))


def test_prefect_yaml_deploys_the_nightly_at_two_wita_and_an_on_demand_rerun(api):
    with get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name("spbe-nightly/nightly")
        rerun = client.read_deployment_by_name("spbe-nightly/rerun")
        client.read_deployment_by_name("spbe-send-reports/send-reports")
        client.read_deployment_by_name("spbe-process-documents/helper")
    [schedule] = nightly.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Makassar")
    assert api.nightly_starts and {start.astimezone(WITA).strftime("%H:%M") for start in api.nightly_starts} == {"02:00"}
    assert rerun.schedules == []
    assert set(rerun.parameters) == {"year", "skpd", "indicators", "force", "send_reports", "helpers"}
    for deployment in (nightly, rerun):
        assert deployment.global_concurrency_limit.limit == 1
        assert deployment.concurrency_options.collision_strategy == "ENQUEUE"


def test_a_rerun_shared_by_two_workers_does_each_document_once_and_writes_reports(api):
    store = ObjectStore.from_settings(api.settings)
    for number, pdf in enumerate(evalset_pdfs(SHARED_DOCUMENTS)):
        store.put_bytes(layout.submission_key(SHARED_YEAR, SHARED_SKPD[number % len(SHARED_SKPD)], f"bukti-{number:03}.pdf"), pdf)
    flow_run = run_deployment("spbe-nightly/rerun", parameters={"year": SHARED_YEAR, "helpers": 1}, timeout=0)
    assert wait_until_final(flow_run.id).state.is_completed(), logs_of(flow_run.id)
    run = run_of(api.state, flow_run)
    assert run.status == RunStatus.COMPLETED and run.counts["new"] == SHARED_DOCUMENTS
    documents = api.state.run_documents(run.id)
    assert {(document.state, document.attempts) for document in documents} == {(DocumentState.DONE, 1)}
    assert len({document.claimed_by for document in documents}) == WORKERS  # the parent's worker and the helper's
    for skpd in SHARED_SKPD:
        assert store.exists(layout.report_key(SHARED_YEAR, run.id, skpd, "html"))


def test_a_second_run_waits_while_another_holds_the_run_slot(api):
    """The test holds the run slot like a long first run; a rerun, a relayed rerun and a nightly come in."""
    relay_settings = api.settings.model_copy(update={"relay_token": RELAY_TOKEN, "relay_quiet_seconds": 0})
    relay = RelayServer(Relay(relay_settings), "127.0.0.1", 0).start()
    upload = filer_file_created(api.settings.s3_bucket, f"submissions/{WAITING_YEAR}/bappeda/Peta Rencana.pdf")
    try:
        with holding_run_slot(api.settings.run_slot):
            rerun = run_deployment("spbe-nightly/rerun", parameters={"year": WAITING_YEAR}, timeout=0)
            assert post(relay.port, json.dumps(upload).encode(), RELAY_TOKEN) == http.HTTPStatus.NO_CONTENT
            wait_for(relayed_runs, "the relay's rerun")
            [relayed] = relayed_runs()
            # One rerun runs (and waits for the slot), the other waits for the deployment's only slot: a worker is free.
            wait_for(lambda: any(AWAITING_SLOT in state_names(run) for run in (rerun.id, relayed.id)), "a queued rerun")
            nightly = run_deployment("spbe-nightly/nightly", parameters={"year": WAITING_YEAR}, timeout=0)
            runs = [rerun.id, relayed.id, nightly.id]
            wait_for(lambda: sum(WAIT_MESSAGE in logs_of(run) for run in runs) == WORKERS, "two runs at the slot")
            assert not [run for run in api.state.runs(limit=50) if run.year == WAITING_YEAR]  # none processes
    finally:
        relay.stop()
    assert (relayed.parameters["year"], relayed.parameters["skpd"]) == (WAITING_YEAR, ["bappeda"])
    for run in runs:
        assert wait_until_final(run).state.is_completed(), logs_of(run)
    waited = sorted((run.started_at, run.finished_at) for run in api.state.runs(limit=50) if run.year == WAITING_YEAR)
    assert len(waited) == len(runs)
    assert all(finished <= next_started for (_, finished), (next_started, _) in zip(waited, waited[1:]))


@contextmanager
def holding_run_slot(name: str) -> Iterator[None]:
    """Hold the run slot on the stack's server, like a long first run. Plain API calls: Prefect's concurrency() keeps
    one acquisition service per limit name for the whole process, bound to the first server it talked to."""
    with get_client(sync_client=True) as client:
        response = client.increment_concurrency_slots_with_lease(
            names=[name], slots=1, mode="concurrency", lease_duration=RUN_TIMEOUT_SECONDS
        )
        lease = UUID(response.json()["lease_id"])
        try:
            yield
        finally:
            client.release_concurrency_slots_with_lease(lease)


def relayed_runs() -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[RELAY_TAG])))
