"""Test databases: a fresh SQLite file or a fresh database on the test PostgreSQL server.

The PostgreSQL server is the one ``./dev test`` starts (scripts/services.sh);
its URL comes in CLOUDLINK_TEST_POSTGRES_URL. Without it the PostgreSQL
cases skip locally and fail under CI (CI=true), where they must run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cloudlink.store import Database
from cloudlink.store.database import normalise_url

POSTGRES_URL_VARIABLE = "CLOUDLINK_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")


def postgres_url() -> str:
    """The test server's URL; skips (fails under CI) when there is none."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        message = f"{POSTGRES_URL_VARIABLE} is not set: run through ./dev test"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[Database]:
    """A new, empty database of ``backend``, dropped afterwards."""
    if backend == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'cloudlink.db'}")
        try:
            yield db
        finally:
            db.close()
        return
    server_url = normalise_url(postgres_url())
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(server_url.set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.close()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
