"""Reading uploads in a worker process that is killed when one takes longer than the time limit.

A parser stuck in C (pdfium on a crafted page, libxml2, Tesseract) cannot be interrupted from
Python, so the only sure stop is a process boundary. One long-lived worker (`python -m
extractors.worker`, its own session) reads the uploads one after another: starting it costs
~0.6 s once, each upload then only the copy of its bytes through a pipe (a few ms). When
time runs out the worker's whole process group is killed (with the Tesseract or LibreOffice
it runs) and the next upload starts a fresh one. A worker that dies (a segfault in a C
library, the out-of-memory killer) gives a CORRUPT document, never an exception.

Why not multiprocessing: its "spawn" and "forkserver" children re-run the caller's main
script (a script without the `if __name__ == "__main__"` guard would then fail every
upload), and "fork" from a caller with threads (Prefect) can copy a lock held by another
thread and hang. A plain subprocess has neither problem.

Uploads are read one at a time per process (callers in threads wait their turn; pdfium is
single-threaded anyway). The worker keeps the environment it started with: install
Tesseract or LibreOffice, and the next worker (after a restart or a recycle) sees it.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from extractors.document import Document, Status
from extractors.failures import ExtractionFailure, corrupt

logger = logging.getLogger(__name__)

WORKER_MODULE = "extractors.worker"
# The folder holding the extractors and settings packages, for a worker started from anywhere.
SOURCE_ROOT = Path(__file__).resolve().parent.parent
# A fresh worker after this many uploads, so memory a parser leaves fragmented cannot pile up over a night.
DOCUMENTS_PER_WORKER = 200

TIMED_OUT_MESSAGE = (
    "Berkas ini terlalu berat untuk dibaca dalam batas waktu pemrosesan ({seconds:g} detik). "
    "Pisahkan menjadi beberapa berkas yang lebih kecil, atau simpan ulang sebagai PDF berisi teks, lalu unggah lagi."
)


class WorkerDied(Exception):
    """The worker ended without a result: a crash inside a C library, or killed by the system."""


class _Worker:
    """One `python -m extractors.worker` process and the two pipes to it."""

    def __init__(self) -> None:
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        python_path = os.pathsep.join(filter(None, (str(SOURCE_ROOT), os.environ.get("PYTHONPATH"))))
        self.process = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, str(request_read), str(response_write)],
            pass_fds=(request_read, response_write),
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": python_path},
        )
        os.close(request_read)
        os.close(response_write)
        self.requests = Connection(request_write, readable=False)
        self.responses = Connection(response_read, writable=False)
        self.served = 0

    def run(self, work: Callable[..., Document], args: tuple[object, ...], seconds: float) -> Document | None:
        """work(*args) in the worker; None when it is not done within `seconds`. WorkerDied if it ends."""
        try:
            self.requests.send((work, args))
            if not self.responses.poll(seconds):
                return None
            result = self.responses.recv()
        except (EOFError, BrokenPipeError) as error:
            raise WorkerDied(f"extraction worker ended (exit code {self.process.wait()}) without a result") from error
        self.served += 1
        return result

    def stop(self) -> None:
        """Kill the worker and everything it started (its session is its process group)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # already gone
        self.process.wait()
        self.requests.close()
        self.responses.close()


_lock = threading.Lock()
_worker: _Worker | None = None


def run_with_time_limit(
    work: Callable[..., Document], *args: object, seconds: float, kind: str | None = None
) -> Document:
    """work(*args) in the worker process; a TOO_LARGE document if it is not done within `seconds`.

    `work` must be importable by name (a module-level function) and never raise: readers
    turn every failure into a Document already.
    """
    global _worker
    with _lock:
        if _worker is None or _worker.process.poll() is not None:
            _worker = _Worker()
        worker = _worker
        try:
            result = worker.run(work, args, seconds)
        except WorkerDied as error:
            logger.error("%s (%s)", error, kind)
            result = corrupt(error).document(kind)
            _worker = None
        if result is None:
            logger.warning("extraction stopped after %g s (%s)", seconds, kind)
            result = ExtractionFailure(
                Status.TOO_LARGE, TIMED_OUT_MESSAGE.format(seconds=seconds),
                f"extraction exceeded time_limit_seconds={seconds:g}; worker process killed",
            ).document(kind)  # fmt: skip
            _worker = None
        elif worker.served >= DOCUMENTS_PER_WORKER:
            _worker = None
        if _worker is None:
            worker.stop()
        return result
