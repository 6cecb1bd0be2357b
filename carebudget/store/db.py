"""Connections: SQLite (one writer, BEGIN IMMEDIATE, WAL) or PostgreSQL (advisory locks per chain)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from carebudget.store.errors import InvalidInput

# PostgreSQL: a write names what it serialises on (a ledger chain, "policy", "users"), and takes
# one advisory transaction lock per name, so appends to one council's chain never wait for
# another's. SQLite has one writer per database (BEGIN IMMEDIATE): every write queues behind every
# other there, whatever the names.
WRITE_LOCK_KEY = 0x4361726542756467  # "CareBudg"
MIGRATE_LOCK_KEY = WRITE_LOCK_KEY + 1


def lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for a name, stable across processes and releases."""
    digest = hashlib.sha256(f"carebudget-lock:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# SQLite: the writers of one process queue on a lock here before BEGIN IMMEDIATE, instead of
# every thread but one sleeping in SQLite's busy handler (it sleeps in steps of up to 100 ms, so
# under load a write waited long after the lock was free). Other processes still meet the busy
# handler, as before.
_SQLITE_WRITERS: dict[str, threading.RLock] = {}
_SQLITE_WRITERS_GUARD = threading.Lock()
WRITER_LOCK_OPTION = "carebudget_writer_lock"


def _writer_lock(database: str) -> threading.RLock:
    with _SQLITE_WRITERS_GUARD:
        return _SQLITE_WRITERS.setdefault(database, threading.RLock())


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql" or parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        # An in-memory database exists per connection: share one, or each query sees an empty one.
        engine = create_engine(parsed, connect_args={"timeout": 60, "check_same_thread": False},
                               **({"poolclass": StaticPool} if memory else {}))
        _sqlite_single_writer(engine)
        # One queue per database file in this process; an in-memory database is its engine's own.
        lock = threading.RLock() if memory else _writer_lock(str(parsed.database))
        return engine.execution_options(**{WRITER_LOCK_OPTION: lock})
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInput(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql", "url")
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_single_writer(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # A write takes the database write lock at BEGIN, so read-then-append cannot interleave.
        immediate = conn.get_execution_options().get("carebudget_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextmanager
def write(engine: Engine, *locks: str | int) -> Iterator[Connection]:
    """One write transaction, serialised with every other write naming one of the same `locks`
    (names, or raw keys): committed on success, rolled back on any error.

    Take locks in a fixed order (a general one like "policy" before any chain; several chains
    sorted) so two writers never wait on each other in a cycle.
    """
    queue = engine.get_execution_options().get(WRITER_LOCK_OPTION)
    with queue or nullcontext(), engine.connect() as conn:
        conn = conn.execution_options(carebudget_write=True)
        with conn.begin():
            for lock in locks:
                take_lock(conn, lock)
            yield conn


def take_lock(conn: Connection, lock: str | int) -> None:
    """Hold `lock` until the transaction ends (PostgreSQL; SQLite's BEGIN IMMEDIATE covers it)."""
    if conn.dialect.name == "postgresql":
        key = lock if isinstance(lock, int) else lock_key(lock)
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (key,))


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def canonical_json(value: Any, field: str = "payload") -> str:
    """Sorted keys, no spaces, UTF-8: the bytes every hash in the store is taken over."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{field} is not JSON: {exc}", field) from None


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we write is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
