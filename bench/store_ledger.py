"""Store bench: ledger verify at 1,000,000 rows and the operations list p95 at 100,000 cases.

Goals (issue 4): verify 1,000,000 rows in under 10 s; list p95 under 50 ms. Each figure is printed
beside a baseline measured in the same run on the same data: for verify, a bare ordered scan of
the ledger and raw hashlib.sha256 over the same row bytes; for the list, a bare `SELECT 1` and the
same page as one hand-written SQL statement. Runs on SQLite always and on PostgreSQL when reachable
(CAREBUDGET_BENCH_POSTGRES_URL, default the local server; a fresh database, dropped after).
Rows are bulk-inserted (executemany / COPY) with a valid hash chain built here.
CAREBUDGET_BENCH_QUICK=1: 20,000 ledger rows and 5,000 cases.
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

QUICK = os.environ.get("CAREBUDGET_BENCH_QUICK") == "1"
LEDGER_ROWS = 20_000 if QUICK else 1_000_000
CASES = 5_000 if QUICK else 100_000
QUERIES = 60 if QUICK else 400
CHUNK = 20_000
STAGES = ("assessment", "eligibility", "financial_assessment", "indicative_budget", "support_planning",
          "sign_off", "counter_proposal", "appeal", "active_budget", "review")
PG_ADMIN = os.environ.get("CAREBUDGET_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHAIN = "demo"  # one council's chain: verify --council reads only it
COLUMNS = ("chain", "seq", "at", "event_key", "case_id", "actor", "role", "action", "payload", "personal",
           "prev_hash", "hash")


def chain(n: int) -> Iterator[tuple[list[tuple[Any, ...]], float]]:
    """Chunks of valid ledger rows, and the seconds raw hashlib took over each chunk's bytes."""
    from carebudget.store.ledger import GENESIS, row_document

    prev, base = GENESIS, datetime(2026, 1, 1, tzinfo=UTC)
    for start in range(1, n + 1, CHUNK):
        rows, docs = [], []
        for seq in range(start, min(n, start + CHUNK - 1) + 1):
            at = (base + timedelta(seconds=seq)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            case_id = f"B{seq % CASES:07d}"
            payload = f'{{"i":{seq},"outcome":"accepted","step":"{STAGES[seq % len(STAGES)]}"}}'
            personal = f'{{"name":"Person {seq}"}}' if seq % 10 == 0 else None
            doc = row_document(CHAIN, seq, at, f"ev-{seq}", case_id, "worker-7", "system", "update.accepted",
                               payload, personal, prev).encode()
            digest = hashlib.sha256(doc).hexdigest()
            rows.append((CHAIN, seq, at, f"ev-{seq}", case_id, "worker-7", "system", "update.accepted",
                         payload, personal, prev, digest))
            docs.append(doc)
            prev = digest
        sha256 = hashlib.sha256
        started = time.perf_counter()
        for doc in docs:
            sha256(doc).hexdigest()
        yield rows, time.perf_counter() - started


def load_ledger(store: Any) -> float:
    raw = store.engine.raw_connection()
    dbapi: Any = raw.driver_connection
    hashing = 0.0
    try:
        if store.engine.dialect.name == "postgresql":
            with dbapi.cursor() as cur:
                with cur.copy(f"COPY ledger ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for rows, seconds in chain(LEDGER_ROWS):
                        hashing += seconds
                        for row in rows:
                            copy.write_row(row)
                cur.execute("ANALYZE ledger")
            dbapi.commit()
        else:
            dbapi.execute("BEGIN IMMEDIATE")
            sql = f"INSERT INTO ledger ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
            for rows, seconds in chain(LEDGER_ROWS):
                hashing += seconds
                dbapi.executemany(sql, rows)
            dbapi.execute("COMMIT")
    finally:
        raw.close()
    sign_head(store)
    return hashing


def sign_head(store: Any) -> None:
    """The signed head the store would have written after the last append."""
    from sqlalchemy import text

    with store.engine.begin() as conn:
        seq, digest, at = conn.execute(text("SELECT seq, hash, at FROM ledger WHERE chain = :c ORDER BY seq DESC "
                                            "LIMIT 1"), {"c": CHAIN}).one()
        key_id, mac = store.keys.sign("head", CHAIN, seq, digest, at)
        conn.execute(text("INSERT INTO ledger_head (chain, seq, hash, at, key_id, mac) VALUES "
                          "(:c, :s, :h, :at, :k, :m)"), {"c": CHAIN, "s": seq, "h": digest, "at": at, "k": key_id,
                                                         "m": mac})


def bare_scan(store: Any) -> float:
    raw = store.engine.raw_connection()
    dbapi: Any = raw.driver_connection
    started = time.perf_counter()
    try:
        cur = dbapi.cursor(name="bench_scan") if store.engine.dialect.name == "postgresql" else dbapi.cursor()
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM ledger WHERE chain = '{CHAIN}' ORDER BY seq")
        while cur.fetchmany(CHUNK):
            pass
        cur.close()
        dbapi.rollback()
    finally:
        raw.close()
    return time.perf_counter() - started


def load_cases(store: Any) -> None:
    from carebudget.store.db import write
    from carebudget.store.models import CASES as CASE_TABLE
    from carebudget.store.models import PERSONS

    rng = random.Random(2014)
    today, now = date.today(), datetime.now(UTC)
    rows, people = [], []
    for i in range(CASES):
        case_id = f"B{i:07d}"
        rows.append({"case_id": case_id, "council": rng.choice(("demo", "england")), "stage": rng.choice(STAGES),
                     "opened": today - timedelta(days=rng.randint(0, 900)),
                     "due": today + timedelta(days=rng.randint(-60, 120)) if rng.random() < 0.9 else None,
                     "amounts": f'{{"personal_budget":"{rng.randint(40, 900)}.00"}}',
                     "assigned_to": f"worker-{rng.randint(1, 300)}", "updated_at": now, "last_seq": i + 1})
        people.append({"case_id": case_id, "name": f"Person {i}",
                       "date_of_birth": date(1940, 1, 1) + timedelta(days=rng.randint(0, 20000))})
    with write(store.engine, "bench") as conn:
        for start in range(0, CASES, CHUNK):
            conn.execute(CASE_TABLE.insert(), rows[start:start + CHUNK])
            conn.execute(PERSONS.insert(), people[start:start + CHUNK])
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE case_list")
            conn.exec_driver_sql("ANALYZE case_person")
            conn.commit()
    else:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000


def timed(call: Callable[[int], Any]) -> list[float]:
    samples = []
    for i in range(QUERIES):
        started = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - started)
    return samples


def bench_list(store: Any) -> None:
    from sqlalchemy import text

    def listing(role: str) -> Callable[[int], Any]:
        return lambda i: store.list_cases({"stage": STAGES[i % len(STAGES)], "overdue": True},
                                          {"number": 1 + i % 5, "size": 50}, role=role)

    page_sql = text("SELECT case_id, council, stage, opened, due, amounts, assigned_to FROM case_list "
                    "WHERE stage = :stage AND due < :today ORDER BY due, case_id LIMIT 50 OFFSET :offset")
    today = date.today()

    def bare_page(i: int) -> None:
        with store.engine.connect() as conn:
            conn.execute(page_sql, {"stage": STAGES[i % len(STAGES)], "today": today, "offset": 50 * (i % 5)}).all()

    def select_one(_: int) -> None:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1").all()

    listing("operations")(0)  # warm caches and compiled statements
    _, total = listing("operations")(0)
    one = p95(timed(select_one))
    bare = p95(timed(bare_page))
    ops = p95(timed(listing("operations")))
    social = p95(timed(listing("social_worker")))
    print(f"  list p95 at {CASES:,} cases (stage + overdue, 50 a page, {total:,} match page 1's filter):")
    print(f"    list_cases as operations       {ops:7.2f} ms  (goal < 50 ms)  = {ops / one:5.1f} x SELECT 1, "
          f"{ops / bare:4.1f} x the bare page query")
    print(f"    list_cases as social_worker    {social:7.2f} ms  (joins name and date of birth)")
    print(f"    baseline: bare page SQL        {bare:7.2f} ms ; SELECT 1 {one:.2f} ms")


def bench(label: str, url: str) -> None:
    from carebudget.store import Store

    store = Store(url)
    store.migrate()
    print(f"\n[{label}]")
    started = time.perf_counter()
    hashing = load_ledger(store)
    print(f"  built {LEDGER_ROWS:,} ledger rows in {time.perf_counter() - started:.1f} s (bulk insert)")
    bare_scan(store)  # warm the page cache so neither figure pays for a cold read
    scan = bare_scan(store)
    started = time.perf_counter()
    report = store.verify_chain(council=CHAIN)
    verify = time.perf_counter() - started
    assert report.ok and report.rows == LEDGER_ROWS, report
    print(f"  verify {LEDGER_ROWS:,} rows (one council's chain) {verify:7.2f} s   (goal < 10 s)  = "
          f"{verify / (scan + hashing):4.2f} x (bare scan + raw hashlib)")
    print(f"    baseline: bare ordered scan    {scan:7.2f} s ; raw hashlib.sha256 over the same bytes {hashing:.2f} s")
    load_cases(store)
    bench_list(store)
    store.close()


def main() -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    print(f"store bench: {LEDGER_ROWS:,} ledger rows, {CASES:,} cases, {QUERIES} list queries per figure"
          + (" (quick mode)" if QUICK else ""))
    with tempfile.TemporaryDirectory() as tmp:
        bench("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")
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


if __name__ == "__main__":
    main()
