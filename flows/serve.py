"""`make serve`: a Prefect server, the process work pool, every deployment of prefect.yaml and a worker, here.

    python -m flows.serve [--port 4200] [--limit 1]

Open the printed address for the Prefect UI: the nightly schedule, and Run on `spbe-nightly/rerun`. Ctrl-C stops the
worker and the server. The server keeps its data in $PREFECT_HOME (var/prefect here); set
PREFECT_API_DATABASE_CONNECTION_URL to put it on PostgreSQL. The integration test starts its server and workers with
the same pieces, so what an operator runs is what is tested.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path

from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.operations import ensure_run_slot
from settings import get_settings
from storage import local_server
from storage.processes import PROC, http_status, pid_alive, send_signal, wait_for_exit

PROJECT_DIR = Path(__file__).resolve().parent.parent
PREFECT_FILE = PROJECT_DIR / "prefect.yaml"
WORK_POOL = "spbe-process"  # as in prefect.yaml
LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 4200  # Prefect's own default
HEALTH_PATH = "/api/health"
READY_TIMEOUT_SECONDS = 90.0  # a first start on an empty database runs every migration
READY_POLL_SECONDS = 0.5
PROBE_TIMEOUT_SECONDS = 2.0
STOP_GRACE_SECONDS = 10.0  # a worker waits for its flow-run processes, the server for its services
KILL_WAIT_SECONDS = 5.0
LOG_TAIL_LINES = 30
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ServeError(Exception):
    """A Prefect server, worker or deployment step did not come up."""


class ManagedProcess:
    """A child in its own process group, logging to a file, stopped with everything it started."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], log_path: Path, cwd: Path) -> None:
        self.name, self.log_path = name, log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to its group, SIGKILL after STOP_GRACE_SECONDS; descendants in other sessions (flow runs) too."""
        if not self.running():
            return
        family = descendants(self.process.pid)
        _signal_group(self.process.pid, signal.SIGTERM)
        if wait_for_exit(self.running, STOP_GRACE_SECONDS) and not any(map(pid_alive, family)):
            return
        _signal_group(self.process.pid, signal.SIGKILL)
        for pid in family:
            send_signal(pid, signal.SIGKILL)
        try:
            self.process.wait(KILL_WAIT_SECONDS)
        except subprocess.TimeoutExpired:  # stuck in the kernel: say so, and still stop the other process
            print(f"pid {self.process.pid} did not exit {KILL_WAIT_SECONDS} s after SIGKILL", file=sys.stderr)

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])
        except OSError as error:
            return f"(no log: {error})"


def prefect_environment(api_url: str, home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of Prefect commands for one server: its API, its home, no analytics."""
    return {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "SPBE_PROJECT_DIR": str(PROJECT_DIR),
        **(extra or {}),
    }


def start_server(env: Mapping[str, str], port: int, log_path: Path) -> ManagedProcess:
    """`prefect server start` on loopback; returns once it answers (its database is the environment's)."""
    command = [_prefect(), "server", "start", "--host", LOOPBACK, "--port", str(port)]
    server = ManagedProcess("Prefect server", command, env, log_path, PROJECT_DIR)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not server.running():
            raise ServeError(f"the Prefect server exited while starting; last lines of {log_path}:\n{server.log_tail()}")
        if http_status(LOOPBACK, port, HEALTH_PATH, PROBE_TIMEOUT_SECONDS) == HTTPStatus.OK:
            return server
        time.sleep(READY_POLL_SECONDS)
    server.stop()
    raise ServeError(f"the Prefect server did not answer on port {port} within {READY_TIMEOUT_SECONDS:.0f} s")


def deploy(env: Mapping[str, str], run_slot: str) -> None:
    """The process work pool (created or updated), every deployment of prefect.yaml, and the run slot's limit."""
    _run(env, "work-pool", "create", WORK_POOL, "--type", "process", "--overwrite")
    _run(env, "--no-prompt", "deploy", "--all", "--prefect-file", str(PREFECT_FILE))
    with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}):
        ensure_run_slot(run_slot)


def start_worker(env: Mapping[str, str], name: str, limit: int, log_path: Path) -> ManagedProcess:
    """A worker of the pool, running at most `limit` flow runs at once, from the project folder."""
    command = [_prefect(), "worker", "start", "--pool", WORK_POOL, "--name", name, "--limit", str(limit)]
    return ManagedProcess(f"worker {name}", command, env, log_path, PROJECT_DIR)


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc (empty where there is none)."""
    parents: dict[int, list[int]] = {}
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, frontier = [], [pid]
    while frontier:
        children = parents.get(frontier.pop(), [])
        found += children
        frontier += children
    return found


def _prefect() -> str:
    """The `prefect` command of this Python's environment."""
    return str(Path(sys.executable).parent / "prefect")


def _run(env: Mapping[str, str], *arguments: str) -> None:
    result = subprocess.run([_prefect(), *arguments], env=dict(env), cwd=PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        raise ServeError(f"`prefect {' '.join(arguments)}` failed:\n{result.stdout}{result.stderr}")


def _signal_group(pid: int, number: signal.Signals) -> None:
    try:
        os.killpg(pid, number)
    except ProcessLookupError:
        pass


def _interrupt(number: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port of the Prefect server and UI")
    parser.add_argument("--limit", type=int, default=1, help="flow runs the worker runs at once")
    args = parser.parse_args(argv)
    for number in STOP_SIGNALS:  # stop cleanly on Ctrl-C, and when a service manager stops us
        signal.signal(number, _interrupt)
    settings = get_settings()
    print(local_server.up(settings), flush=True)  # the development S3 server, or the configured one if it answers
    home = Path(os.environ.get("PREFECT_HOME", settings.data_dir / "prefect")).resolve()
    api_url = f"http://{LOOPBACK}:{args.port}/api"
    env = prefect_environment(api_url, home)
    logs = settings.data_dir.resolve() / "logs"
    server = start_server(env, args.port, logs / "prefect-server.log")
    worker = None
    try:
        deploy(env, settings.run_slot)
        worker = start_worker(env, "spbe-worker", args.limit, logs / "prefect-worker.log")
        print(
            f"Prefect UI: http://{LOOPBACK}:{args.port} (deployments spbe-nightly/nightly and spbe-nightly/rerun)\n"
            f"Logs: {logs}. In another terminal: export PREFECT_API_URL={api_url}\n"
            "Ctrl-C stops the worker and the server.", flush=True,
        )  # fmt: skip
        while server.running() and worker.running():
            time.sleep(READY_POLL_SECONDS)
        print(f"{'the server' if not server.running() else 'the worker'} stopped; see {logs}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in (worker, server):
            if process is not None:
                process.stop()


if __name__ == "__main__":
    sys.exit(main())
