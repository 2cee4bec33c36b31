"""Shared fixtures. Storage: one real SeaweedFS S3 server per test session, a fresh bucket per test."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from catalog import Framework, SkpdRegistry, load_framework, load_skpd_registry
from settings import Settings, get_settings
from storage.local_server import LocalS3Server
from storage.objects import ObjectStore

TEST_ACCESS_KEY = "spbe-test"
TEST_SECRET_KEY = "spbe-test-secret"


@dataclass(frozen=True)
class S3ServerInfo:
    """How to reach the test session's S3 server."""

    endpoint: str
    access_key: str
    secret_key: str


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3ServerInfo]:
    """A SeaweedFS S3 server on free loopback ports, shared by the whole session (it takes ~3 s to start)."""
    with LocalS3Server(tmp_path_factory.mktemp("seaweedfs"), TEST_ACCESS_KEY, TEST_SECRET_KEY) as server:
        yield S3ServerInfo(server.endpoint, TEST_ACCESS_KEY, TEST_SECRET_KEY)


@pytest.fixture
def object_store(s3_server: S3ServerInfo) -> ObjectStore:
    """An ObjectStore on a new, empty bucket, so tests never see each other's objects."""
    settings = Settings(
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_secure=False,
        s3_bucket=f"test-{uuid.uuid4().hex[:12]}",
    )
    store = ObjectStore.from_settings(settings)
    store.ensure_bucket()
    return store


@pytest.fixture
def settings(s3_server: S3ServerInfo, object_store: ObjectStore, tmp_path) -> Settings:
    """Settings of a whole deployment in miniature: the test S3 bucket, SQLite and reports under tmp_path."""
    return Settings(
        _env_file=None,
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_bucket=object_store.bucket,
        data_dir=tmp_path / "var",
    )


@pytest.fixture
def environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The same settings as SPBE_* environment variables, for code that reads them itself (flows, CLI)."""
    for name, value in settings.model_dump().items():
        if value is not None:
            monkeypatch.setenv(f"SPBE_{name.upper()}", str(value))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def catalog() -> tuple[Framework, SkpdRegistry]:
    """The shipped framework (SPBE 2024) and the Banjarmasin SKPD registry, as the reports read them."""
    settings = Settings(_env_file=None)
    framework = load_framework(settings.framework_file)
    return framework, load_skpd_registry(settings.skpd_file, framework)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the session: starting one costs 10–20 s."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield


# Mail: a real SMTP server (aiosmtpd) on a free loopback port, for the delivery tests (appended section, own imports).

import socket  # noqa: E402
from email import message_from_bytes  # noqa: E402
from email import policy as email_policy  # noqa: E402
from email.message import EmailMessage  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult  # noqa: E402

MAIL_HOST = "127.0.0.1"
TEMPORARY_FAILURE_REPLY = "451 4.3.0 Mail server temporarily unavailable, try again later"


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: EmailMessage


class MailServer:
    """An SMTP handler that keeps what it receives; with `failing` set it answers every message 451 (try later)."""

    def __init__(self, port: int) -> None:
        self.host, self.port = MAIL_HOST, port
        self.received: list[ReceivedMail] = []
        self.logins: list[tuple[str, str]] = []
        self.data_commands = 0
        self.failing = False

    async def handle_DATA(self, server, session, envelope) -> str:
        self.data_commands += 1
        if self.failing:
            return TEMPORARY_FAILURE_REPLY
        message = message_from_bytes(envelope.content, policy=email_policy.default)
        self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A running SMTP server that accepts AUTH without TLS (loopback only), stopped after the test."""
    with socket.socket() as probe:
        probe.bind((MAIL_HOST, 0))
        port = probe.getsockname()[1]
    server = MailServer(port)
    controller = Controller(server, hostname=MAIL_HOST, port=port, authenticator=server.authenticate,
                            auth_require_tls=False)
    controller.start()
    yield server
    controller.stop()


# Published reports: one nightly run over the demo's unreadable uploads (appended section, own imports).

from spbe_evidence.samples import load_samples, write_sample  # noqa: E402
from storage import layout  # noqa: E402

PUBLISHED_YEAR = 2026


@pytest.fixture
def published_reports(environment: Settings, prefect_harness: None) -> dict:
    """The nightly flow's result after publishing: every SKPD has a report; unreadable uploads need no model."""
    from flows.nightly import nightly

    store = ObjectStore.from_settings(environment)
    for sample in load_samples():
        if sample.format == "bytes":  # the broken PDF and the legacy .xls
            path = write_sample(sample, environment.data_dir / "samples")
            store.put_file(layout.submission_key(PUBLISHED_YEAR, sample.skpd, sample.filename), path)
    return nightly(year=PUBLISHED_YEAR)
