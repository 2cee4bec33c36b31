"""Object storage: the bucket layout, ObjectStore against a real S3 (SeaweedFS), and `storage up|down`."""
from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest
from minio import Minio

from settings import Settings
from storage import local_server
from storage.layout import (
    SubmissionKey,
    extraction_key,
    latest_report_key,
    loose_upload_name,
    parse_submission_key,
    report_key,
    submission_key,
    submission_prefix,
)
from storage.objects import ObjectNotFound, ObjectStore, StorageError

SHA256_OF_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNREACHABLE_FAILS_WITHIN_SECONDS = 5.0
EXECUTABLE_MODE = 0o755


# Layout: pure functions, no server.


def test_submission_prefix_of_a_year():
    assert submission_prefix(2024) == "submissions/2024/"


def test_submission_prefix_of_one_skpd():
    assert submission_prefix(2024, "bappeda") == "submissions/2024/bappeda/"


def test_submission_key():
    assert submission_key(2024, "bappeda", "SK Tim SPBE.pdf") == "submissions/2024/bappeda/SK Tim SPBE.pdf"


@pytest.mark.parametrize("filename", ["../../etc/passwd.pdf", "C:\\Users\\staf\\passwd.pdf", "a/b/passwd.pdf"])
def test_submission_key_keeps_only_the_base_name(filename):
    assert submission_key(2024, "diskominfo", filename) == "submissions/2024/diskominfo/passwd.pdf"


@pytest.mark.parametrize("filename", ["", ".", "..", "docs/", "docs/..", "  "])
def test_submission_key_rejects_names_without_a_file(filename):
    with pytest.raises(ValueError):
        submission_key(2024, "bappeda", filename)


@pytest.mark.parametrize("skpd", ["Bappeda", "dinas kesehatan", "", "a/b"])
def test_submission_key_rejects_skpd_codes_that_are_not_slugs(skpd):
    with pytest.raises(ValueError):
        submission_key(2024, skpd, "x.pdf")


def test_submission_key_rejects_a_year_that_is_not_four_digits():
    with pytest.raises(ValueError):
        submission_key(24, "bappeda", "x.pdf")


def test_parse_submission_key_inverts_submission_key():
    key = submission_key(2025, "dinas-kesehatan", "Renstra 2025.docx")
    assert parse_submission_key(key) == SubmissionKey(year=2025, skpd="dinas-kesehatan", filename="Renstra 2025.docx")


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("submissions/2024/bappeda/lampiran/x.pdf", SubmissionKey(2024, "bappeda", "lampiran/x.pdf")),  # a subfolder
        ("submissions/2024/Bappeda/x.pdf", SubmissionKey(2024, "bappeda", "x.pdf")),  # the code typed with capitals
        # a folder named for its office, not its code: kept, and shown to Kominfotik as an unregistered folder
        ("submissions/2024/Dinas Kesehatan/x.pdf", SubmissionKey(2024, "dinas-kesehatan", "x.pdf")),
        ("submissions/2024/bappeda_2026/x.pdf", SubmissionKey(2024, "bappeda-2026", "x.pdf")),
        ("submissions/2024/Dinas Pendidikan & Kebudayaan/x.pdf", SubmissionKey(2024, "dinas-pendidikan-kebudayaan", "x.pdf")),
        ("submissions/2024/İnspektorat/x.pdf", SubmissionKey(2024, "inspektorat", "x.pdf")),  # a letter with a mark
    ],
)
def test_a_clerks_subfolder_or_capitalised_skpd_folder_is_still_the_skpds_upload(key, parsed):
    assert parse_submission_key(key) == parsed


@pytest.mark.parametrize(
    "key",
    [
        "submissions/2024/bappeda/lampiran/",  # a subfolder's placeholder
        "submissions/2024/bappeda/../x.pdf",  # no climbing out
        "submissions/20x4/bappeda/x.pdf",  # bad year
        "submissions/2024/bappeda/",  # folder placeholder
        "submissions/2024/x.pdf",  # no SKPD
        "submissions/2024/__/x.pdf",  # a folder with no letter or digit
        "submissions/2024/.bappeda/x.pdf",  # a hidden copy of the SKPD's folder
        "submissions/2024/#recycle/x.pdf",  # a NAS's recycle bin
        "reports/2024/bappeda/x.pdf",  # another root
        "submissions/2024/" + "dinas-" * 11 + "kesehatan/x.pdf",  # an SKPD folder longer than any code
    ],
)
def test_parse_submission_key_returns_none_outside_the_layout(key):
    assert parse_submission_key(key) is None


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("submissions/2024/Perwal SPBE.pdf", "Perwal SPBE.pdf"),  # dropped into the year, in no SKPD's folder
        ("submissions/2024/bappeda/x.pdf", None),  # an SKPD's upload
        ("submissions/2024/", None),  # the year's folder placeholder
        ("submissions/2024/~$Notulen.docx", None),  # an editor's lock file
        ("submissions/20x4/x.pdf", None),  # no year
        ("reports/2024/x.pdf", None),  # another root
    ],
)
def test_an_upload_in_no_skpd_folder_is_told_apart(key, name):
    assert loose_upload_name(key) == name


def test_extraction_key():
    assert extraction_key(SHA256_OF_EMPTY) == f"extracted/{SHA256_OF_EMPTY}.json"


def test_extraction_key_rejects_what_is_not_a_sha256():
    with pytest.raises(ValueError):
        extraction_key("../secret")


def test_report_key():
    assert report_key(2024, "20240131-0030", "bappeda", "pdf") == "reports/2024/20240131-0030/bappeda.pdf"


def test_latest_report_key():
    assert latest_report_key(2024, "bappeda", "html") == "reports/2024/latest/bappeda.html"


def test_report_key_cannot_overwrite_latest():
    with pytest.raises(ValueError):
        report_key(2024, "latest", "bappeda", "pdf")


# ObjectStore against the session's SeaweedFS.


def test_put_then_get_returns_the_same_bytes(object_store):
    object_store.put_bytes("submissions/2024/bappeda/a.txt", b"data dukung")
    assert object_store.get_bytes("submissions/2024/bappeda/a.txt") == b"data dukung"


def test_list_gives_key_etag_and_size(object_store):
    etag = object_store.put_bytes("submissions/2024/bappeda/a.txt", b"12345")
    [stored] = object_store.list_objects("submissions/2024/")
    assert (stored.key, stored.etag, stored.size) == ("submissions/2024/bappeda/a.txt", etag, 5)
    assert '"' not in stored.etag
    assert stored.last_modified.tzinfo is not None


def test_list_is_recursive_and_skips_other_prefixes(object_store):
    for key in ["submissions/2024/bappeda/a.txt", "submissions/2024/dinkes/b.txt", "submissions/2025/bappeda/c.txt"]:
        object_store.put_bytes(key, b"x")
    keys = sorted(stored.key for stored in object_store.list_objects("submissions/2024/"))
    assert keys == ["submissions/2024/bappeda/a.txt", "submissions/2024/dinkes/b.txt"]


def test_list_skips_folder_placeholders(object_store):
    object_store.put_bytes("submissions/2024/bappeda/", b"")
    object_store.put_bytes("submissions/2024/bappeda/a.txt", b"x")
    assert [stored.key for stored in object_store.list_objects("submissions/")] == ["submissions/2024/bappeda/a.txt"]


def test_etag_changes_when_content_changes(object_store):
    first = object_store.put_bytes("k.txt", b"version 1")
    assert object_store.put_bytes("k.txt", b"version 2") != first


def test_etag_is_stable_when_the_same_bytes_are_put_again(object_store):
    first = object_store.put_bytes("k.txt", b"same")
    assert object_store.put_bytes("k.txt", b"same") == first


def test_get_of_a_missing_key_raises_object_not_found(object_store):
    with pytest.raises(ObjectNotFound, match="nope.pdf"):
        object_store.get_bytes("nope.pdf")


def test_exists(object_store):
    object_store.put_bytes("here.txt", b"x")
    assert object_store.exists("here.txt")
    assert not object_store.exists("not-here.txt")


def test_ensure_bucket_twice_is_fine(object_store):
    object_store.ensure_bucket()
    object_store.ensure_bucket()


def test_filename_with_spaces_round_trips(object_store):
    key = submission_key(2024, "bappeda", "Laporan Kinerja (final) 2024.pdf")
    object_store.put_bytes(key, b"%PDF-1.7")
    assert [stored.key for stored in object_store.list_objects(submission_prefix(2024))] == [key]
    assert object_store.get_bytes(key) == b"%PDF-1.7"


def test_put_file_guesses_content_type_from_suffix(object_store, s3_server, tmp_path):
    path = tmp_path / "Perwali SPBE.pdf"
    path.write_bytes(b"%PDF-1.7")
    object_store.put_file("p.pdf", path)
    client = Minio(
        endpoint=s3_server.endpoint, access_key=s3_server.access_key, secret_key=s3_server.secret_key, secure=False
    )
    assert client.stat_object(bucket_name=object_store.bucket, object_name="p.pdf").content_type == "application/pdf"


def test_unreachable_endpoint_raises_storage_error_naming_it():
    endpoint = f"127.0.0.1:{_closed_port()}"
    store = ObjectStore.from_settings(Settings(s3_endpoint=endpoint, s3_secure=False))
    started = time.monotonic()
    with pytest.raises(StorageError, match=re.escape(endpoint)):
        store.get_bytes("a.txt")
    assert time.monotonic() - started < UNREACHABLE_FAILS_WITHIN_SECONDS


# `spbe-evidence storage up|down`: a server that outlives the command.


def test_storage_up_and_down_survive_between_commands_and_keep_data(tmp_path):
    # One test, because every stop costs a SIGKILL grace period of several seconds.
    settings = _dev_settings(tmp_path)
    assert "Started" in local_server.up(settings)
    try:
        assert "already running" in local_server.up(settings)
        store = ObjectStore.from_settings(settings)
        store.ensure_bucket()
        store.put_bytes("kept.txt", b"still here")
    finally:
        assert "Stopped" in local_server.down(settings)
    assert not local_server.is_up(settings.s3_endpoint)
    assert not (tmp_path / "seaweedfs" / "weed.pid").exists()
    assert "nothing to stop" in local_server.down(settings)

    local_server.up(settings)
    try:
        assert ObjectStore.from_settings(settings).get_bytes("kept.txt") == b"still here"
    finally:
        local_server.down(settings)


def test_free_port_pair_stays_below_the_ports_of_outgoing_connections():
    # weed's own services connect to each other from such ports: one could take the pair before weed binds it
    assert local_server.free_port_pair() + local_server.GRPC_PORT_OFFSET < local_server.ephemeral_lowest()


def test_free_port_pair_leaves_room_for_the_grpc_port():
    port = local_server.free_port_pair()
    assert port + local_server.GRPC_PORT_OFFSET <= local_server.HIGHEST_PORT
    for candidate in (port, port + local_server.GRPC_PORT_OFFSET):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", candidate))


def test_start_reports_the_log_when_weed_exits_early(tmp_path, monkeypatch):
    failing_weed = tmp_path / "weed"
    failing_weed.write_text("#!/bin/sh\necho 'fatal: disk on fire'\nexit 3\n")
    failing_weed.chmod(EXECUTABLE_MODE)
    monkeypatch.setattr(local_server, "weed_binary", lambda: failing_weed)
    server = local_server.LocalS3Server(tmp_path / "s3", "key", "secret")
    with pytest.raises(local_server.LocalServerError, match="(?s)code 3.*disk on fire"):
        server.start()


def _dev_settings(data_dir: Path) -> Settings:
    """Settings as a developer has them, on a free port and a private data dir."""
    return Settings(s3_endpoint=f"127.0.0.1:{local_server.free_port_pair()}", s3_secure=False, data_dir=data_dir)


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
