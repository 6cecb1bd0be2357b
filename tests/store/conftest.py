"""Every store test runs on SQLite and on PostgreSQL (a fresh database per run, a schema per test).

PostgreSQL comes from CAREBUDGET_TEST_POSTGRES_URL (default: the local trust-auth server, database
`test`, used only to create and drop the run's own database). When it is unreachable the
PostgreSQL variants are skipped, unless CI=1 or CAREBUDGET_REQUIRE_POSTGRES=1, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from carebudget.store import Store

ADMIN_URL = os.environ.get("CAREBUDGET_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("CI") == "1" or os.environ.get("CI") == "true" or \
    os.environ.get("CAREBUDGET_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a database created for this test run and dropped after it."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"carebudget_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not reachable"
        admin.dispose()
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required here but unreachable at {ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {ADMIN_URL}: {exc}")
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_schema_url(database_url: str) -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a file per test on SQLite, a schema per test on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        Store(url).migrate()
        yield url
        return
    database_url = request.getfixturevalue("postgres_database")
    url, schema = postgres_schema_url(database_url)
    migrator = Store(url)
    migrator.migrate()
    migrator.close()
    yield url
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    yield s
    s.close()


def tamper(store: Store, sql: str, **params: object) -> None:
    """Change the ledger behind the store's back, as someone with database access could."""
    with store.engine.connect() as conn, conn.begin():
        if store.engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # skip the append-only trigger
            conn.execute(text(sql), params)
        else:
            for trigger in ("ledger_no_update", "ledger_no_delete", "ledger_checkpoint_no_update",
                            "ledger_checkpoint_no_delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
            conn.execute(text(sql), params)
