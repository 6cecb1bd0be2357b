"""Cases driven through every stage from the web hosts' JSON API, as the demo users.

Each case takes one generated path (carebudget/service/examples.py) from intake (s9) through
assessment, eligibility (s13), the charge (s14, s17), the indicative budget, the plan (s25), sign-off
with or without a counter-proposal and appeal (s26), the active budget, and a review (s27); cases
that are not eligible close at s13(5). A step that fails because a host went away is retried only
after reading the case: if the step already happened, it is not sent again.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from carebudget.service.examples import CaseScript, make_case
from carebudget.web.demo_users import DEMO_PASSWORD

PATHS = ("approve", "changes_then_approve", "counter_accept", "counter_appeal", "not_eligible")
USERS = {"person": "demo-person", "social_worker": "demo-social-worker",
         "approver": "demo-approver", "appeals_officer": "demo-appeals-officer"}
STEP_TIMEOUT = 120.0  # a step may wait out a lost worker's workflow task timeout and sticky queue


@dataclass
class Outcome:
    case_id: str
    path: str
    final_stage: str | None = None
    steps: Counter[str] = field(default_factory=Counter)  # steps the workflow accepted
    error: str | None = None


class Api:
    """The web hosts, with a token per demo role; a request fails over to the other host."""

    def __init__(self, hosts: list[str]) -> None:
        self.hosts = hosts
        self.http = httpx.AsyncClient(timeout=STEP_TIMEOUT)
        self.tokens: dict[str, str] = {}
        self._next = itertools.cycle(range(len(hosts)))

    async def sign_in(self) -> None:
        for role, username in USERS.items():
            reply = await self.http.post(f"{self.hosts[0]}/api/token",
                                         json={"username": username, "password": DEMO_PASSWORD})
            reply.raise_for_status()
            self.tokens[role] = reply.json()["access_token"]

    async def call(self, method: str, path: str, role: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        first = next(self._next)
        last: Exception | None = None
        for i in range(len(self.hosts)):
            host = self.hosts[(first + i) % len(self.hosts)]
            try:
                return await self.http.request(
                    method, f"{host}{path}", json=body,
                    headers={"Authorization": f"Bearer {self.tokens[role]}", **(headers or {})})
            except httpx.TransportError as exc:
                last = exc
        raise ConnectionError(f"no web host answered {method} {path}: {last}")

    async def close(self) -> None:
        await self.http.aclose()


def script_for(n: int, seed: int) -> tuple[str, CaseScript]:
    """The case's idempotency key (a retried start is the same case) and what to send."""
    script = make_case(n, path=PATHS[n % len(PATHS)], seed=seed)  # type: ignore[arg-type]
    key = f"SCALE-{seed}-{n:04d}"
    start = {k: v for k, v in script.start.items() if k not in ("opened_by", "case_id")}
    start["person_user"] = USERS["person"]
    return key, CaseScript(**{**script.__dict__, "start": start})


class CaseDriver:
    def __init__(self, api: Api, case_id: str, script: CaseScript) -> None:
        self.api, self.script = api, script
        self.outcome = Outcome(case_id, script.path)
        self.state: dict[str, Any] = {}

    async def run(self) -> Outcome:
        try:
            await self._start()
            await self._path()
        except Exception as exc:  # noqa: BLE001 - a lost case is reported, not raised
            self.outcome.error = f"{type(exc).__name__}: {exc}"
        self.outcome.final_stage = self.state.get("stage")
        return self.outcome

    async def _start(self) -> None:
        # The case id comes back from the start; a retry with the same key is the same case.
        reply = await self._retrying("POST", "/api/cases", "social_worker", self.script.start,
                                     {"Idempotency-Key": self.outcome.case_id})
        reply.raise_for_status()
        self.outcome.case_id = reply.json()["case_id"]
        self.state = await self._settled(lambda s: s.get("stage") == "assessment")

    async def _path(self) -> None:
        s = self.script
        await self.step("self_assess", "person", s.self_assessment)
        await self.step("verify_assessment", "social_worker", s.verification)
        if self.state["stage"] == "closed":
            return
        await self.step("submit_plan", "social_worker", s.plan)
        if s.path == "changes_then_approve":
            await self.step("request_changes", "approver", {"reasons": "Say who provides meals"})
            await self.step("submit_plan", "social_worker", s.plan)
        if s.path in ("approve", "changes_then_approve"):
            await self.step("approve", "approver", {"note": "Meets the assessed needs"})
        else:
            await self.step("counter_propose", "approver", s.counter)
            if s.path == "counter_accept":
                await self.step("accept_counter_proposal", "person", {"note": "Agreed"})
            else:
                await self.step("appeal", "person", {"reasons": "No morning visits"})
                await self.step("decide_appeal", "appeals_officer", s.appeal_decision())
        await self.step("request_review", "social_worker", {"reasons": "Daughter moved away"})
        # Nothing banked: days after the budget starts the council has paid in little or nothing,
        # and an underspend may not exceed what was paid (issue 15).
        await self.step("complete_review", "social_worker",
                        {"outcome": "no_change", "underspend": "0.00", "notes": "Going well"})

    async def step(self, name: str, role: str, payload: dict[str, Any]) -> None:
        path = f"/api/cases/{self.outcome.case_id}/steps/{name}"
        before = len(self.state.get("timeline", []))
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            try:
                reply = await self.api.call("POST", path, role, payload)
                if reply.status_code == 200:
                    self.state = reply.json()
                    self.outcome.steps[name] += 1
                    return
                failure = f"{reply.status_code} {reply.text[:300]}"
            except (ConnectionError, httpx.TransportError) as exc:
                failure = str(exc)
            # Did it happen anyway (the reply was lost)? Then it must not be sent twice.
            self.state = await self._settled(lambda s: True)
            if len(self.state.get("timeline", [])) > before:
                self.outcome.steps[name] += 1
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: {failure}")
            await asyncio.sleep(1)

    async def _settled(self, wanted: Any, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
        """The case once no step or intake is in progress and `wanted(state)` holds."""
        deadline = time.monotonic() + timeout
        path = f"/api/cases/{self.outcome.case_id}"
        last = "no answer"
        while True:
            try:
                reply = await self.api.call("GET", path, "social_worker")
                last = f"{reply.status_code} {reply.text[:200]}"
                if reply.status_code == 200:
                    state = reply.json()
                    if state.get("pending_step") is None and wanted(state):
                        return dict(state)
            except (ConnectionError, httpx.TransportError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"case {self.outcome.case_id} did not settle: {last}")
            await asyncio.sleep(0.2)

    async def _retrying(self, method: str, path: str, role: str, body: Any,
                        headers: dict[str, str] | None = None) -> httpx.Response:
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            try:
                reply = await self.api.call(method, path, role, body, headers)
                if reply.status_code != 503:
                    return reply
            except ConnectionError:
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                return reply
            await asyncio.sleep(1)


async def drive_cases(api: Api, numbers: list[int], seed: int, concurrency: int,
                      on_done: Any = None) -> list[Outcome]:
    """Drive the cases `numbers` with `concurrency` in flight; `on_done(count)` after each one."""
    limit = asyncio.Semaphore(concurrency)
    done: list[Outcome] = []

    async def one(n: int) -> None:
        async with limit:
            case_id, script = script_for(n, seed)
            done.append(await CaseDriver(api, case_id, script).run())
            if on_done is not None:
                on_done(len(done))

    await asyncio.gather(*(one(n) for n in numbers))
    return done
