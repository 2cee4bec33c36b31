"""The delivery table on SQLite and PostgreSQL: a report content is claimed for sending by one process only."""
from __future__ import annotations

from storage.state import DeliveryLog, DeliveryStatus
from test_state import postgres_url, state  # noqa: F401  (the state store on both databases)

CONTENT = dict(year=2026, report="dishub", content_hash="c" * 64)


def claim(log: DeliveryLog, retry_uncertain: bool = False, **changes):
    fields = dict(CONTENT, run_id="run-1", recipients=["dishub@banjarmasin.example.go.id"], message_id="<m1@x.go.id>")
    return log.claim(**{**fields, **changes}, retry_uncertain=retry_uncertain)


def test_only_the_first_claim_of_a_content_wins(state):
    log = DeliveryLog(state)
    first = claim(log)
    assert first.status == DeliveryStatus.SENDING and first.message_id == "<m1@x.go.id>"
    assert claim(log, message_id="<m2@x.go.id>") is None


def test_a_failed_send_can_be_claimed_again_with_its_message_id_a_sent_one_cannot(state):
    log = DeliveryLog(state)
    log.finish(claim(log).id, DeliveryStatus.FAILED, attempts=3, error="451 try later")
    again = claim(log, run_id="run-2", message_id="<m2@x.go.id>")
    assert (again.status, again.run_id, again.message_id, again.attempts) == ("sending", "run-2", "<m1@x.go.id>", 3)
    log.finish(again.id, DeliveryStatus.SENT, attempts=1)
    assert claim(log) is None
    assert log.find(**CONTENT).attempts == 4


def test_an_interrupted_send_is_claimed_again_only_when_the_operator_says_so(state):
    log = DeliveryLog(state)
    claim(log)  # and the process died
    assert claim(log) is None
    assert claim(log, retry_uncertain=True).status == DeliveryStatus.SENDING


def test_a_dry_run_never_blocks_the_real_send_and_a_new_content_is_a_new_delivery(state):
    log = DeliveryLog(state)
    log.record_dry_run(**CONTENT, run_id="run-1", recipients=[], message_id="<d@x.go.id>")
    log.finish(claim(log).id, DeliveryStatus.SENT, attempts=1)
    assert claim(log, content_hash="d" * 64) is not None
    assert sorted((row.content_hash[0], row.status) for row in log.deliveries(2026)) == [
        ("c", "dry-run"), ("c", "sent"), ("d", "sending")]  # fmt: skip
