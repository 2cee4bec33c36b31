"""The send-reports flow: e-mail the newest published reports of a year, each SKPD its own and Diskominfotik
the city summary, at most once per report content (thin Prefect wiring around reports/delivery.py).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.blocks.system import Secret
from prefect.cache_policies import NO_CACHE

from catalog import load_framework, load_skpd_registry
from reports.delivery import Courier, DeliveryFailed, DeliveryResult, Outcome, Outgoing, outgoing_messages
from reports.mail import SmtpConfig, SmtpTransport
from reports.publish import load_manifest
from settings import Settings, get_settings
from storage.objects import ObjectStore
from storage.state import DeliveryLog, StateStore


@task(cache_policy=NO_CACHE, task_run_name="deliver {item.report}")
def deliver_report(
    courier: Courier, item: Outgoing, dry_run: bool, retry_uncertain: bool, unreachable: DeliveryResult | None
) -> DeliveryResult:
    if dry_run:
        return courier.rehearse(item, record=True)
    return courier.deliver(item, retry_uncertain, unreachable)


def smtp_password(settings: Settings) -> str | None:
    """From the Prefect Secret block named by SPBE_SMTP_PASSWORD_BLOCK if set, else SPBE_SMTP_PASSWORD."""
    if settings.smtp_password_block:
        return Secret.load(settings.smtp_password_block).get()
    return settings.smtp_password


def outbox_dir(settings: Settings, year: int) -> Path:
    """Where dry runs and previews write their messages (.eml, openable in any mail client)."""
    return settings.data_dir / "outbox" / str(year)


def prepare(
    settings: Settings, year: int, skpd: list[str] | None, transport: SmtpTransport | None
) -> tuple[list[Outgoing], Courier]:
    """The messages of the newest reports of the year, and a courier over the delivery log."""
    store = ObjectStore.from_settings(settings)
    registry = load_skpd_registry(settings.skpd_file, load_framework(settings.framework_file))
    items = outgoing_messages(store, load_manifest(store, year), registry, settings.smtp_sender, skpd)
    return items, Courier(DeliveryLog(StateStore(settings.state_url())), transport, outbox_dir(settings, year))


def preview_reports(settings: Settings, year: int, skpd: list[str] | None = None) -> list[DeliveryResult]:
    """Every message as .eml in the outbox, each with what `send` would do now; nothing sent or recorded."""
    items, courier = prepare(settings, year, skpd, transport=None)
    return [courier.rehearse(item, record=False) for item in items]


@flow(name="spbe-send-reports")
def send_reports(
    year: int | None = None,
    skpd: list[str] | None = None,
    dry_run: bool = False,
    retry_uncertain: bool = False,
) -> dict:
    """E-mail the reports of the year whose content was not sent yet; `skpd` limits it to those SKPD's reports."""
    logger = get_run_logger()
    settings = get_settings()
    year = year or settings.today_year()
    transport = None if dry_run else SmtpTransport(SmtpConfig.from_settings(settings, smtp_password(settings)))
    items, courier = prepare(settings, year, skpd, transport)
    results: list[DeliveryResult] = []
    for item in items:  # a server that cannot be reached for one report is not waited for again for each other
        unreachable = next((result for result in results if result.unreachable), None)
        results.append(deliver_report(courier, item, dry_run, retry_uncertain, unreachable))
    for result in results:
        log = (logger.error if result.outcome in (Outcome.FAILED, Outcome.NOT_TRIED)
               else logger.warning if result.outcome is Outcome.NO_ADDRESS else logger.info)
        log("%s: %s to %s%s", result.report, result.outcome, ", ".join(result.recipients),
            f" ({result.error})" if result.error else "")  # fmt: skip
    counts = Counter(str(result.outcome) for result in results)
    failed = [result for result in results if result.outcome is Outcome.FAILED]
    not_tried = [result.report for result in results if result.outcome is Outcome.NOT_TRIED]
    uncertain = [result.report for result in results if result.outcome is Outcome.UNCERTAIN]
    if failed:
        raise DeliveryFailed(
            f"{len(failed) + len(not_tried)} of {len(results)} reports not sent (kept in the bucket, retried by the "
            "next run): " + "; ".join(f"{result.report}: {result.error}" for result in failed)
            + (f"; not tried, the server being unreachable: {', '.join(not_tried)}" if not_tried else "")
            + (f". {len(uncertain)} may have been delivered by an interrupted send ({', '.join(uncertain)}): "
               "check the mail server's log, then send again with --retry-uncertain" if uncertain else ""),
            results,
        )  # fmt: skip
    return {
        "year": year,
        "dry_run": dry_run,
        "counts": dict(counts),
        "deliveries": [result.as_dict() for result in results],
    }
