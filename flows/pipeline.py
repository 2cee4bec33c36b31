"""The nightly work as plain functions: find submissions, read and match what changed, assess, publish reports.

Prefect tasks in flows/nightly.py call these; tests and the command line can call them without Prefect.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from catalog import Framework, SkpdRegistry, load_framework, load_skpd_registry
from extractors import ExtractionLimits, extract, look_again_for_tools, too_large, tool_available
from extractors.document import Document, Status
from matching.chunking import Chunk
from matching.engine import Matcher
from matching.matcher import Match
from reports.completeness import CityCompleteness, assess
from reports.publish import Publication, publish
from settings import Settings
from storage import layout
from storage.objects import ObjectNotFound, ObjectStore, StorageError, StorageRefused, StoredObject
from storage.state import (
    DocumentState, Extraction, RunDocument, RunStatus, StateStore, StateStoreUnavailable, Submission,
)

logger = logging.getLogger(__name__)
Log = logging.Logger | logging.LoggerAdapter

# Embedding already runs on every core of one process (torch threads); more processes pay off for reading (pdfium,
# parsers: one core each), so a machine gets one process per this many cores, the cores split between them.
CPUS_PER_PROCESS = 4
# Another process costs ~9 s before its first document (start, imports, model and indicator index), what ~40 text
# documents take to read and embed, so each process must have at least this many to be worth starting.
DOCUMENTS_PER_PROCESS = 40
# A worker renews its claim on the document in hand this many times per lease, so a long one (a 1,000-page scan) is
# not taken over by another worker as if this one had died, and one missed renewal (a busy database) costs nothing.
RENEWALS_PER_LEASE = 3
# ... for at most this many leases (an hour by default): a document still in hand after that is stuck (a read that
# never returns), and its claim lapses so that another worker, and the run waiting for it, can go on.
LEASES_PER_DOCUMENT = 4


class Outcome(StrEnum):
    """What a run did with one submission, for the run totals an operator reads."""

    NEW = "new"
    CHANGED = "changed"
    REMATCHED = "rematched"
    UNCHANGED = "unchanged"


class NothingListed(StorageRefused):
    """The bucket lists none of the year's submissions while some count: a wrong bucket, most likely, which waiting
    does not fix."""


@dataclass(frozen=True)
class Discovery:
    """A year's submissions (of the SKPD asked for), the file names of uploads put into no SKPD's folder (the city
    summary lists them), and whether the year's folder held any submission at all, of any SKPD."""

    objects: list[StoredObject]
    loose: list[str]
    year_empty: bool


@dataclass(frozen=True)
class Processed:
    key: str
    outcome: Outcome
    status: str
    extracted: bool = False
    embedded_chunks: int = 0


@dataclass
class RunTotals:
    outcomes: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failed: int = 0
    extracted: int = 0
    embedded_documents: int = 0
    embedded_chunks: int = 0
    removed: int = 0

    def add(self, processed: Processed) -> None:
        self.outcomes[processed.outcome] += 1
        self.statuses[str(processed.status)] += 1
        self.extracted += processed.extracted
        self.embedded_documents += processed.embedded_chunks > 0
        self.embedded_chunks += processed.embedded_chunks

    @classmethod
    def of_documents(cls, documents: Iterable[RunDocument], removed: int = 0) -> RunTotals:
        """The totals of a run from its shared to-do list, whichever worker processed each document."""
        totals = cls(removed=removed)
        for document in documents:
            if document.state != DocumentState.DONE:  # failed, or left open by a run that stopped
                totals.failed += 1
                continue
            totals.add(
                Processed(document.key, Outcome(document.outcome), document.status, document.extracted,
                          document.embedded_chunks)
            )  # fmt: skip
        return totals

    def as_dict(self) -> dict:
        return {
            **{outcome.value: self.outcomes[outcome] for outcome in Outcome},
            "failed": self.failed,
            "removed": self.removed,
            "extracted": self.extracted,
            "embedded_documents": self.embedded_documents,
            "embedded_chunks": self.embedded_chunks,
            "statuses": dict(self.statuses),
        }


TOTALS_REPORTED = ("new", "changed", "rematched", "unchanged", "failed", "removed")


def totals_line(counts: dict) -> str:
    """One line of a run's totals, for the log and the operator's status."""
    return (
        ", ".join(f"{counts[name]} {name}" for name in TOTALS_REPORTED)
        + f"; extracted {counts['extracted']}, embedded {counts['embedded_documents']} documents"
        f" ({counts['embedded_chunks']} chunks)"
    )


class Pipeline:
    """Everything a run needs, built once per process from settings; the model loads only when needed."""

    def __init__(self, settings: Settings, store: ObjectStore | None = None, state: StateStore | None = None) -> None:
        self.settings = settings
        self.store = store or ObjectStore.from_settings(settings)
        self.state = state or StateStore(settings.state_url())
        self.framework: Framework = load_framework(settings.framework_file)
        self.registry: SkpdRegistry = load_skpd_registry(settings.skpd_file, self.framework)
        self.matcher = Matcher(settings, self.framework, region=self.registry.region)
        self.limits = ExtractionLimits.from_settings(settings)

    # Discover
    def discover(self, year: int, skpd: set[str] | None = None) -> Discovery:
        """Objects in the submissions layout of the year (optionally some SKPD), and the uploads that missed every
        SKPD's folder; others are logged and left alone."""
        found, loose, year_empty = [], [], True
        for obj in self.store.list_objects(layout.submission_prefix(year)):
            parsed = layout.parse_submission_key(obj.key)
            if parsed is None:
                if name := layout.loose_upload_name(obj.key):
                    loose.append(name)
                logger.warning("ignoring %s: not submissions/{year}/{skpd}/{file}", obj.key)
                continue
            if layout.is_unfinished_upload(parsed.filename):
                logger.info("ignoring %s: a part, temporary or lock file, not an upload", obj.key)
                continue
            year_empty = False
            if skpd and parsed.skpd not in skpd:
                continue
            if self.registry.find(parsed.skpd) is None:
                logger.warning("%s: SKPD %r is not in the registry %s", obj.key, parsed.skpd, self.settings.skpd_file)
            found.append(obj)
        return Discovery(found, loose, year_empty)

    def mark_removed(
        self, year: int, discovery: Discovery, skpd: set[str] | None, accept_empty: bool = False
    ) -> list[str]:
        """Submissions no longer in the bucket stop counting. A bucket whose year folder holds no submission of any
        SKPD, while some count, is refused unless `accept_empty`: it is far likelier a wrong bucket or endpoint than
        every SKPD deleting every upload, and it would publish empty reports to every SKPD. One SKPD deleting its
        last upload (a rerun for its folder) is no such case."""
        if discovery.year_empty and not accept_empty:
            counted = self.state.submissions(year)
            if counted:
                raise NothingListed(
                    f"bucket {self.store.bucket} at {self.store.endpoint} holds no submissions for {year}, yet "
                    f"{len(counted)} count as evidence until now: nothing was marked removed and no report published. "
                    "Check SPBE_S3_ENDPOINT and SPBE_S3_BUCKET; if every upload was really deleted, run again with "
                    "--accept-empty"
                )
        return self.state.mark_removed(year, {obj.key for obj in discovery.objects}, skpd)

    def triage(self, year: int, objects: list[StoredObject], force: bool) -> tuple[list[StoredObject], dict[str, str]]:
        """The objects that need processing, and those already current (key -> status), from one query."""
        look_again_for_tools()  # a file that waits for a program is processed once it is installed
        known = {row.key: row for row in self.state.submissions(year, include_removed=True)}
        pending, current = [], {}
        for obj in objects:
            previous = known.get(obj.key)
            if self._is_current(obj, previous, force):
                current[obj.key] = previous.status
            else:
                pending.append(obj)
        return pending, current

    def _is_current(self, obj: StoredObject, previous: Submission | None, force: bool) -> bool:
        """Same object, still counted, matched the current way, and not waiting for a program since installed:
        nothing to do."""
        return (
            not force
            and previous is not None
            and not previous.removed
            and (previous.etag, previous.size) == (obj.etag, obj.size)
            and previous.match_fingerprint == self.matcher.fingerprint
            and not self._installed_since(previous.missing_tool)
        )

    def _installed_since(self, missing_tool: str | None) -> bool:
        """Whether the program an earlier read lacked is on this machine now, so the file can be read this time."""
        return bool(missing_tool) and tool_available(missing_tool, self.limits)

    # Share a run's documents between workers
    def drain(
        self, run_id: str, force: bool, worker: str, log: Log = logger,
        process: Callable[[StoredObject], Processed] | None = None,
    ) -> int:  # fmt: skip
        """Claim the run's documents one at a time and bring each up to date, until none is left to claim.

        Any number of drains share a run (processes of this machine, helpers on other machines): each document is
        claimed atomically, so none is processed twice. One that raises is recorded as failed and keeps its previous
        state, so the next run tries it again. `process` defaults to self.process. Returns the documents taken.
        """
        process = process or (lambda obj: self.process(obj, run_id, force))
        taken = 0
        while self.still_running(run_id, log) and (
            claimed := self.state.claim_document(run_id, worker, self.settings.claim_lease_seconds)
        ) is not None:
            taken += 1
            started = time.monotonic()
            try:
                with self._keeping_claim(run_id, claimed.key, worker, log):
                    processed = process(claimed.stored_object())
            except Exception as error:  # one document never stops the others
                seconds = time.monotonic() - started
                self.state.finish_document(
                    run_id, claimed.key, worker, state=DocumentState.FAILED, seconds=seconds,
                    message=f"{type(error).__name__}: {error}",
                )  # fmt: skip
                log.error("%s: failed after %.1f s, tried again next run: %s", claimed.key, seconds, error)
                continue
            seconds = time.monotonic() - started
            kept = self.state.finish_document(
                run_id, claimed.key, worker, state=DocumentState.DONE, seconds=seconds, outcome=processed.outcome,
                status=str(processed.status), extracted=processed.extracted, embedded_chunks=processed.embedded_chunks,
            )  # fmt: skip
            log.info(
                "%s: %s, %s (%s%d chunks embedded) in %.1f s", claimed.key, processed.outcome, processed.status,
                "extracted, " if processed.extracted else "", processed.embedded_chunks, seconds,
            )  # fmt: skip
            if not kept:
                log.warning(
                    "%s: this worker's claim lapsed (not renewed within SPBE_CLAIM_LEASE_SECONDS=%g: the state store "
                    "did not answer, or the process was paused), so another worker may have processed it too",
                    claimed.key, self.settings.claim_lease_seconds,
                )  # fmt: skip
        return taken

    def _keeping_claim(self, run_id: str, key: str, worker: str, log: Log) -> AbstractContextManager[None]:
        """Renew the worker's claim on a document while it is processed: the lease says the worker is alive, not
        how long a document may take; up to LEASES_PER_DOCUMENT leases, after which the document is taken for stuck
        and its claim left to lapse, so that another worker, and the run waiting for it, can go on."""
        lease = self.settings.claim_lease_seconds
        return renewing(
            lambda: self.state.renew_claim(run_id, key, worker, lease), lease / RENEWALS_PER_LEASE,
            f"the claim on {key}", log, times=LEASES_PER_DOCUMENT * RENEWALS_PER_LEASE,
        )  # fmt: skip

    def still_running(self, run_id: str, log: Log) -> bool:
        """Whether the run still wants documents: one stopped by the operator (Ctrl-C, SIGTERM) or failed is marked so
        by its process, and its workers stop after the document in hand instead of draining the whole list."""
        run = self.state.run(run_id)
        if run is not None and run.status != RunStatus.RUNNING:
            log.info("Run %s is %s: no more documents taken", run_id, run.status)
            return False
        return True

    # Process one submission
    def process(self, obj: StoredObject, run_id: str, force: bool = False) -> Processed:
        """Bring one submission's state up to date, doing only the work its change requires."""
        parsed = layout.parse_submission_key(obj.key)
        previous = self.state.submission(obj.key)
        same_object = previous is not None and (previous.etag, previous.size) == (obj.etag, obj.size)
        if self._is_current(obj, previous, force):
            return Processed(obj.key, Outcome.UNCHANGED, previous.status)
        if previous is None:
            outcome = Outcome.NEW
        else:
            outcome = Outcome.REMATCHED if same_object else Outcome.CHANGED

        record = dict(
            key=obj.key, year=parsed.year, skpd=parsed.skpd, filename=parsed.filename,
            etag=obj.etag, size=obj.size, fingerprint=self.matcher.fingerprint, run_id=run_id,
        )  # fmt: skip
        if obj.size > self.limits.max_bytes:  # refused as extraction would, without downloading it
            refused = too_large(obj.size, self.limits.max_bytes)
            self.state.record_submission(
                **record, sha256=None, status=Status.TOO_LARGE, message=refused.message,
                detail=f"{refused.detail} (SPBE_MAX_UPLOAD_BYTES); not downloaded", matches=[],
            )  # fmt: skip
            return Processed(obj.key, outcome, Status.TOO_LARGE)

        if same_object and previous.sha256 and not force:
            sha256, data = previous.sha256, None  # a rematch: same object, its content hash is known
        else:
            data = self.store.get_bytes(obj.key)
            sha256 = hashlib.sha256(data).hexdigest()
        extraction, extracted = self._extraction(sha256, data, obj.key, parsed.filename, force)
        matches: list[Match] = []
        embedded = 0
        if extraction.status == Status.OK:
            chunks, vectors, embedded = self._embedding(sha256, extraction, force)
            matches = self.matcher.match(chunks, vectors, parsed.filename)
        self.state.record_submission(
            **record, sha256=sha256, status=extraction.status, message=extraction.message,
            detail=extraction.detail, matches=[match.to_dict() for match in matches],
            missing_tool=extraction.missing_tool,
        )  # fmt: skip
        logger.info(
            "%s: %s, %s%s", obj.key, outcome, extraction.status,
            "" if not matches else f", best indicator {matches[0].indicator} ({matches[0].score:.2f} {matches[0].decision})",
        )  # fmt: skip
        return Processed(obj.key, outcome, extraction.status, extracted, embedded)

    def _extraction(
        self, sha256: str, data: bytes | None, key: str, filename: str, force: bool
    ) -> tuple[Extraction, bool]:
        """The stored extraction of this content, or a new one (text kept in the bucket, outcome in the state), and
        whether it was read now. One that failed for want of a program installed since is read again."""
        known = None if force else self.state.extraction(sha256)
        if known is not None and not self._installed_since(known.missing_tool):
            return known, False
        if data is None:
            data = self.store.get_bytes(key)
        document = extract(data, filename, limits=self.limits)
        text_key = None
        if document.ok:
            text_key = layout.extraction_key(sha256)
            self.store.put_bytes(
                text_key, json.dumps(document.to_dict(), ensure_ascii=False).encode(), "application/json"
            )
        extraction = Extraction(
            sha256=sha256, status=document.status, message=document.message, detail=document.detail,
            kind=document.kind, pages=len(document.pages), text_key=text_key, missing_tool=document.missing_tool or None,
        )  # fmt: skip
        if document.missing_tool:
            logger.warning(
                "%s: not read for want of %s on this machine (%s); the first run after it is installed reads it",
                key, document.missing_tool, document.detail,
            )  # fmt: skip
        self.state.record_extraction(extraction)
        return extraction, True

    def _embedding(self, sha256: str, extraction: Extraction, force: bool) -> tuple[list[Chunk], np.ndarray, int]:
        """Chunk vectors of this content under the current model: from the cache, or embedded now."""
        model, chunking = self.matcher.model_key, self.matcher.chunking.key
        cached = None if force else self.state.embedding(sha256, model, chunking)
        if cached is not None:
            pairs, vectors = cached
            return [Chunk(page, text) for page, text in pairs], vectors, 0
        document = Document.from_dict(json.loads(self.store.get_bytes(extraction.text_key)))
        chunks, vectors = self.matcher.embed(document)
        self.state.record_embedding(sha256, model, chunking, [(c.page, c.text) for c in chunks], vectors)
        return chunks, vectors, len(chunks)

    # Assess and publish
    def assess(
        self, year: int, indicators: set[int] | None = None, loose: Iterable[str] = ()
    ) -> CityCompleteness:
        return assess(self.framework, self.registry, self.state.submissions(year), year, indicators,
                      verdicts=self.state.verdicts(self.framework.id), loose=loose)

    def publish_reports(self, city: CityCompleteness, run_id: str) -> Publication:
        """Each SKPD's report and the city summary in every format: versioned under the run, the latest, a local copy."""
        local_dir = self.settings.data_dir / "reports" / str(city.year)
        return publish(
            self.store, self.state, city, self.framework, self.registry, run_id, local_dir, self.settings.timezone
        )


@contextmanager
def renewing(
    renew: Callable[[], bool], interval: float, what: str, log: Log, times: int | None = None
) -> Iterator[None]:
    """Run the body while a daemon thread calls `renew` every `interval` seconds, until the body ends, `renew` returns
    False (what it renews was taken meanwhile) or `times` calls were made. A failed call is logged and the next one
    tried, the lease covering the gap; the body never waits longer than one interval on a call blocked in the
    database."""
    done = threading.Event()

    def loop() -> None:
        for _ in itertools.count() if times is None else range(times):
            if done.wait(interval):
                return
            try:
                if not renew():
                    return
            except Exception as error:
                log.warning("%s could not be renewed, trying again: %s", what, error)
        log.warning("%s: renewed %d times in %.0f s, no more: it is left to lapse", what, times, times * interval)

    renewer = threading.Thread(target=loop, name=f"renewing {what}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join(timeout=interval)


def is_transient(error: BaseException) -> bool:
    """Whether a pause may fix it: the S3 service or the database did not answer (a restart, a network blip)."""
    if isinstance(error, StateStoreUnavailable):  # a server restarting may answer; a wrong URL never will
        return error.__cause__ is not None and is_transient(error.__cause__)
    if isinstance(error, ObjectNotFound | StorageRefused):  # a missing key, wrong credentials: the same next time
        return False
    if isinstance(error, StorageError):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return isinstance(error, ConnectionError | TimeoutError)


def worker_name() -> str:
    """Who holds a claim, for the to-do list and the operator: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def processes_for(settings: Settings, documents: int) -> int:
    """Processes to share `documents` on this machine: SPBE_PROCESSES, or one per CPUS_PER_PROCESS cores; each busy."""
    available = settings.processes or max(1, cpu_count() // CPUS_PER_PROCESS)
    return max(1, min(available, documents // DOCUMENTS_PER_PROCESS))


def share_cores(processes: int) -> None:
    """Run once in each of `processes` processes: split the cores between their embedding threads."""
    import torch  # here, not at the top: like the model, torch loads only where documents are embedded

    torch.set_num_threads(max(1, cpu_count() // processes))


def cpu_count() -> int:
    return os.cpu_count() or 1
