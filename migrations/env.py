"""Alembic environment: the connection comes from Store.migrate(), or from settings by hand."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import carebudget.store.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from carebudget.settings import get_settings
    from carebudget.store.db import make_engine

    engine = make_engine(get_settings().effective_database_url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run()
