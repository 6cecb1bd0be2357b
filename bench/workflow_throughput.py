"""Case throughput on one embedded Temporal dev server, beside the engine's own cost per step.

One run, one server: (a) a trivial baseline workflow (one activity, one signal) gives the engine's
cost per step; (b) full case lifecycles (generated cases, every stage to the active budget, via
carebudget.service.cases) give lifecycles/s and cost per step relative to the baseline; (c) p50
and p95 from an update's call to its result; (d) the RSS of a `python worker.py` subprocess with
many open cases. A "step" is one client call that moves a workflow: a start, a signal or an update.

Goals: lifecycle cost per step <= 2x baseline; p95 update < 150 ms; 5,000 open cases < 1 GB.
CAREBUDGET_BENCH_QUICK=1: 20 lifecycles and 300 open cases.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench._baseline_workflow import BaselineWorkflow, baseline_touch

QUICK = bool(os.environ.get("CAREBUDGET_BENCH_QUICK"))
LIFECYCLES = 20 if QUICK else 100
BASELINES = 40 if QUICK else 200
OPEN_CASES = 300 if QUICK else 5000
CONCURRENCY = 8
REPO = Path(__file__).resolve().parent.parent
BASELINE_STEPS = 2  # start, signal


def _binary() -> str:
    return shutil.which("temporal") or str(REPO / ".venv/bin/temporal")


async def _bounded(count: int, one: Any) -> float:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def run(n: int) -> None:
        async with limit:
            await one(n)

    started = time.perf_counter()
    await asyncio.gather(*(run(n) for n in range(count)))
    return time.perf_counter() - started


async def _baseline(client: Client) -> float:
    """Seconds per step of the trivial workflow, at the lifecycles' concurrency."""
    from concurrent.futures import ThreadPoolExecutor

    queue = f"bench-baseline-{uuid.uuid4().hex[:8]}"

    async def one(n: int) -> None:
        handle = await client.start_workflow(
            BaselineWorkflow.run, id=f"baseline-{uuid.uuid4().hex}", task_queue=queue
        )
        await handle.signal(BaselineWorkflow.proceed)
        await handle.result()

    with ThreadPoolExecutor(max_workers=16) as executor:
        async with Worker(client, task_queue=queue, workflows=[BaselineWorkflow],
                          activities=[baseline_touch], activity_executor=executor):
            await _bounded(3, one)  # warm-up
            elapsed = await _bounded(BASELINES, one)
    return elapsed / (BASELINES * BASELINE_STEPS)


class TimedClient:
    """Counts steps and times each update (the case service calls execute_update)."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.steps = 0


async def _lifecycles(client: Client, store_url: str, timing: TimedClient) -> float:
    from carebudget.service import cases, examples
    from carebudget.store import Store
    from worker import build_worker

    queue = f"bench-cases-{uuid.uuid4().hex[:8]}"
    store = Store(store_url)
    act = cases.act

    async def timed_act(*args: Any, **kwargs: Any) -> dict[str, Any]:
        started = time.perf_counter()
        result = await act(*args, **kwargs)
        timing.latencies.append(time.perf_counter() - started)
        timing.steps += 1
        return result

    async def one(n: int) -> None:
        script = examples.make_case(n, path=("approve", "counter_accept", "counter_appeal")[n % 3],
                                    seed=42)
        state = await examples.drive(client, script, queue)
        assert state["stage"] == "active_budget", state["stage"]
        timing.steps += 1  # the start

    cases.act = timed_act  # type: ignore[assignment]  # time every update the driver sends
    try:
        async with build_worker(client, queue, store=store):
            await _bounded(2, lambda n: one(10_000 + n))  # warm-up
            timing.latencies.clear()
            timing.steps = 0
            elapsed = await _bounded(LIFECYCLES, one)
    finally:
        cases.act = act  # type: ignore[assignment]
    return elapsed


async def _worker_rss(client: Client, address: str, data: Path) -> tuple[int, int, int, float]:
    """RSS (bytes) of a worker subprocess when idle, and with OPEN_CASES cases open."""
    from carebudget.service import cases, examples

    queue = f"bench-open-{uuid.uuid4().hex[:8]}"
    settings = {
        "CAREBUDGET_TEMPORAL_ADDRESS": address, "CAREBUDGET_TASK_QUEUE": queue,
        "CAREBUDGET_DATA_DIR": str(data),
        "CAREBUDGET_DATABASE_URL": f"sqlite:///{data / 'open.db'}",
    }
    worker = subprocess.Popen(  # noqa: ASYNC220 - runs beside the bench until killed
        [sys.executable, str(REPO / "worker.py")], cwd=REPO,
        env={**os.environ, **settings}, stdout=subprocess.DEVNULL,
        stderr=(data / "worker.log").open("ab"),
    )
    try:
        first = examples.make_case(0, path="approve", seed=9)
        await cases.start_case(client, {**first.start, "case_id": f"open-{queue}-warm"},
                               task_queue=queue)
        await examples._wait_for_stage(client, f"open-{queue}-warm", "assessment")
        idle = _rss(worker.pid)
        started = time.perf_counter()

        async def one(n: int) -> None:
            script = examples.make_case(n, path="approve", seed=9)
            case_id = f"open-{queue}-{n}"
            await cases.start_case(client, {**script.start, "case_id": case_id}, task_queue=queue)

        await _bounded(OPEN_CASES, one)
        # Every case through intake (policy, first record): open and waiting at assessment.
        # Counted from visibility: a query would queue behind the worker's backlog and time out.
        while True:
            count = await client.count_workflows(
                f"TaskQueue = '{queue}' AND CaseStage = 'assessment' AND ExecutionStatus = 'Running'"
            )
            if count.count >= OPEN_CASES + 1 or time.perf_counter() - started > 900:
                break
            await asyncio.sleep(1)
        return idle, _rss(worker.pid), count.count - 1, time.perf_counter() - started
    finally:
        worker.kill()
        worker.wait()


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _verdict(ok: bool) -> str:
    return "goal met" if ok else "GOAL MISSED"


async def _run() -> None:
    from workflows.case import COUNCIL, DUE_AT, OVERDUE, STAGE

    with tempfile.TemporaryDirectory(prefix="carebudget-bench-") as tmp:
        data = Path(tmp)
        from carebudget.store import Store

        store_url = f"sqlite:///{data / 'carebudget.db'}"
        Store(store_url).migrate()
        Store(f"sqlite:///{data / 'open.db'}").migrate()
        async with await WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter, search_attributes=[STAGE, COUNCIL, DUE_AT, OVERDUE],
            dev_server_existing_path=_binary(), ui=False,
        ) as env:
            client = env.client
            address = client.service_client.config.target_host
            per_step = await _baseline(client)
            print(f"baseline (1 activity + 1 signal, {BASELINES} workflows, concurrency "
                  f"{CONCURRENCY}): {1 / per_step:.1f} steps/s, {per_step * 1000:.1f} ms/step")

            timing = TimedClient()
            elapsed = await _lifecycles(client, store_url, timing)
            steps_each = timing.steps / LIFECYCLES
            case_per_step = elapsed / timing.steps
            ratio = case_per_step / per_step
            print(f"case lifecycles ({LIFECYCLES}, every stage to the active budget, "
                  f"{steps_each:.1f} steps each): {LIFECYCLES / elapsed:.2f} lifecycles/s; "
                  f"baseline for the same steps {1 / (per_step * steps_each):.2f}/s")
            print(f"  cost per step {case_per_step * 1000:.1f} ms vs baseline "
                  f"{per_step * 1000:.1f} ms = {ratio:.2f}x (goal <= 2x): {_verdict(ratio <= 2)}")
            lat = sorted(timing.latencies)
            p50 = statistics.median(lat)
            p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
            print(f"update call -> result ({len(lat)} updates, concurrency {CONCURRENCY}): "
                  f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; baseline step "
                  f"{per_step * 1000:.1f} ms (goal p95 < 150 ms): {_verdict(p95 < 0.150)}")

            idle, rss, opened, took = await _worker_rss(client, address, data)
            print(f"worker RSS: idle {idle / 2**20:.0f} MiB; with {opened} open cases "
                  f"{rss / 2**20:.0f} MiB (opened in {took:.0f} s; goal < 1 GB at 5,000): "
                  f"{_verdict(rss < 2**30)}")


def main() -> None:
    asyncio.run(_run())


if __name__ == "__main__":
    main()
