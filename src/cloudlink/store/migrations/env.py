"""Alembic environment: migrates the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from cloudlink.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    raise RuntimeError("run migrations through cloudlink.store.migration")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
