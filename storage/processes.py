"""Child processes and loopback probes shared by the local S3 server and `make serve`: signal, wait, ask."""
from __future__ import annotations

import http.client
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

DEATH_POLL_SECONDS = 0.05
PROC = Path("/proc")
ZOMBIE_STATE = "Z"


def send_signal(pid: int, signal_number: signal.Signals) -> None:
    """Send a signal, ignoring a process that has already gone."""
    try:
        os.kill(pid, signal_number)
    except ProcessLookupError:
        pass


def pid_alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (a killed child of init may stay one in containers)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != ZOMBIE_STATE


def wait_for_exit(alive: Callable[[], bool], timeout: float) -> bool:
    """Poll until the process is gone; False if it is still alive after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while alive():
        if time.monotonic() >= deadline:
            return False
        time.sleep(DEATH_POLL_SECONDS)
    return True


def http_get(host: str, port: int, path: str, timeout: float) -> tuple[int, bytes] | None:
    """Status and body of an anonymous GET, None when nothing answers."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def http_status(host: str, port: int, path: str, timeout: float) -> int | None:
    """Status of an anonymous GET, None when nothing answers."""
    answer = http_get(host, port, path, timeout)
    return None if answer is None else answer[0]
