"""What one case-lifecycle step costs on this machine: worker CPU, Temporal server CPU, store
writes (rows and bytes) and Temporal history (events and bytes). Used by bench/england.py.

A worker subprocess (worker.py) serves a Temporal dev server subprocess, so each one's CPU is read
from /proc; the driver's own CPU is not counted. The store is PostgreSQL when one answers at
127.0.0.1:5432 (a database of the bench's own, dropped after), else SQLite.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-tAq", "-c"]


@dataclass
class Cost:
    """Per unit (one new request taken to its budget, or one review), measured over `count`."""

    count: int
    steps: float
    worker_cpu_s: float
    server_cpu_s: float
    store_rows: float
    store_bytes: float
    history_events: float
    history_bytes: float


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_url() -> str | None:
    name = f"cbbench_{uuid.uuid4().hex[:8]}"
    made = subprocess.run([*ADMIN, f'CREATE DATABASE "{name}"'], capture_output=True, check=False)
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}" if made.returncode == 0 else None


def _drop(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    subprocess.run([*ADMIN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True,
                   check=False)


def _store_size(store: Any, url: str, sqlite_file: Path) -> tuple[int, int]:
    """(rows, bytes) of everything carebudget keeps: ledger, cases, decisions, bundles, users."""
    from sqlalchemy import text

    with store.engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'" if url.startswith("postgresql")
            else "SELECT name FROM sqlite_master WHERE type = 'table'"))]
        rows = sum(int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()) for t in tables
                   if t != "alembic_version")
        size = (int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
                if url.startswith("postgresql") else sqlite_file.stat().st_size)
    return rows, size


async def _history(client: Any, ids: list[str]) -> tuple[int, int]:
    from temporalio.api.history.v1 import History

    events = size = 0
    for case_id in ids:
        history = await client.get_workflow_handle(case_id).fetch_history()
        events += len(history.events)
        size += History(events=history.events).ByteSize()
    return events, size


def _spawn(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def measure(count: int) -> tuple[Cost, Cost, str]:
    """(new request to active budget, one review, which store) over `count` cases each."""
    from carebudget.service import cases, examples
    from carebudget.service.server import SEARCH_ATTRIBUTES, wait_until_ready
    from carebudget.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="bench-england-"))
    sqlite_file = tmp / "carebudget.db"
    url = _postgres_url() or f"sqlite:///{sqlite_file}"
    port = _free_port()
    server_cmd = [str(BIN / "temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
                  "--headless", "--log-level", "error"]
    for key, kind in SEARCH_ATTRIBUTES.items():
        server_cmd += ["--search-attribute", f"{key}={kind}"]
    server = _spawn(server_cmd, dict(os.environ))
    queue = f"bench-england-{uuid.uuid4().hex[:6]}"
    store = Store(url)
    store.migrate()
    # Every step's actor is a user of the store (issue 11): the people of the cases driven below.
    examples.ensure_users(store, persons=[f"person-3-{n}" for n in [*range(count), 10_000]])
    env = {**os.environ, "CAREBUDGET_TEMPORAL_ADDRESS": f"127.0.0.1:{port}", "CAREBUDGET_TASK_QUEUE": queue,
           "CAREBUDGET_DATABASE_URL": url, "CAREBUDGET_DATA_DIR": str(tmp)}
    worker = None
    try:
        client = await wait_until_ready(f"127.0.0.1:{port}", "default", server)
        worker = _spawn([sys.executable, str(REPO / "worker.py")], env)
        await examples.drive(client, examples.make_case(10_000, path="approve", seed=3), queue)  # warm
        ids: list[str] = []

        async def new_requests() -> None:
            limit = asyncio.Semaphore(8)

            async def one(n: int) -> None:
                async with limit:
                    state = await examples.drive(client, examples.make_case(n, path="approve", seed=3), queue)
                    ids.append(state["case_id"])
            await asyncio.gather(*(one(n) for n in range(count)))

        async def reviews() -> None:
            for case_id in ids:
                await cases.act(client, case_id, "request_review", "sw-amy", "social_worker",
                                {"reasons": "Yearly review"})
                await cases.act(client, case_id, "complete_review", "sw-amy", "social_worker",
                                {"outcome": "no_change", "underspend": "0", "notes": ""})

        new = await _measured(new_requests, count, 5, server, worker, store, url, sqlite_file,
                              client, ids)
        review = await _measured(reviews, count, 2, server, worker, store, url, sqlite_file,
                                 client, ids)
        return new, review, "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    finally:
        for process in (worker, server):
            if process is not None:
                process.terminate()
                process.wait()
        store.close()
        if url.startswith("postgresql"):
            _drop(url)


async def _measured(work: Any, count: int, steps: int, server: Any, worker: Any, store: Any,
                    url: str, sqlite_file: Path, client: Any, ids: list[str]) -> Cost:
    cpu = (_cpu_seconds(worker.pid), _cpu_seconds(server.pid))
    rows, size = _store_size(store, url, sqlite_file)
    events, hbytes = await _history(client, ids)
    await work()
    await asyncio.sleep(1)  # let the last local activities' writes land
    rows2, size2 = _store_size(store, url, sqlite_file)
    events2, hbytes2 = await _history(client, ids)
    return Cost(count, steps, (_cpu_seconds(worker.pid) - cpu[0]) / count,
                (_cpu_seconds(server.pid) - cpu[1]) / count, (rows2 - rows) / count,
                (size2 - size) / count, (events2 - events) / count, (hbytes2 - hbytes) / count)


def whatif_cpu_per_case(count: int) -> float:
    """CPU seconds to re-decide one case's indicative budget under the current and a changed bundle."""
    from bench.cases import generate_cases
    from carebudget.policy.whatif import run_whatif
    from carebudget.rulebook.library import load_library
    from carebudget.settings import REPO_ROOT

    library = load_library(REPO_ROOT / "rules")
    caseload = generate_cases(count, seed=16)
    started = time.process_time()
    run_whatif(library, library, "demo", caseload, date(2025, 6, 1))
    return (time.process_time() - started) / count
