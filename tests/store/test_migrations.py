"""Migrations on both databases: they build exactly the models' schema, idempotently."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from cloudlink.errors import StoreError
from cloudlink.store import Base, Database
from cloudlink.store.migration import alembic_config, current_revision, head_revision
from databases import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with fresh_database(request.param, tmp_path) as db:
        yield db


def test_migrations_reach_head_and_match_the_models(empty_db: Database) -> None:
    assert current_revision(empty_db.engine) is None
    empty_db.migrate()
    assert current_revision(empty_db.engine) == head_revision()
    with empty_db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(empty_db: Database) -> None:
    empty_db.migrate()
    tables = set(inspect(empty_db.engine).get_table_names())
    empty_db.migrate()
    assert set(inspect(empty_db.engine).get_table_names()) == tables
    assert set(Base.metadata.tables) <= tables


def test_every_table_but_organisations_belongs_to_an_organisation() -> None:
    for name, table in Base.metadata.tables.items():
        if name != "organisations":
            assert "organisation_id" in table.columns, name
            assert not table.columns["organisation_id"].nullable, name


def test_sqlite_runs_in_wal_mode_with_foreign_keys_in_a_private_file(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    db.migrate()
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        for name in ("x.db", "x.db-wal"):
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
    db.close()


@pytest.mark.parametrize("url", ["mysql://x/y", "not a url"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(StoreError):
        Database(url)


def test_migrations_go_down_and_up_again(empty_db: Database) -> None:
    empty_db.migrate()
    command.downgrade(alembic_config(empty_db.engine), "base")
    assert set(inspect(empty_db.engine).get_table_names()) <= {"alembic_version"}
    empty_db.migrate()
    assert current_revision(empty_db.engine) == head_revision()
