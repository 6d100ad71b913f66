"""Opening the organisation's database and running work on it.

A URL chooses the database: ``sqlite:///path`` (the embedded default, put in
WAL mode with foreign keys on) or ``postgresql://...`` (driven by psycopg 3).
``Database.run`` executes a function with a session inside one transaction
on a worker thread, so the asyncio server never blocks on the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cloudlink.errors import ConflictError, StoreError

__all__ = ["Database", "normalise_url"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

# How long SQLite waits for another writer before giving up.
_SQLITE_BUSY_TIMEOUT_MS: Final = 10_000
# How often a transaction that lost a unique-key race is run again.
_CONFLICT_RETRIES: Final = 2


def normalise_url(url: str) -> URL:
    """Parses ``url``, choosing psycopg 3 for a bare ``postgresql://`` URL."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(f"not a database URL: {error}") from error
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    return parsed


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling is turned off so that every
    # transaction starts with BEGIN IMMEDIATE: a read that later writes
    # then waits for the write lock (busy_timeout) instead of failing.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _create_private_file(path: str | None) -> None:
    # The file holds personal data: only its owner may read it. SQLite gives
    # its -wal and -shm files the same permissions as the database file.
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise StoreError(f"cannot create the database file {path}: {error}") from error
    os.close(descriptor)


class Database:
    """One database: its engine, sessions, migrations and a worker-thread runner."""

    def __init__(self, url: str, *, echo_sql: bool = False) -> None:
        self.url = normalise_url(url)
        self.backend = self.url.get_backend_name()
        options: dict[str, Any] = {"echo": echo_sql}
        if self.backend == "sqlite":
            _create_private_file(self.url.database)
            options["connect_args"] = {"check_same_thread": False}
        else:
            options["pool_pre_ping"] = True
        self.engine = create_engine(self.url, **options)
        if self.backend == "sqlite":
            _configure_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def run_sync(self, work: Callable[[Session], T]) -> T:
        """Runs ``work(session)`` in one transaction on the calling thread.

        A transaction that collides with a concurrent one on a unique key
        (two logins creating one device, two admins adding one name) is
        rolled back and run again, so it sees the other's row; after
        _CONFLICT_RETRIES it fails with ConflictError.
        """
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                with self.session() as session:
                    return work(session)
            except IntegrityError as error:
                if attempt == _CONFLICT_RETRIES:
                    raise ConflictError(
                        "the request collided with a concurrent change; try again",
                        code="concurrent_change",
                    ) from error
                _log.info("retrying a transaction after a unique-key collision")
            except SQLAlchemyError as error:
                _log.warning("database error: %s", type(error).__name__)
                raise StoreError(f"database error: {type(error).__name__}") from error
        raise AssertionError("unreachable")

    async def run(self, work: Callable[[Session], T]) -> T:
        """Runs ``work(session)`` in one transaction on a worker thread."""
        return await asyncio.to_thread(self.run_sync, work)

    def migrate(self) -> None:
        """Brings the schema to the newest Alembic revision."""
        from cloudlink.store.migration import upgrade_to_head

        upgrade_to_head(self.engine)

    def close(self) -> None:
        """Closes every pooled connection."""
        self.engine.dispose()
