"""Each report (issue 14) at 100,000 cases on SQLite and PostgreSQL, beside a plain
`SELECT count(*)` of the same rows (the council's case list and its ledger chain) in the same run.
Goal: every report under 1 s and under 20 times the count. CAREBUDGET_BENCH_QUICK=1: 5,000 cases.

The caseload is written in bulk by bench/caseload.py (the service's tables and row shapes, the real
decision core's records), not through Temporal. Prints a table per store and ends with one JSON line.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text

QUICK = os.environ.get("CAREBUDGET_BENCH_QUICK") == "1"
CASES = 5_000 if QUICK else 100_000
RUNS = 3
GOAL_S, GOAL_X = 1.0, 20.0
# Which stores to run, e.g. "postgresql" alone (default both, SQLite first).
STORES = os.environ.get("CAREBUDGET_BENCH_STORES", "sqlite,postgresql").split(",")
PG_ADMIN = os.environ.get("CAREBUDGET_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Keep the written caseloads (a folder for SQLite; PostgreSQL keeps a database named for the size)
# and reuse them in later runs: writing 100,000 cases takes minutes, and the reports are best
# timed when the machine is quiet, which is rarely when the writing ends.
KEEP = os.environ.get("CAREBUDGET_BENCH_KEEP", "")


def _best(call: Callable[[], Any]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def bench(label: str, url: str) -> dict[str, Any]:
    from bench.caseload import COUNCIL, generate
    from carebudget.reports import KINDS, run
    from carebudget.reports.export import stream_csv
    from carebudget.store import Store

    store = Store(url)
    store.migrate()
    started = time.perf_counter()
    if KEEP and _written(store):
        made, made_by = 0.0, "kept from an earlier run"
    else:
        decider = generate(store, CASES, date.today())
        made, made_by = time.perf_counter() - started, (
            f"{decider.made:,} made by the decision core, {len(decider.bundles)} rules bundles")
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM ledger WHERE chain = :c"), {"c": COUNCIL}).scalar_one()
        decisions = conn.execute(text("SELECT count(*) FROM decision")).scalar_one()
    print(f"\n[{label}] {CASES:,} cases: {rows:,} ledger rows, {decisions:,} decision records "
          f"({made_by}); written in {made:.1f} s")

    def count() -> None:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM case_list WHERE council = :c"), {"c": COUNCIL}).scalar_one()
            conn.execute(text("SELECT count(*) FROM ledger WHERE chain = :c"), {"c": COUNCIL}).scalar_one()

    base = _best(count)
    print(f"  {'SELECT count(*) of the case list and the chain':48s} {base * 1000:8.1f} ms")
    out: dict[str, Any] = {"cases": CASES, "ledger_rows": rows, "decisions": decisions,
                           "generate_s": round(made, 1), "count_s": round(base, 4), "reports": {}}
    for kind in KINDS:
        took = _best(lambda k=kind: run(store.engine, k, COUNCIL))  # type: ignore[misc]
        ok = took < GOAL_S and took < GOAL_X * base
        out["reports"][kind] = {"s": round(took, 4), "x_count": round(took / base, 1), "ok": ok}
        print(f"  {kind:48s} {took * 1000:8.1f} ms  {took / base:6.1f} x count   "
              f"{'ok' if ok else 'OVER GOAL'} (< {GOAL_S:g} s, < {GOAL_X:g} x)")
    report = run(store.engine, "cld", COUNCIL)
    started = time.perf_counter()
    size = sum(len(piece) for piece in stream_csv(store.engine, report))
    whole = time.perf_counter() - started
    out["cld_csv"] = {"s": round(whole, 3), "bytes": size}
    print(f"  {'cld: the whole return as CSV, streamed':48s} {whole * 1000:8.1f} ms  ({size:,} bytes; "
          "a download, not a page)")
    store.close()
    return out


def _written(store: Any) -> bool:
    """The kept caseload is whole: every case on the council's list (the last step of writing)."""
    from bench.caseload import COUNCIL

    with store.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM case_list WHERE council = :c"),
                            {"c": COUNCIL}).scalar_one() >= CASES


def main() -> None:
    results: dict[str, Any] = {}
    if "sqlite" in STORES and KEEP:
        Path(KEEP).mkdir(parents=True, exist_ok=True)
        results["sqlite"] = bench("SQLite", f"sqlite:///{Path(KEEP).resolve() / f'reports-{CASES}.db'}")
    elif "sqlite" in STORES:
        with tempfile.TemporaryDirectory() as tmp:
            results["sqlite"] = bench("SQLite", f"sqlite:///{Path(tmp) / 'reports.db'}")
    if "postgresql" in STORES:
        results["postgresql"] = _postgres()
    ok = all(r["ok"] for store in results.values() for r in store.get("reports", {}).values())
    print(json.dumps({"bench": "reports", "quick": QUICK, "goal": {"s": GOAL_S, "x_count": GOAL_X},
                      "all_within_goal": ok, **results}))


def _postgres() -> dict[str, Any]:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"carebudget_bench_kept_{CASES}" if KEEP else f"carebudget_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - unreachable server: report and carry on
        print(f"\n[PostgreSQL] skipped: unreachable at {PG_ADMIN} ({type(exc).__name__})")
        return {"skipped": type(exc).__name__}
    try:
        return bench("PostgreSQL", make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False))
    finally:
        if not KEEP:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
