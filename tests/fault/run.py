"""One scenario: a 30-case run against `carebudget serve`, one kind of fault at several points.

Kinds: `service` (SIGKILL serve's whole process group: web, worker and its Temporal server; serve
is started again), `worker` (SIGKILL the worker process; started again), `temporal` (SIGKILL the
Temporal dev server; serve must start it again by itself). Points: early (cases opening, 3 s in),
mid-run and near the end, counted by cases finished. After the last case, the documented recovery
(`carebudget cases reconcile`), then the checks.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from carebudget.service.cases import get_client
from carebudget.settings import Settings
from tests.fault.checks import FaultFindings, check_agreement
from tests.fault.service import Service
from tests.scale.checks import check
from tests.scale.drive import Api, Outcome, drive_cases

KINDS = ("service", "worker", "temporal")


class CountingApi(Api):
    """The scale test's API client, counting the steps a fault struck (no reply, or not 200)."""

    struck = 0

    async def call(self, method: str, path: str, role: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        try:
            reply = await super().call(method, path, role, body, headers)
        except ConnectionError:
            self.struck += method == "POST"
            raise
        self.struck += method == "POST" and reply.status_code not in (200, 201)
        return reply


@dataclass
class Point:
    name: str
    ready: Callable[[float, int], bool]  # (seconds since the run started, cases finished)


def points(cases: int, count: int = 3) -> list[Point]:
    """Early (3 s in: cases opening and taking their first steps), then `count - 1` more by cases
    finished, the last with a few cases still going (mid-steps every time: others are in flight)."""
    found = [Point("early", lambda s, done: s >= 3)]
    for i in range(1, count):
        at = max(1, (cases - 4) * i // (count - 1))
        name = "near end" if i == count - 1 else f"mid {i}" if count > 3 else "mid"
        found.append(Point(name, lambda s, done, at=at: done >= at))
    return found


@dataclass
class Result:
    store: str
    kind: str
    cases: int
    seconds: float = 0.0
    kills: list[str] = field(default_factory=list)
    findings: FaultFindings | None = None
    error: str | None = None
    hung: list[str] = field(default_factory=list)  # what SIGTERM did not stop
    struck: int = 0  # step or start calls that failed (no reply, or refused) and were retried
    repaired: int = 0  # cases reconciled: by serve's own checks during the run, then by hand
    cpu: float = 0.0  # CPU seconds of the driver, serve, Temporal and the worker

    @property
    def ok(self) -> bool:
        return (self.error is None and self.findings is not None and self.findings.ok
                and not self.hung)


async def scenario(service: Service, kind: str, cases: int, concurrency: int, seed: int,
                   result: Result, kill_points: int = 3) -> None:
    started = time.monotonic()
    await asyncio.to_thread(service.start)
    api = CountingApi([service.url])
    await api.sign_in()
    finished = 0

    def on_done(count: int) -> None:
        nonlocal finished
        finished = count

    async def faults() -> None:
        for point in points(cases, kill_points):
            while not point.ready(time.monotonic() - started, finished):
                await asyncio.sleep(0.2)
            if finished >= cases:
                return
            result.kills.append(f"{point.name} ({finished} done): "
                                + await _inject(service, kind))

    try:
        faulting = asyncio.create_task(faults())
        outcomes = await drive_cases(api, list(range(cases)), seed, concurrency, on_done)
        await faulting
    finally:
        await api.close()
        result.struck = api.struck
    if len(result.kills) < kill_points:
        result.error = f"only {len(result.kills)} of {kill_points} faults struck before the cases ended"
    # The documented recovery: reconcile the store with Temporal once in-flight steps are done.
    summary = service.run_cli("cases", "reconcile", "--grace", "0").strip().splitlines()[-1]
    result.kills.append(f"reconcile: {summary}")
    result.repaired = _repaired(service.tail("serve.log", 10_000)) + int(summary.split(" cases read, ")[1].split()[0])
    result.seconds = time.monotonic() - started
    result.findings = await _check(service, outcomes)
    # The operator's own check of the ledger, as the recovery procedure says (exit 0: intact).
    try:
        verified = service.run_cli("audit", "verify").strip().splitlines()[0]
    except RuntimeError as exc:
        verified = f"BROKEN: {exc}"
        result.findings.base.ledger_ok = False
    result.kills.append(f"audit verify: {verified}")


def _repaired(log: str) -> int:
    """Cases serve's startup and after-restart checks reconciled ("Reconciled N cases ...")."""
    return sum(int(m) for m in re.findall(r"^Reconciled (\d+) cases", log, re.MULTILINE))


async def _inject(service: Service, kind: str) -> str:
    """One fault of `kind` and what it took to come back."""
    began = time.monotonic()
    if kind == "service":
        service.kill_service()
        await asyncio.to_thread(service.start)
        return f"serve killed, up again in {time.monotonic() - began:.1f} s"
    if kind == "worker":
        service.kill_worker()
        await asyncio.sleep(1)  # cases wait on the worker meanwhile
        service.start_worker()
        return "worker killed, started again"
    pid = service.kill_temporal()
    deadline = time.monotonic() + 60
    while not (service.temporal_pid() not in (None, pid) and service.temporal_up()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"serve did not restart the Temporal server it supervises:\n"
                               f"{service.tail('serve.log')}")
        await asyncio.sleep(0.2)
    return f"Temporal killed, serve restarted it in {time.monotonic() - began:.1f} s"


async def _check(service: Service, outcomes: list[Outcome]) -> FaultFindings:
    from carebudget.store import Store

    client = await get_client(Settings(temporal_address=service.temporal_address))  # type: ignore[call-arg]
    store = Store(service.database_url or f"sqlite:///{service.workdir / 'carebudget.db'}")
    try:
        base = await check(outcomes, store, client)
        return await check_agreement(base, outcomes, store, client, timedelta(0))
    finally:
        store.close()
