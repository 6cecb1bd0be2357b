"""`make fault-test`: `carebudget serve` killed mid-run, restarted, and every case driven to its end.

For each store (SQLite, then PostgreSQL in a database of the run's own) and each kind of fault
(the whole service, only the worker, only Temporal), 30 cases go through every stage from the web
API while the fault strikes three times (early, mid-run, near the end). Each time what was killed
comes back (serve restarts Temporal by itself), the driver retries a step only after reading the
case, and at the end `carebudget cases reconcile` runs. Exit 0 only if, everywhere: 0 cases lost,
0 stuck, 0 duplicated, store and Temporal agree, every letter the steps call for issued once,
no alarm, the ledger verifies and every decision replays identically.

CAREBUDGET_FAULT_CASES (30), CAREBUDGET_FAULT_STORES (sqlite,postgres), CAREBUDGET_FAULT_KINDS
(service,worker,temporal) narrow a run; CAREBUDGET_FAULT_POINTS (3) sets the faults per run.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.fault.run import KINDS, Result, scenario
from tests.fault.service import Service, create_database, drop_databases

CASES = int(os.environ.get("CAREBUDGET_FAULT_CASES", "30"))
CONCURRENCY = 8
POINTS = int(os.environ.get("CAREBUDGET_FAULT_POINTS", "3"))
STORES = os.environ.get("CAREBUDGET_FAULT_STORES", "sqlite,postgres").split(",")
CHOSEN = os.environ.get("CAREBUDGET_FAULT_KINDS", ",".join(KINDS)).split(",")


def _cpu() -> float:
    """CPU seconds used by this process and every child it has reaped (serve reaps Temporal)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def one(store: str, kind: str, seed: int) -> Result:
    result = Result(store, kind, CASES)
    cpu = _cpu()
    workdir = Path(tempfile.mkdtemp(prefix=f"cbfault-{store}-{kind}-"))
    database_url = None
    if store == "postgres":
        database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{create_database()}"
    service = Service(workdir, database_url, separate_worker=kind == "worker")
    print(f"{store} / {kind}: {CASES} cases, ports {service.ports} ...", flush=True)
    try:
        asyncio.run(scenario(service, kind, CASES, CONCURRENCY, seed, result, POINTS))
    except Exception as exc:  # noqa: BLE001 - reported in the table, the run goes on
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        result.hung = service.stop()
        result.cpu = _cpu() - cpu
    for line in result.kills:
        print(f"  {line}", flush=True)
    if not result.ok:
        print(f"  FAILED: {result.error or ''}\n--- serve.log\n{service.tail('serve.log', 40)}")
        if kind == "worker":
            print(f"--- worker.log\n{service.tail('worker.log', 40)}")
    shutil.rmtree(workdir, ignore_errors=True)
    return result


def report(results: list[Result]) -> None:
    """One row per store and kind; `struck` is step calls a fault made fail (then retried)."""
    print()
    print(f"{'store':9} {'killed':9} {'kills':>5} {'struck':>6} {'cases':>5} {'done':>5} {'lost':>4} {'stuck':>5} "
          f"{'dup':>4} {'disagree':>8} {'letters≠':>8} {'repaired':>8} {'voided':>6} {'alarms':>6} {'ledger':>7} {'decisions':>9} "
          f"{'replay≠':>7} {'stop':>4} {'secs':>5} {'cpu s':>5}")
    for r in results:
        f = r.findings
        if f is None:
            print(f"{r.store:9} {r.kind:9} did not finish: {r.error}")
            continue
        kills = sum(1 for k in r.kills if " killed" in k)
        print(f"{r.store:9} {r.kind:9} {kills:>5} {r.struck:>6} {f.cases:>5} {len(f.base.finished):>5} "
              f"{len(f.lost):>4} {len(f.stuck):>5} {len(f.duplicated):>4} {len(f.disagrees):>8} {len(f.letters):>8} {r.repaired:>8} "
              f"{f.voided:>6} {f.alarms:>6} {'ok' if f.base.ledger_ok else 'BROKEN':>7} "
              f"{f.base.decisions:>9} {len(f.base.replay_differs):>7} "
              f"{'hung' if r.hung else 'ok':>4} {r.seconds:>5.0f} {r.cpu:>5.0f}")
    for r in results:
        if r.findings is None:
            continue
        problems = {**{c: f"lost: {w}" for c, w in r.findings.lost.items()},
                    **{c: f"stuck: {w}" for c, w in r.findings.stuck.items()},
                    **{c: f"duplicated: {w}" for c, w in r.findings.duplicated.items()},
                    **{c: f"disagrees: {w}" for c, w in r.findings.disagrees.items()},
                    **{c: f"letters: {w}" for c, w in r.findings.letters.items()}}
        for cid, why in list(problems.items())[:8]:
            print(f"  {r.store}/{r.kind} {cid}: {why}")


def main() -> int:
    leftovers = drop_databases() if "postgres" in STORES else []
    if leftovers:
        print(f"dropped a previous run's databases: {', '.join(leftovers)}")
    started = time.monotonic()
    results: list[Result] = []
    try:
        for store in STORES:
            for i, kind in enumerate(k for k in KINDS if k in CHOSEN):
                results.append(one(store, kind, seed=11 + i))
    finally:
        if "postgres" in STORES:
            drop_databases()
    report(results)
    ok = bool(results) and all(r.ok for r in results)
    print(f"fault test {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s "
          f"({sum(r.cpu for r in results):.0f} CPU s; load average {os.getloadavg()[0]:.1f})")
    sys.stdout.flush()
    # The Temporal SDK can crash at interpreter exit after success (sdk-python #300).
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    main()
