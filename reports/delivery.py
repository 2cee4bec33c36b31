"""Deliver the newest published reports: each SKPD gets its own at its registry addresses, Diskominfotik the city
summary; a report content is sent once, and a failure is recorded and retried by the next run.

The delivery table (storage.state.DeliveryLog) keys on the report's content hash per SKPD per year, so a rerun
with nothing changed sends nothing, and a changed report is sent once. See storage/state.py for how a send is
claimed before and marked after, and why an interrupted send is not repeated without an operator.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import partial
from email.message import EmailMessage
from enum import StrEnum
from pathlib import Path, PurePosixPath

from catalog import SkpdRegistry, UnknownSelection
from reports.errors import ReportsError
from reports.mail import SendFailed, SendUncertain, ServerUnreachable, SmtpTransport, compose, new_message_id
from reports.publish import Audience, Manifest, ManifestEntry
from storage.objects import ObjectStore, StorageError
from storage.state import Delivery, DeliveryLog, DeliveryStatus

logger = logging.getLogger(__name__)

REPORT_HEADER = "X-SPBE-Report"  # which report a message carries, for mail filters and for tests
CONTENT_HASH_HEADER = "X-SPBE-Content-Hash"
HASH_PREFIX_CHARS = 12  # of the content hash in outbox file names: unique enough per report and year


class UnknownSkpd(ReportsError):
    """Delivery was asked for SKPD codes the registry does not have."""


class DeliveryFailed(Exception):
    """Some reports could not be sent; they are recorded as failed and stay stored, and the next run retries them.
    `results` is what became of every report, for the operator's table."""

    def __init__(self, message: str, results: Sequence[DeliveryResult] = ()) -> None:
        super().__init__(message)
        self.results = list(results)


class Outcome(StrEnum):
    """What a delivery run did with one report."""

    SENT = "sent"
    ALREADY_SENT = "already-sent"  # this content was sent before: nothing to do
    FAILED = "failed"  # not taken by the server; retried next run
    NOT_TRIED = "not-tried"  # the mail server could not be reached for an earlier report; tried by the next run
    NO_ADDRESS = "no-address"  # the SKPD file gives the SKPD no e-mail address: published, not mailed
    UNCERTAIN = "uncertain"  # an earlier send was interrupted and may have gone out; not resent automatically
    DRY_RUN = "dry-run"  # would be sent; written to the outbox instead


@dataclass(frozen=True)
class Outgoing:
    """One report ready to go: its recipients, and how to compose its message (without Message-ID, set when the
    send is claimed) from the stored report files, which are read only for a report that is due."""

    year: int
    run_id: str
    report: str
    content_hash: str
    recipients: tuple[str, ...]
    compose: Callable[[], EmailMessage]


@dataclass(frozen=True)
class DeliveryResult:
    report: str
    outcome: Outcome
    recipients: tuple[str, ...]
    message_id: str = ""
    attempts: int = 0
    error: str = ""
    path: Path | None = None  # the .eml written by a dry run or a preview
    unreachable: bool = False  # the mail server could not be reached at all: the reports after it are not tried

    def as_dict(self) -> dict:
        return {
            "report": self.report, "outcome": str(self.outcome), "recipients": list(self.recipients),
            "message_id": self.message_id, "attempts": self.attempts, "error": self.error,
            "path": str(self.path) if self.path else None,
        }  # fmt: skip


def outgoing_messages(
    store: ObjectStore,
    manifest: Manifest,
    registry: SkpdRegistry,
    sender: str | None,
    skpd: Collection[str] | None = None,
) -> list[Outgoing]:
    """The messages of the manifest's reports: all of them, or only these SKPD's (then without the city summary)."""
    try:
        registry.check_codes(skpd or ())
    except UnknownSelection as error:
        raise UnknownSkpd(str(error)) from error
    messages = []
    for entry in manifest.entries:
        if skpd and entry.name not in skpd:
            continue
        if entry.audience is not Audience.COORDINATOR and registry.find(entry.name) is None:
            logger.warning("report %s: SKPD %r is no longer in the registry, not sent", entry.body_key, entry.name)
            continue
        recipients = _recipients(entry, registry)
        messages.append(
            Outgoing(manifest.year, manifest.run_id, entry.name, entry.content_hash, recipients,
                     partial(_message, store, manifest.year, entry, recipients, sender))
        )  # fmt: skip
    return messages


class Courier:
    """Sends, or rehearses, the outgoing messages against the delivery log."""

    def __init__(self, log: DeliveryLog, transport: SmtpTransport | None, outbox: Path) -> None:
        self.log = log
        self.transport = transport
        self.outbox = outbox

    def deliver(
        self, item: Outgoing, retry_uncertain: bool = False, unreachable: DeliveryResult | None = None
    ) -> DeliveryResult:
        """Send one report unless this content was sent (or may have been); record how it went. `unreachable`: the
        mail server could not be reached for an earlier report, so one that is due is not tried (nor claimed)."""
        if self.transport is None:
            raise ValueError("a Courier without a transport can only rehearse")
        if not item.recipients:
            return self._no_address(item)
        previous = self.log.find(item.year, item.report, item.content_hash)
        if not self.log.due(previous, retry_uncertain):
            return self._not_due(item, previous)
        if unreachable is not None:
            return DeliveryResult(item.report, Outcome.NOT_TRIED, item.recipients,
                                  error=f"the mail server could not be reached for {unreachable.report}")
        try:
            message = item.compose()  # only now: a report already sent costs no reading of its files
        except StorageError as error:  # not claimed: the next run tries it again
            return DeliveryResult(item.report, Outcome.FAILED, item.recipients, error=f"report files unreadable: {error}")
        claimed = self.log.claim(
            year=item.year, report=item.report, content_hash=item.content_hash, run_id=item.run_id,
            recipients=list(item.recipients), message_id=new_message_id(self.transport.config.sender),
            retry_uncertain=retry_uncertain,
        )  # fmt: skip
        if claimed is None:
            return self._not_due(item, self.log.find(item.year, item.report, item.content_hash))
        message = _with_message_id(message, claimed.message_id)
        try:
            sent = self.transport.send(message, item.recipients)
        except SendUncertain as error:
            self.log.finish(claimed.id, DeliveryStatus.SENDING, error.attempts, str(error))
            return DeliveryResult(item.report, Outcome.UNCERTAIN, item.recipients, claimed.message_id,
                                  error.attempts, str(error))  # fmt: skip
        except SendFailed as error:
            self.log.finish(claimed.id, DeliveryStatus.FAILED, error.attempts, str(error))
            return DeliveryResult(item.report, Outcome.FAILED, item.recipients, claimed.message_id, error.attempts,
                                  str(error), unreachable=isinstance(error, ServerUnreachable))  # fmt: skip
        refused = "; ".join(f"{address}: {reply}" for address, reply in sent.refused.items())
        self.log.finish(claimed.id, DeliveryStatus.SENT, sent.attempts, f"refused {refused}" if refused else "")
        return DeliveryResult(item.report, Outcome.SENT, item.recipients, claimed.message_id, sent.attempts, refused)

    @staticmethod
    def _no_address(item: Outgoing) -> DeliveryResult:
        """Not sent: nobody to send it to until the SKPD file gives the SKPD an address (then the next run sends it)."""
        return DeliveryResult(item.report, Outcome.NO_ADDRESS, item.recipients,
                              error="the SKPD file gives this SKPD no e-mail address")

    def rehearse(self, item: Outgoing, record: bool) -> DeliveryResult:
        """Write the message to the outbox and say what a real send would do; `record` logs it as a dry run."""
        if not item.recipients:
            return self._no_address(item)
        message = item.compose()
        message_id = new_message_id(message["From"])
        path = self.outbox / f"{item.report}-{item.content_hash[:HASH_PREFIX_CHARS]}.eml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_with_message_id(message, message_id).as_bytes())
        previous = self.log.find(item.year, item.report, item.content_hash)
        if not self.log.due(previous):
            return replace(self._not_due(item, previous), path=path)
        if record:
            self.log.record_dry_run(
                year=item.year, report=item.report, content_hash=item.content_hash, run_id=item.run_id,
                recipients=list(item.recipients), message_id=message_id,
            )  # fmt: skip
        return DeliveryResult(item.report, Outcome.DRY_RUN, item.recipients, message_id, path=path)

    @staticmethod
    def _not_due(item: Outgoing, previous: Delivery | None) -> DeliveryResult:
        """Not sent now: this content went out before, or an interrupted send may have delivered it."""
        if previous is not None and previous.status == DeliveryStatus.SENDING:
            logger.warning(
                "%s: an earlier send of this content (Message-ID %s) was interrupted and may have been delivered;"
                " check the mail server's log, then send again with retry_uncertain (--retry-uncertain)",
                item.report, previous.message_id,
            )  # fmt: skip
            return DeliveryResult(item.report, Outcome.UNCERTAIN, item.recipients, previous.message_id,
                                  previous.attempts, previous.error)  # fmt: skip
        message_id = previous.message_id if previous else ""
        return DeliveryResult(item.report, Outcome.ALREADY_SENT, item.recipients, message_id)


def _recipients(entry: ManifestEntry, registry: SkpdRegistry) -> tuple[str, ...]:
    """The registry's current addresses for the report (none for an SKPD whose address is not known yet)."""
    if entry.audience is Audience.COORDINATOR:
        return registry.coordinator_emails
    return registry.find(entry.name).emails


def _message(store: ObjectStore, year: int, entry: ManifestEntry, recipients: tuple[str, ...],
             sender: str | None) -> EmailMessage:  # fmt: skip
    """The e-mail of one report from its stored files: the HTML as body, the other formats attached."""
    attachments = [(f"spbe-{year}-{PurePosixPath(key).name}", store.get_bytes(key)) for key in entry.attachment_keys]
    return compose(
        subject=entry.subject,
        text=entry.text,
        html=store.get_bytes(entry.body_key).decode(),
        attachments=attachments,
        recipients=recipients,
        sender=sender,
        headers={REPORT_HEADER: entry.name, CONTENT_HASH_HEADER: entry.content_hash},
    )


def _with_message_id(message: EmailMessage, message_id: str) -> EmailMessage:
    """The message with this Message-ID (kept across retries, so a duplicate could be recognised)."""
    del message["Message-ID"]
    message["Message-ID"] = message_id
    return message
