"""Each report (issue 14) at 100,000 cases on SQLite and PostgreSQL, beside a plain
`SELECT count(*)` of the same rows (the council's case list and ledger chain) in the same run.
Goal: every report under 1 s and under 20 times the count. CAREBUDGET_BENCH_QUICK=1: 5,000 cases."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import text

QUICK = os.environ.get("CAREBUDGET_BENCH_QUICK") == "1"
CASES = 5_000 if QUICK else 100_000
RUNS = 3
PG_ADMIN = os.environ.get("CAREBUDGET_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _best(call: object) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def bench(label: str, url: str) -> None:
    from bench.caseload import generate
    from carebudget.reports import KINDS, run
    from carebudget.store import Store

    store = Store(url)
    store.migrate()
    started = time.perf_counter()
    generate(store, CASES, date.today())
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM ledger WHERE chain = 'demo'")).scalar_one()
    print(f"\n[{label}] {CASES:,} cases, {rows:,} ledger rows, generated in {time.perf_counter() - started:.1f} s")

    def count() -> None:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM case_list WHERE council = 'demo'")).scalar_one()
            conn.execute(text("SELECT count(*) FROM ledger WHERE chain = 'demo'")).scalar_one()

    base = _best(count)
    print(f"  baseline: SELECT count(*) of the case list and the chain  {base * 1000:8.1f} ms")
    for kind in KINDS:
        took = _best(lambda k=kind: run(store.engine, k, "demo"))  # type: ignore[misc]
        flag = "ok" if took < 1 and took < 20 * base else "OVER GOAL"
        print(f"  {kind:12s} {took * 1000:8.1f} ms  = {took / base:6.1f} x count   ({flag}; goal < 1 s, < 20 x)")
    store.close()


def main() -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    with tempfile.TemporaryDirectory() as tmp:
        bench("SQLite", f"sqlite:///{Path(tmp) / 'reports.db'}")
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"carebudget_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - unreachable server: report and carry on
        print(f"\n[PostgreSQL] skipped: unreachable at {PG_ADMIN} ({type(exc).__name__})")
        return
    try:
        bench("PostgreSQL", make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
