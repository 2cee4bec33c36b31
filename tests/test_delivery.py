"""E-mail delivery through a real SMTP server (aiosmtpd on loopback): each SKPD gets its own report, once.

A report content is sent once; a rerun with nothing changed sends nothing; a failing server is retried, and the
report stays stored and is sent by a later run; a dry run writes the messages instead.
"""
from __future__ import annotations

import io
import json
import socket
from email import message_from_bytes, policy

import pypdfium2
import pytest
from openpyxl import load_workbook
from prefect.blocks.system import Secret

from catalog import load_framework, load_skpd_registry
from flows.nightly import nightly
from flows.send_reports import send_reports
from reports.delivery import CONTENT_HASH_HEADER, REPORT_HEADER, DeliveryFailed, Outcome
from reports.publish import CITY_SUMMARY, load_manifest
from settings import Settings, get_settings
from spbe_evidence.cli import EXIT_OK, EXIT_USAGE, main
from spbe_evidence.demo import upload_samples
from spbe_evidence.report_commands import EXIT_NOT_SENT, OUTCOME_LABELS
from spbe_evidence.samples import load_samples
from storage import layout
from storage.objects import ObjectStore
from storage.state import DeliveryLog, StateStore

YEAR = 2026
SENDER = "SPBE Kota Banjarmasin <spbe-noreply@banjarmasin.example.go.id>"
SECRET_BLOCK = "spbe-smtp-password-test"


@pytest.fixture
def mail_settings(environment, mail_server, monkeypatch) -> Settings:
    """The deployment's settings, mailing through the test server: plain SMTP on loopback, no wait between tries."""
    smtp = {"SMTP_HOST": mail_server.host, "SMTP_PORT": mail_server.port, "SMTP_TLS": "none", "SMTP_SENDER": SENDER,
            "SMTP_RETRY_DELAY_SECONDS": 0}  # fmt: skip
    for name, value in smtp.items():
        monkeypatch.setenv(f"SPBE_{name}", str(value))
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def published(mail_settings, published_reports) -> Settings:
    return mail_settings


def registry(settings: Settings):
    return load_skpd_registry(settings.skpd_file, load_framework(settings.framework_file))


def by_report(mail_server) -> dict[str, list]:
    received: dict[str, list] = {}
    for mail in mail_server.received:
        received.setdefault(mail.message[REPORT_HEADER], []).append(mail)
    return received


def attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def html_body(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_after_the_demo_run_each_skpd_receives_exactly_one_message_with_its_own_report(
    mail_settings, prefect_harness, mail_server
):
    upload_samples(ObjectStore.from_settings(mail_settings), mail_settings, YEAR, progress=lambda message: None)
    nightly(year=YEAR)
    send_reports(year=YEAR)
    units = registry(mail_settings).skpd
    received = by_report(mail_server)
    assert set(received) == {unit.code for unit in units} | {CITY_SUMMARY}
    unreadable = [sample for sample in load_samples() if sample.format == "bytes"]
    for unit in units:
        [mail] = received[unit.code]
        assert mail.recipients == list(unit.emails) and mail.message["To"] == ", ".join(unit.emails)
        assert unit.name in mail.message["Subject"] and mail.message["From"] == SENDER
        files = attachments(mail.message)
        assert set(files) == {f"spbe-{YEAR}-{unit.code}.pdf", f"spbe-{YEAR}-{unit.code}.xlsx"}
        pdf = pypdfium2.PdfDocument(files[f"spbe-{YEAR}-{unit.code}.pdf"])
        assert unit.name in pdf[0].get_textpage().get_text_range()
        sheet = load_workbook(io.BytesIO(files[f"spbe-{YEAR}-{unit.code}.xlsx"]))["Indikator"]
        assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == sorted(unit.indicators)
        html = html_body(mail.message)
        assert unit.name in html
        for sample in unreadable:  # an SKPD's own uploads appear in its report only
            assert (sample.filename in html) == (sample.skpd == unit.code)


def test_the_city_summary_goes_to_the_kominfotik_addresses_with_heatmap_and_workbook(published, mail_server):
    send_reports(year=YEAR)
    [mail] = by_report(mail_server)[CITY_SUMMARY]
    assert mail.recipients == list(registry(published).coordinator_emails)
    assert set(attachments(mail.message)) == {f"spbe-{YEAR}-{CITY_SUMMARY}.png", f"spbe-{YEAR}-{CITY_SUMMARY}.xlsx"}
    assert "Peringkat SKPD menurut kelengkapan" in html_body(mail.message)
    # the heatmap shows in the body where mail clients hide data: images (Gmail, Outlook): a part the HTML points to
    [heatmap] = [part for part in mail.message.walk() if part.get_content_type() == "image/png" and part["Content-ID"]]
    assert "data:image" not in html_body(mail.message)
    assert f'src="cid:{heatmap["Content-ID"].strip().strip("<>")}"' in html_body(mail.message)
    assert heatmap.get_content() == attachments(mail.message)[f"spbe-{YEAR}-{CITY_SUMMARY}.png"]


def test_a_rerun_with_nothing_changed_sends_nothing(published, mail_server):
    reports = len(registry(published).skpd) + 1
    assert send_reports(year=YEAR)["counts"] == {"sent": reports}
    nightly(year=YEAR)
    assert send_reports(year=YEAR)["counts"] == {"already-sent": reports}
    assert len(mail_server.received) == reports


def test_a_report_already_sent_is_not_read_from_the_bucket_again(published, mail_server):
    send_reports(year=YEAR)
    store = ObjectStore.from_settings(published)
    entry = load_manifest(store, YEAR).entries[0]
    store._client.remove_object(bucket_name=store.bucket, object_name=entry.body_key)  # unreadable from now on
    reports = len(registry(published).skpd) + 1
    assert send_reports(year=YEAR)["counts"] == {"already-sent": reports}


def test_a_report_whose_files_cannot_be_read_fails_alone_and_is_tried_again(published, mail_server):
    store = ObjectStore.from_settings(published)
    entry = next(entry for entry in load_manifest(store, YEAR).entries if entry.name == "dishub")
    body = store.get_bytes(entry.body_key)
    store._client.remove_object(bucket_name=store.bucket, object_name=entry.body_key)
    with pytest.raises(DeliveryFailed, match="dishub: report files unreadable"):
        send_reports(year=YEAR)
    reports = len(registry(published).skpd) + 1
    assert len(mail_server.received) == reports - 1  # every other report went out
    store.put_bytes(entry.body_key, body)
    assert send_reports(year=YEAR)["counts"] == {"sent": 1, "already-sent": reports - 1}


def test_an_unreachable_mail_server_is_tried_for_one_report_not_waited_for_with_each(published, mail_server,
                                                                                     monkeypatch, capsys):  # fmt: skip
    send_reports(year=YEAR, skpd=["dishub"])  # sent before the server went away: still sent, not "not tried"
    capsys.readouterr()
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("SPBE_SMTP_PORT", str(closed))
    get_settings.cache_clear()
    assert main(["reports", "send", "--year", str(YEAR)]) == EXIT_NOT_SENT
    captured = capsys.readouterr()
    reports = len(registry(published).skpd) + 1
    assert f"{reports - 1} of {reports} reports not sent" in captured.err
    assert "could not be reached (ConnectionRefusedError" in captured.err and "check SPBE_SMTP_HOST" in captured.err
    assert "not tried, the server being unreachable: " in captured.err
    assert captured.out.count("NOT TRIED") == reports - 2  # the table of every report is printed on failure too
    assert "already sent (unchanged)" in captured.out
    tried, sent = sorted(DeliveryLog(StateStore(published.state_url())).deliveries(YEAR), key=lambda row: row.status)
    assert (tried.status, tried.attempts, sent.report) == ("failed", published.smtp_attempts, "dishub")


def test_an_skpd_without_an_address_yet_is_told_apart_and_stops_no_other_report(published, mail_server, monkeypatch,
                                                                                 tmp_path, capsys):  # fmt: skip
    data = json.loads(published.skpd_file.read_text(encoding="utf-8"))
    next(unit for unit in data["skpd"] if unit["code"] == "dishub")["emails"] = []  # its address not known yet
    (tmp_path / "skpd.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("SPBE_SKPD_FILE", str(tmp_path / "skpd.json"))
    get_settings.cache_clear()
    assert main(["reports", "send", "--year", str(YEAR)]) == EXIT_OK
    assert "NOT SENT: no e-mail address in the SKPD file" in capsys.readouterr().out
    assert "dishub" not in by_report(mail_server) and len(mail_server.received) == len(data["skpd"])  # + summary
    data_with_address = published.skpd_file.read_text(encoding="utf-8")
    (tmp_path / "skpd.json").write_text(data_with_address, encoding="utf-8")  # the address added: sent next time
    assert send_reports(year=YEAR)["counts"] == {"sent": 1, "already-sent": len(data["skpd"])}


def test_every_outcome_of_a_send_is_put_in_words_for_the_operator():
    assert set(OUTCOME_LABELS) == {str(outcome) for outcome in Outcome}


def test_a_changed_report_is_sent_once(published, mail_server):
    send_reports(year=YEAR)
    sent_before = len(mail_server.received)
    store = ObjectStore.from_settings(published)
    store.put_bytes(layout.submission_key(YEAR, "dishub", "kosong.pdf"), b"")  # one more unreadable upload
    for _ in range(2):
        nightly(year=YEAR)
        send_reports(year=YEAR)
    assert sorted(mail.message[REPORT_HEADER] for mail in mail_server.received[sent_before:]) == ["dishub", CITY_SUMMARY]


def test_a_failing_server_is_retried_and_leaves_the_report_unsent_but_stored(published, mail_server):
    mail_server.failing = True
    with pytest.raises(DeliveryFailed, match="451"):
        send_reports(year=YEAR, skpd=["dishub"])
    assert mail_server.data_commands == published.smtp_attempts and mail_server.received == []
    log = DeliveryLog(StateStore(published.state_url()))
    [failed] = log.deliveries(YEAR)
    assert (failed.report, failed.status, failed.attempts) == ("dishub", "failed", published.smtp_attempts)
    assert "451" in failed.error
    store = ObjectStore.from_settings(published)
    entry = next(entry for entry in load_manifest(store, YEAR).entries if entry.name == "dishub")
    assert all(store.exists(key) for key in entry.files.values())

    mail_server.failing = False
    send_reports(year=YEAR, skpd=["dishub"])
    [mail] = mail_server.received
    assert mail.message[REPORT_HEADER] == "dishub" and mail.message["Message-ID"].strip() == failed.message_id
    [sent] = log.deliveries(YEAR)
    assert (sent.status, sent.attempts) == ("sent", published.smtp_attempts + 1)


def test_an_interrupted_send_is_not_repeated_until_the_operator_says_so(published, mail_server):
    store = ObjectStore.from_settings(published)
    manifest = load_manifest(store, YEAR)
    entry = next(entry for entry in manifest.entries if entry.name == "dishub")
    log = DeliveryLog(StateStore(published.state_url()))
    log.claim(  # a send that crashed between claiming and confirming
        year=YEAR, report="dishub", content_hash=entry.content_hash, run_id=manifest.run_id,
        recipients=["dishub@banjarmasin.example.go.id"], message_id="<crashed@banjarmasin.example.go.id>",
    )  # fmt: skip
    [result] = send_reports(year=YEAR, skpd=["dishub"])["deliveries"]
    assert result["outcome"] == "uncertain" and mail_server.received == []
    [result] = send_reports(year=YEAR, skpd=["dishub"], retry_uncertain=True)["deliveries"]
    assert result["outcome"] == "sent"
    assert mail_server.received[0].message["Message-ID"].strip() == "<crashed@banjarmasin.example.go.id>"


def test_a_dry_run_writes_the_messages_and_sends_nothing(published, mail_server):
    result = send_reports(year=YEAR, dry_run=True)
    assert mail_server.data_commands == 0
    assert result["counts"] == {"dry-run": len(registry(published).skpd) + 1}
    dishub = next(item for item in result["deliveries"] if item["report"] == "dishub")
    with open(dishub["path"], "rb") as eml:
        message = message_from_bytes(eml.read(), policy=policy.default)
    assert message[REPORT_HEADER] == "dishub" and message[CONTENT_HASH_HEADER]
    assert set(attachments(message)) == {f"spbe-{YEAR}-dishub.pdf", f"spbe-{YEAR}-dishub.xlsx"}
    assert send_reports(year=YEAR, skpd=["dishub"])["counts"] == {"sent": 1}  # a dry run never blocks the real send


def test_the_smtp_password_can_come_from_a_prefect_secret_block(published, mail_server, monkeypatch):
    Secret(value="rahasia-kominfotik").save(SECRET_BLOCK, overwrite=True)
    monkeypatch.setenv("SPBE_SMTP_USER", "spbe")
    monkeypatch.setenv("SPBE_SMTP_PASSWORD_BLOCK", SECRET_BLOCK)
    get_settings.cache_clear()
    send_reports(year=YEAR, skpd=["dishub"])
    assert mail_server.logins == [("spbe", "rahasia-kominfotik")]


def test_the_nightly_flow_sends_after_publishing_when_asked(mail_settings, prefect_harness, mail_server):
    result = nightly(year=YEAR, send_reports=True)
    assert result["deliveries"]["counts"] == {"sent": len(registry(mail_settings).skpd) + 1}


def test_reports_preview_and_send_commands(published, mail_server, capsys):
    assert main(["reports", "preview", "--year", str(YEAR), "--skpd", "dishub"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "dishub" in out and "would be sent" in out and ".eml" in out
    assert mail_server.received == []
    assert main(["reports", "send", "--year", str(YEAR), "--skpd", "dishub"]) == EXIT_OK
    assert "sent -> dishub@banjarmasin.example.go.id" in capsys.readouterr().out
    assert main(["reports", "send", "--year", str(YEAR), "--skpd", "dishub"]) == EXIT_OK
    assert "already sent (unchanged)" in capsys.readouterr().out
    assert len(mail_server.received) == 1


def test_reports_send_says_what_the_operator_must_fix(published, mail_server, capsys, monkeypatch):
    assert main(["reports", "send", "--year", str(YEAR), "--skpd", "dinas-entah"]) == EXIT_USAGE
    assert "unknown SKPD dinas-entah" in capsys.readouterr().err
    assert main(["reports", "send", "--year", "2031"]) == EXIT_USAGE
    assert "no reports published for 2031" in capsys.readouterr().err
    mail_server.failing = True
    assert main(["reports", "send", "--year", str(YEAR), "--skpd", "dishub"]) == EXIT_NOT_SENT
    assert "retried by the next run" in capsys.readouterr().err
    monkeypatch.delenv("SPBE_SMTP_HOST")
    get_settings.cache_clear()
    assert main(["reports", "send", "--year", str(YEAR)]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "set SPBE_SMTP_HOST" in error and "Traceback" not in error  # refused before the flow starts
