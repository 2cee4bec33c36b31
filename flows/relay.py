"""The upload relay: turns the S3 server's change notifications into a rerun for the SKPD that uploaded.

MinIO (bucket notification webhook: S3 event records) and SeaweedFS (filer notification webhook) POST one event per
change. The relay keeps changes to submissions/{year}/{skpd}/{file} in our bucket - not folders, not the parts of a
multipart upload, not the pipeline's own writes (extracted/, reports/) - waits until the SKPD has been quiet for
SPBE_RELAY_QUIET_SECONDS, and starts one rerun per year for the SKPD that changed. A lost event only costs time:
the nightly scan finds every upload anyway.

    python -m flows.relay        # listens on SPBE_RELAY_HOST:SPBE_RELAY_PORT; POST events to /, GET /health
"""
from __future__ import annotations

import contextvars
import hmac
import json
import logging
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_plus

from prefect.deployments import run_deployment

from settings import Settings, get_settings
from storage import layout

logger = logging.getLogger(__name__)

S3_EVENT_PREFIX = "s3:"  # MinIO names events s3:ObjectCreated:Put, AWS ObjectCreated:Put
S3_CHANGES = ("ObjectCreated:", "ObjectRemoved:")
FILER_CHANGES = frozenset({"create", "update", "delete", "rename"})
FILER_BUCKETS_DIR = "/buckets"  # where SeaweedFS keeps S3 buckets in its filer (weed's default)
MAX_BODY_BYTES = 1024 * 1024  # one notification is a few kilobytes
TICK_SECONDS = 1.0
RELAY_TAG = "relay"
BEARER = "Bearer "
HEALTH_PATH = "/health"


@dataclass(frozen=True, order=True)
class Change:
    """Something changed in an SKPD's submissions of a year."""

    year: int
    skpd: str


def parse_notification(payload: object, bucket: str) -> list[Change]:
    """The SKPD submissions a MinIO/S3 or SeaweedFS notification reports as created, replaced or removed."""
    if not isinstance(payload, dict):
        return []
    keys = _s3_event_keys(payload, bucket) if "Records" in payload else _filer_event_keys(payload, bucket)
    return sorted({change for key in keys if (change := submission_change(key)) is not None})


def submission_change(key: str) -> Change | None:
    """The (year, SKPD) of a key in the submissions layout that names a finished upload; None for anything else."""
    parsed = layout.parse_submission_key(key)
    if parsed is None or layout.is_unfinished_upload(parsed.filename):
        return None
    return Change(parsed.year, parsed.skpd)


def _s3_event_keys(payload: dict, bucket: str) -> Iterator[str]:
    """Object keys of the S3 event records about our bucket (keys arrive URL-encoded)."""
    for record in payload.get("Records") or []:
        s3 = record.get("s3") or {}
        event = str(record.get("eventName", "")).removeprefix(S3_EVENT_PREFIX)
        if (s3.get("bucket") or {}).get("name") == bucket and event.startswith(S3_CHANGES):
            yield unquote_plus((s3.get("object") or {}).get("key", ""))


def _filer_event_keys(payload: dict, bucket: str) -> Iterator[str]:
    """Object keys of a SeaweedFS filer event about a file of our bucket: its path, and a rename's new path."""
    if payload.get("event_type") not in FILER_CHANGES:
        return
    message = payload.get("message") or {}
    entry = message.get("new_entry") or message.get("old_entry") or {}
    if entry.get("is_directory"):
        return
    paths = {str(payload.get("key", ""))}
    if message.get("new_parent_path") and entry.get("name"):
        paths.add(f"{message['new_parent_path']}/{entry['name']}")
    bucket_dir = f"{FILER_BUCKETS_DIR}/{bucket}/"
    yield from (path.removeprefix(bucket_dir) for path in paths if path.startswith(bucket_dir))


class Debouncer:
    """Holds changes until their SKPD has been quiet for `quiet` seconds, or waited `longest`, then lets them go."""

    def __init__(self, quiet: float, longest: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet, self.longest, self.clock = quiet, longest, clock
        self._first: dict[Change, float] = {}
        self._last: dict[Change, float] = {}
        self._lock = threading.Lock()

    def add(self, changes: Iterable[Change]) -> None:
        now = self.clock()
        with self._lock:
            for change in changes:
                self._first.setdefault(change, now)
                self._last[change] = now

    def due(self) -> list[Change]:
        now = self.clock()
        with self._lock:
            ready = sorted(
                change for change, last in self._last.items()
                if now - last >= self.quiet or now - self._first[change] >= self.longest
            )  # fmt: skip
            for change in ready:
                del self._first[change], self._last[change]
        return ready


def rerun_parameters(changes: Iterable[Change]) -> list[dict]:
    """One rerun per year, for the SKPD that changed in it."""
    by_year: dict[int, set[str]] = defaultdict(set)
    for change in changes:
        by_year[change.year].add(change.skpd)
    return [{"year": year, "skpd": sorted(skpd)} for year, skpd in sorted(by_year.items())]


def start_rerun(deployment: str, parameters: dict) -> str:
    """A flow run of the rerun deployment, tagged as started by the relay; returns its name."""
    return run_deployment(deployment, parameters=parameters, timeout=0, tags=[RELAY_TAG]).name


class Relay:
    """Notifications in, reruns out; `trigger(parameters)` starts one rerun (a flow run of SPBE_RERUN_DEPLOYMENT)."""

    def __init__(
        self, settings: Settings, trigger: Callable[[dict], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.bucket, self.token = settings.s3_bucket, settings.relay_token
        self.debouncer = Debouncer(settings.relay_quiet_seconds, settings.relay_max_delay_seconds, clock)
        self.trigger = trigger or (lambda parameters: start_rerun(settings.rerun_deployment, parameters))

    def authorized(self, header: str | None) -> bool:
        return self.token is None or hmac.compare_digest(header or "", BEARER + self.token)

    def receive(self, payload: object) -> list[Change]:
        """Note the submissions a notification reports; they are rerun once their SKPD is quiet."""
        changes = parse_notification(payload, self.bucket)
        self.debouncer.add(changes)
        return changes

    def flush(self) -> list[dict]:
        """Start the reruns that are due; one that cannot start is tried again at the next flush."""
        due = self.debouncer.due()
        started = []
        for parameters in rerun_parameters(due):
            try:
                name = self.trigger(parameters)
            except Exception as error:  # the Prefect server restarting: keep the changes, try again
                logger.error("could not start a rerun for %s (%s: %s)", parameters, type(error).__name__, error)
                self.debouncer.add(Change(parameters["year"], skpd) for skpd in parameters["skpd"])
                continue
            logger.info("started rerun %s for %s", name, parameters)
            started.append(parameters)
        return started


def handler_for(relay: Relay) -> type[BaseHTTPRequestHandler]:
    """HTTP handler of one relay: POST a notification anywhere, GET/HEAD /health."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._answer(self._receive())

        def _receive(self) -> HTTPStatus:
            if not relay.authorized(self.headers.get("Authorization")):
                return HTTPStatus.UNAUTHORIZED
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:  # a garbled header must not take the handler down
                return HTTPStatus.BAD_REQUEST
            if length < 0:  # read(-1) would wait for the client to close
                return HTTPStatus.BAD_REQUEST
            if length > MAX_BODY_BYTES:
                return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            try:
                payload = json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                return HTTPStatus.BAD_REQUEST
            changes = relay.receive(payload)
            if changes:
                logger.info("noted %s", ", ".join(f"{change.skpd} ({change.year})" for change in changes))
            return HTTPStatus.NO_CONTENT

        def do_GET(self) -> None:
            self._answer(HTTPStatus.OK if self.path == HEALTH_PATH else HTTPStatus.NOT_FOUND)

        do_HEAD = do_GET  # MinIO probes its webhook target before sending

        def _answer(self, status: HTTPStatus) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            logger.debug(format, *args)

    return Handler


class RelayServer:
    """The relay's HTTP server and the thread that starts due reruns, for `serve` and the tests."""

    def __init__(self, relay: Relay, host: str, port: int) -> None:
        self.relay = relay
        self.http = ThreadingHTTPServer((host, port), handler_for(relay))
        self._stopped = threading.Event()
        self._threads = [
            threading.Thread(target=self.http.serve_forever, name="relay-http", daemon=True),
            threading.Thread(target=self._tick, name="relay-flush", daemon=True),
        ]

    @property
    def port(self) -> int:
        return self.http.server_address[1]

    def start(self) -> RelayServer:
        """Serve and flush in threads that keep the caller's Prefect settings (its API URL among them)."""
        for thread in self._threads:
            context = contextvars.copy_context()
            thread.run = partial(context.run, thread.run)
            thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.http.shutdown()
        self.http.server_close()
        for thread in self._threads:
            thread.join()

    def _tick(self) -> None:
        while not self._stopped.wait(TICK_SECONDS):
            self.relay.flush()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    server = RelayServer(Relay(settings), settings.relay_host, settings.relay_port).start()
    logger.info(
        "relay for bucket %s listening on http://%s:%d/, starting %s", settings.s3_bucket, settings.relay_host,
        server.port, settings.rerun_deployment,
    )  # fmt: skip
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
