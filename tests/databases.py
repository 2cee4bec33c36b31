"""Throw-away PostgreSQL databases on the machine's server (127.0.0.1:5432, trust auth) for tests."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES_SERVER = "postgres@127.0.0.1:5432"
POSTGRES_ADMIN_URL = f"postgresql://{POSTGRES_SERVER}/postgres"


def state_url(database: str) -> str:
    """The SQLAlchemy URL of a test database, as the state store takes it."""
    return f"postgresql+psycopg://{POSTGRES_SERVER}/{database}"


@contextmanager
def throwaway_database(*extensions: str) -> Iterator[str]:
    """A new PostgreSQL database (with `extensions`), dropped afterwards; its name. Skips without a server."""
    psycopg = pytest.importorskip("psycopg")
    name = f"spbe_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"postgresql://{POSTGRES_SERVER}/{name}", autocommit=True) as database:
        for extension in extensions:
            database.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    try:
        yield name
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
