"""Shared fixtures. Storage: one real SeaweedFS S3 server per test session, a fresh bucket per test."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

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
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the session: starting one costs 10–20 s."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield
