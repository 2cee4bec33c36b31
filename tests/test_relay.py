"""The upload relay: S3 notifications in, one debounced rerun per SKPD out; real SeaweedFS webhooks end to end."""
from __future__ import annotations

import http.client
import io
import json
import time

import pytest
from minio import Minio

from flows.relay import Change, Debouncer, Relay, RelayServer, parse_notification, rerun_parameters
from settings import Settings
from storage.local_server import LocalS3Server

BUCKET = "spbe-evidence"
LOOPBACK = "127.0.0.1"
MULTIPART_BYTES = 6 * 1024 * 1024  # above the SDK's 5 MiB part size: a two-part upload
DELIVERY_TIMEOUT_SECONDS = 20.0


def minio_event(key: str, event: str = "s3:ObjectCreated:Put", bucket: str = BUCKET) -> dict:
    """A MinIO bucket notification as its webhook POSTs it (keys URL-encoded, as in S3 event records)."""
    return {
        "EventName": event,
        "Key": f"{bucket}/{key}",
        "Records": [{"eventName": event, "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 10}}}],
    }


def filer_file_created(bucket: str, key: str) -> dict:
    """A SeaweedFS filer webhook event of a new file, as recorded from SeaweedFS 4.48 (chunk details left out)."""
    folder, name = f"/buckets/{bucket}/{key}".rsplit("/", 1)
    return {
        "event_type": "create",
        "key": f"{folder}/{name}",
        "message": {
            "new_entry": {"name": name, "attributes": {"file_size": 10, "mtime": 1795818488}},
            "delete_chunks": True,
            "new_parent_path": folder,
        },
    }


# Recorded from SeaweedFS 4.48's filer webhook (weed server -s3, notification.webhook), chunk details left out.
FILER_FILE_CREATED = filer_file_created(BUCKET, "submissions/2026/bappeda/Peta Rencana.pdf")
FILER_FOLDER_CREATED = {
    "event_type": "create",
    "key": f"/buckets/{BUCKET}/submissions/2026/bappeda",
    "message": {"new_entry": {"name": "bappeda", "is_directory": True}, "new_parent_path": f"/buckets/{BUCKET}/submissions/2026"},
}
FILER_MULTIPART_PART = {
    "event_type": "create",
    "key": f"/buckets/{BUCKET}/.uploads/31113c6d1f1a_2ea18f4a/0001_9e4ac4fd.part",
    "message": {"new_entry": {"name": "0001_9e4ac4fd.part"}, "new_parent_path": f"/buckets/{BUCKET}/.uploads/31113c6d1f1a_2ea18f4a"},
}
FILER_FILE_DELETED = {
    "event_type": "delete",
    "key": f"/buckets/{BUCKET}/submissions/2026/dinkes/big.pdf",
    "message": {"old_entry": {"name": "big.pdf", "attributes": {"file_size": 6291456}}},
}
FILER_BUCKET_OWNER = {
    "event_type": "create",
    "key": f"/buckets/.system/owners/admin/{BUCKET}",
    "message": {"new_entry": {"name": BUCKET}, "new_parent_path": "/buckets/.system/owners/admin"},
}


def test_a_minio_upload_is_a_change_of_its_skpd():
    assert parse_notification(minio_event("submissions/2026/bappeda/Peta+Rencana%282%29.pdf"), BUCKET) == [
        Change(2026, "bappeda")
    ]


def test_a_removed_upload_is_a_change_too():
    event = minio_event("submissions/2026/bappeda/lama.pdf", event="s3:ObjectRemoved:Delete")
    assert parse_notification(event, BUCKET) == [Change(2026, "bappeda")]


def test_reads_other_buckets_and_our_own_writes_are_ignored():
    assert parse_notification(minio_event("submissions/2026/bappeda/a.pdf", bucket="other"), BUCKET) == []
    assert parse_notification(minio_event("reports/2026/latest/bappeda.html"), BUCKET) == []
    assert parse_notification(minio_event("extracted/" + "a" * 64 + ".json"), BUCKET) == []
    assert parse_notification(minio_event("submissions/2026/bappeda/a.pdf", "s3:ObjectAccessed:Get"), BUCKET) == []


def test_folders_temporaries_and_keys_outside_the_layout_are_ignored():
    for key in ("submissions/2026/bappeda/", "submissions/2026/bappeda/a.pdf.part", "submissions/2026/bappeda/~$a.docx",
                "submissions/2026/bappeda/.DS_Store", "submissions/2026/catatan.txt", "submissions/2026/__/a.pdf"):
        assert parse_notification(minio_event(key), BUCKET) == [], key


def test_an_upload_into_a_folder_named_for_its_office_is_a_change_of_that_folder():
    """Read as the code of the same form, as the nightly reads it: its rerun shows Kominfotik the folder."""
    event = minio_event("submissions/2026/Dinas Kesehatan/a.pdf")
    assert parse_notification(event, BUCKET) == [Change(2026, "dinas-kesehatan")]


def test_seaweedfs_filer_events_of_files_are_changes():
    assert parse_notification(FILER_FILE_CREATED, BUCKET) == [Change(2026, "bappeda")]
    assert parse_notification(FILER_FILE_DELETED, BUCKET) == [Change(2026, "dinkes")]


def test_seaweedfs_folders_multipart_parts_and_bucket_metadata_are_ignored():
    for event in (FILER_FOLDER_CREATED, FILER_MULTIPART_PART, FILER_BUCKET_OWNER):
        assert parse_notification(event, BUCKET) == []


def test_a_seaweedfs_rename_into_the_submissions_is_a_change():
    renamed = {
        "event_type": "rename",
        "key": f"/buckets/{BUCKET}/staging/a.pdf",
        "message": {"new_entry": {"name": "a.pdf"}, "new_parent_path": f"/buckets/{BUCKET}/submissions/2026/dishub"},
    }
    assert parse_notification(renamed, BUCKET) == [Change(2026, "dishub")]


def test_unknown_payloads_are_no_changes():
    assert parse_notification(["not", "an", "event"], BUCKET) == []
    assert parse_notification({"hello": "world"}, BUCKET) == []


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_changes_wait_until_their_skpd_is_quiet():
    clock = FakeClock()
    debouncer = Debouncer(quiet=60, longest=600, clock=clock)
    debouncer.add([Change(2026, "bappeda")])
    clock.now = 50
    debouncer.add([Change(2026, "bappeda")])
    clock.now = 100
    assert debouncer.due() == []
    clock.now = 110
    assert debouncer.due() == [Change(2026, "bappeda")]
    assert debouncer.due() == []


def test_a_busy_skpd_is_rerun_after_the_longest_delay():
    clock = FakeClock()
    debouncer = Debouncer(quiet=60, longest=600, clock=clock)
    while clock.now < 600:
        debouncer.add([Change(2026, "dinkes")])
        clock.now += 30
    assert debouncer.due() == [Change(2026, "dinkes")]


def test_one_rerun_per_year_for_the_skpd_that_changed():
    changes = [Change(2026, "dinkes"), Change(2025, "bappeda"), Change(2026, "bappeda")]
    assert rerun_parameters(changes) == [
        {"year": 2025, "skpd": ["bappeda"]},
        {"year": 2026, "skpd": ["bappeda", "dinkes"]},
    ]


def relay_settings(**changes) -> Settings:
    return Settings(**{"_env_file": None, "s3_bucket": BUCKET, "relay_quiet_seconds": 0, **changes})


def test_a_rerun_that_cannot_start_is_tried_again():
    attempts = []

    def trigger(parameters: dict) -> str:
        attempts.append(parameters)
        if len(attempts) == 1:
            raise ConnectionError("Prefect server restarting")
        return "rerun-1"

    relay = Relay(relay_settings(), trigger)
    relay.receive(FILER_FILE_CREATED)
    assert relay.flush() == []
    assert relay.flush() == [{"year": 2026, "skpd": ["bappeda"]}]
    assert len(attempts) == 2


@pytest.fixture
def relay_server():
    triggered: list[dict] = []
    relay = Relay(relay_settings(relay_token="rahasia", relay_quiet_seconds=1), lambda p: triggered.append(p) or "run")
    server = RelayServer(relay, LOOPBACK, 0).start()
    server.triggered = triggered
    yield server
    server.stop()


def post(port: int, body: bytes, token: str | None = "rahasia") -> int:
    connection = http.client.HTTPConnection(LOOPBACK, port)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    connection.request("POST", "/", body=body, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def test_the_http_relay_wants_the_token_and_json(relay_server):
    assert post(relay_server.port, json.dumps(FILER_FILE_CREATED).encode(), token=None) == 401
    assert post(relay_server.port, b"{not json", token="rahasia") == 400
    assert post(relay_server.port, json.dumps(FILER_FILE_CREATED).encode()) == 204
    connection = http.client.HTTPConnection(LOOPBACK, relay_server.port)
    connection.request("GET", "/health")
    assert connection.getresponse().status == 200


@pytest.mark.parametrize("length", ["banyak", "-1"])
def test_a_garbled_content_length_is_refused_and_the_relay_keeps_serving(relay_server, length):
    connection = http.client.HTTPConnection(LOOPBACK, relay_server.port, timeout=DELIVERY_TIMEOUT_SECONDS)
    connection.putrequest("POST", "/")
    for name, value in (("Authorization", "Bearer rahasia"), ("Content-Length", length)):
        connection.putheader(name, value)
    connection.endheaders(b"{}")
    assert connection.getresponse().status == 400
    assert post(relay_server.port, json.dumps(FILER_FILE_CREATED).encode()) == 204


def wait_for(condition, timeout: float = DELIVERY_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_seaweedfs_uploads_become_one_rerun_per_skpd(relay_server, tmp_path):
    """SeaweedFS's own webhook, a real multipart upload and our own report write, through the relay over HTTP."""
    (tmp_path / "notification.toml").write_text(  # weed reads ./notification.toml from its working folder
        f'[notification.webhook]\nenabled = true\nendpoint = "http://{LOOPBACK}:{relay_server.port}/"\n'
        'bearer_token = "rahasia"\n'
    )
    with LocalS3Server(tmp_path, "relay-test", "relay-test-secret") as s3:
        client = Minio(s3.endpoint, "relay-test", "relay-test-secret", secure=False)
        client.make_bucket(bucket_name=BUCKET)
        for key, data in (("submissions/2026/bappeda/Peta Rencana.pdf", b"%PDF-1.4"),
                          ("submissions/2026/bappeda/SK Tim.pdf", b"%PDF-1.4"),
                          ("reports/2026/latest/bappeda.html", b"<html>")):
            client.put_object(bucket_name=BUCKET, object_name=key, data=io.BytesIO(data), length=len(data))
        big = b"x" * MULTIPART_BYTES
        client.put_object(bucket_name=BUCKET, object_name="submissions/2026/dinkes/big.pdf", data=io.BytesIO(big),
                          length=-1, part_size=5 * 1024 * 1024)
        wait_for(lambda: {s for p in relay_server.triggered for s in p["skpd"]} == {"bappeda", "dinkes"})
        time.sleep(2)  # nothing else arrives: the parts, folders and report are not changes
    skpd = [s for parameters in relay_server.triggered for s in parameters["skpd"]]
    assert sorted(skpd) == ["bappeda", "dinkes"]
    assert {parameters["year"] for parameters in relay_server.triggered} == {2026}
