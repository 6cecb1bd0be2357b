"""A worker killed (SIGKILL) at a stage boundary with cases in flight: a second worker finishes
them with the same decisions, and nothing is lost or done twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from carebudget.policy.decide import decide
from carebudget.service import cases, examples
from carebudget.settings import REPO_ROOT
from carebudget.store import Store

SW, APPROVER = examples.SOCIAL_WORKER, examples.APPROVER
CASES = 8


def _worker(env: WorkflowEnvironment, queue: str, store: Store, data: Path) -> subprocess.Popen[bytes]:
    settings = {
        "CAREBUDGET_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "CAREBUDGET_TASK_QUEUE": queue,
        "CAREBUDGET_DATABASE_URL": store.url,
        "CAREBUDGET_DATA_DIR": str(data),
    }
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "worker.py")], cwd=REPO_ROOT,
        env={**os.environ, **settings}, stdout=subprocess.DEVNULL, stderr=(data / "worker.log").open("ab"),
    )


async def test_a_second_worker_finishes_cases_in_flight_when_the_first_is_killed(
    env: WorkflowEnvironment, store: Store, task_queue: str, tmp_path: Path
) -> None:
    client = env.client
    first = _worker(env, task_queue, store, tmp_path)
    second = None
    try:
        scripts = [examples.make_case(100 + n, path="approve", seed=7) for n in range(CASES)]
        ids = await asyncio.gather(
            *(cases.start_case(client, s.start, task_queue=task_queue) for s in scripts)
        )
        await asyncio.gather(*(examples._wait_for_stage(client, i, "assessment") for i in ids))
        await asyncio.gather(*(cases.act(client, i, "verify_assessment", *SW, s.verification)
                               for i, s in zip(ids, scripts, strict=True)))
        await asyncio.gather(*(cases.act(client, i, "submit_plan", *SW, s.plan)
                               for i, s in zip(ids, scripts, strict=True)))
        # Stage boundary: every case awaits sign-off. Approve them all, and kill the worker as
        # soon as the first approval is through, with the rest in flight.
        approvals = [asyncio.create_task(cases.act(client, i, "approve", *APPROVER, {}))
                     for i in ids]
        await asyncio.wait(approvals, return_when=asyncio.FIRST_COMPLETED)
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = _worker(env, task_queue, store, tmp_path)
        states = await asyncio.gather(*approvals)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    for state, script in zip(states, scripts, strict=True):
        assert state["stage"] == "active_budget"
        # The same decision the rules give for these facts, whichever worker computed it.
        facts = dict(state["decisions"]["charge"]["input"])
        on = date.fromisoformat(state["decisions"]["charge"]["date"])
        expected = decide("charge", "demo", on, facts)["charge"]
        budget = state["personal_budget"]
        assert (budget["weekly_cost"], budget["person_charge"], budget["council_share"]) == (
            expected["weekly_cost"], expected["weekly_charge"], expected["council_pays"]
        )
        assert Decimal(budget["weekly_cost"]) == script.plan_total
        # Nothing done twice: each step once in the ledger, each decision recorded once.
        actions = Counter(e.action for e in store.case_trail(state["case_id"]))
        assert actions["budget.active"] == 1 and actions["plan.submitted"] == 1
        kinds = Counter(d.kind for d in store.case_decisions(state["case_id"]))
        assert kinds == Counter({"eligibility": 1, "indicative-budget": 1, "charge": 2})
        assert [e["action"] for e in state["timeline"]].count("budget.active") == 1
    assert store.verify_chain().ok
