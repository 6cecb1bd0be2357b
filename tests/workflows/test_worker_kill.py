"""A worker process killed (SIGKILL) at the sign-off boundary, with decisions and records pending
on several paths: a second worker process finishes every case; the decisions are the ones the
rules give for the same facts and date, and the ledger holds each step exactly once.

Complements test_case_worker_crash.py (one path, approvals only) with every sign-off path
(approve, changes requested, counter-proposal accepted, appealed), a store of its own so the
whole ledger can be checked row by row, and decisions taken before the kill compared after it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from carebudget.policy.decide import decide
from carebudget.service import cases, examples
from carebudget.settings import REPO_ROOT
from carebudget.store import Store

SW, APPROVER, OFFICER = examples.SOCIAL_WORKER, examples.APPROVER, examples.APPEALS_OFFICER
PATHS: tuple[examples.Path, ...] = (
    "approve", "changes_then_approve", "counter_accept", "counter_appeal",
    "approve", "counter_accept", "counter_appeal", "changes_then_approve",
)
OPENING = ["case.opened", "assessment.self_assessed", "assessment.verified", "eligibility.decided",
           "charge.decided", "indicative_budget.decided", "plan.submitted"]
AFTER_SUBMISSION: dict[str, list[str]] = {
    "approve": ["plan.approved", "budget.active"],
    "changes_then_approve": ["plan.changes_requested", "plan.submitted", "plan.approved",
                             "budget.active"],
    "counter_accept": ["counter_proposal.made", "counter_proposal.accepted", "budget.active"],
    "counter_appeal": ["counter_proposal.made", "appeal.made", "appeal.{outcome}", "budget.active"],
}
# Timeline events that are also written to the store by record_step (one ledger row each).
RECORDED = {"case.opened", "assessment.self_assessed", "assessment.verified", "plan.submitted",
            "plan.changes_requested", "counter_proposal.made", "appeal.made", "budget.active",
            # since the step-events patch, each sign-off decision has its own row (issue 11 point 3)
            "plan.approved", "counter_proposal.accepted", "appeal.uphold", "appeal.part_uphold",
            "appeal.dismiss"}
DECISIONS: dict[str, Counter[str]] = {
    "approve": Counter({"eligibility": 1, "indicative-budget": 1, "charge": 2}),
    "changes_then_approve": Counter({"eligibility": 1, "indicative-budget": 1, "charge": 2}),
    "counter_accept": Counter({"eligibility": 1, "indicative-budget": 1, "charge": 2,
                               "counter-proposal": 1}),
    "counter_appeal": Counter({"eligibility": 1, "indicative-budget": 1, "charge": 2,
                               "counter-proposal": 1}),
}


def _start_worker(address: str, queue: str, store: Store, data: Path) -> subprocess.Popen[bytes]:
    """`python worker.py` as operations run it, configured only through CAREBUDGET_ settings."""
    settings = {
        "CAREBUDGET_TEMPORAL_ADDRESS": address,
        "CAREBUDGET_TASK_QUEUE": queue,
        "CAREBUDGET_DATABASE_URL": store.url,
        "CAREBUDGET_DATA_DIR": str(data),
    }
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "worker.py")], cwd=REPO_ROOT,
        env={**os.environ, **settings}, stdout=subprocess.DEVNULL,
        stderr=(data / "workers.log").open("ab"),
    )


def _sign_off(script: examples.CaseScript) -> tuple[str, tuple[str, str], dict[str, Any]]:
    if script.path == "approve":
        return "approve", APPROVER, {"note": "Meets the assessed needs"}
    if script.path == "changes_then_approve":
        return "request_changes", APPROVER, {"reasons": "Say who provides the meals"}
    return "counter_propose", APPROVER, script.counter


async def _finish(client: Client, case_id: str, script: examples.CaseScript) -> dict[str, Any]:
    """The steps after sign-off that each path still needs, taken on the second worker."""
    person = (script.start["person_user"], "person")

    async def step(name: str, who: tuple[str, str], payload: dict[str, Any]) -> dict[str, Any]:
        return await cases.act(client, case_id, name, who[0], who[1], payload)

    if script.path == "changes_then_approve":
        await step("submit_plan", SW, script.plan)
        await step("approve", APPROVER, {"note": "Meets the assessed needs"})
    elif script.path == "counter_accept":
        await step("accept_counter_proposal", person, {"note": "Agreed"})
    elif script.path == "counter_appeal":
        await step("appeal", person, {"reasons": "The framework provider cannot visit mornings"})
        await step("decide_appeal", OFFICER, script.appeal_decision())
    return await cases.describe(client, case_id)


async def test_a_killed_worker_leaves_every_case_to_a_second_worker_with_the_same_decisions_once(
    env: WorkflowEnvironment, task_queue: str, tmp_path: Path
) -> None:
    client = env.client
    address = env.client.service_client.config.target_host
    store = Store(f"sqlite:///{tmp_path / 'carebudget.db'}")
    store.migrate()
    scripts = [examples.make_case(200 + n, path=p, seed=11) for n, p in enumerate(PATHS)]
    examples.ensure_users(store, scripts)
    first = _start_worker(address, task_queue, store, tmp_path)
    second: subprocess.Popen[bytes] | None = None
    try:
        ids = await asyncio.gather(
            *(cases.start_case(client, s.start, task_queue=task_queue) for s in scripts)
        )
        await asyncio.gather(*(examples._wait_for_stage(client, i, "assessment") for i in ids))
        for name, who, payloads in (
            ("self_assess", None, [s.self_assessment for s in scripts]),
            ("verify_assessment", SW, [s.verification for s in scripts]),
            ("submit_plan", SW, [s.plan for s in scripts]),
        ):
            states = await asyncio.gather(*(
                cases.act(client, i, name, *_who(who, s), p)
                for i, s, p in zip(ids, scripts, payloads, strict=True)
            ))
        assert all(state["stage"] == "sign_off" for state in states)
        before_kill = {state["case_id"]: state["decisions"] for state in states}

        # Stage boundary: every case awaits sign-off. Send every sign-off (each runs decision
        # and record activities) and kill the worker once the first is through.
        sign_offs = [asyncio.create_task(cases.act(client, i, *_step(s)))
                     for i, s in zip(ids, scripts, strict=True)]
        done, _ = await asyncio.wait(sign_offs, return_when=asyncio.FIRST_COMPLETED)
        first.send_signal(signal.SIGKILL)
        assert first.wait() == -signal.SIGKILL
        in_flight = len(sign_offs) - len(done)
        second = _start_worker(address, task_queue, store, tmp_path)
        await asyncio.gather(*sign_offs)
        finals = await asyncio.gather(
            *(_finish(client, i, s) for i, s in zip(ids, scripts, strict=True))
        )
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    assert in_flight > 0, "the worker was killed with no sign-off in flight"
    for state, script in zip(finals, scripts, strict=True):
        case_id = state["case_id"]
        # Every case completed the same stages, each step once.
        after = [a.format(outcome=script.appeal_outcome) for a in AFTER_SUBMISSION[script.path]]
        # Letters have their own rows (issue 13); each event key once is checked below.
        actions = [event["action"] for event in state["timeline"]
                   if not event["action"].startswith("letter.")]
        assert actions == OPENING + after, case_id
        assert state["stage"] == "active_budget" and state["pending_step"] is None

        # Decisions taken before the kill are unchanged; every decision, before or after, is
        # exactly what the rules give for its facts and date.
        for kind in ("eligibility", "indicative-budget"):
            assert state["decisions"][kind] == before_kill[case_id][kind], (case_id, kind)
        stored = store.case_decisions(case_id, role="compliance")
        assert Counter(d.kind for d in stored) == DECISIONS[script.path], case_id
        for decision in stored:
            record = decision.record
            again = decide(record["kind"], record["council"], date.fromisoformat(record["date"]),
                           record["input"])
            assert record == again, (case_id, decision.kind)
        assert {d.kind: d.record for d in stored if d.kind != "charge"} == {
            k: v for k, v in state["decisions"].items() if k != "charge"
        }
        assert state["decisions"]["charge"] in [d.record for d in stored if d.kind == "charge"]

        # Nothing lost or done twice: one ledger row per recorded workflow event, per key.
        trail = store.case_trail(case_id, role="compliance")
        keys = Counter(entry.event_key for entry in trail)
        assert max(keys.values()) == 1, case_id
        steps = [e.action for e in trail
                 if not e.event_key.startswith("decision:") and not e.event_key.endswith(":index")
                 and not e.action.startswith("letter.")]
        assert steps == [a for a in actions if a in RECORDED], case_id
        assert sum(e.action == "decision.recorded" for e in trail) == len(stored)
    report = store.verify_chain()
    assert report.ok, report


def _who(who: tuple[str, str] | None, script: examples.CaseScript) -> tuple[str, str]:
    return who or (script.start["person_user"], "person")


def _step(script: examples.CaseScript) -> tuple[str, str, str, dict[str, Any]]:
    name, who, payload = _sign_off(script)
    return name, who[0], who[1], payload
