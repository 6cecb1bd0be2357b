"""What the run must show: every case finished, none twice, the ledger intact, decisions replayable.

"Finished" is the end of the case's path: closed at s13(5), or an active budget after its review.
"Twice" is judged from the two durable records, not from the driver: Temporal must hold one
execution per case, and the ledger no more accepted steps of a kind than the driver took.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.scale.drive import Outcome

END_STAGE = {"not_eligible": "closed"}  # every other path ends in active_budget after a review


@dataclass
class Findings:
    finished: set[str] = field(default_factory=set)
    duplicated: dict[str, str] = field(default_factory=dict)
    lost: dict[str, str] = field(default_factory=dict)
    ledger_ok: bool = False
    ledger_rows: int = 0
    decisions: int = 0
    replay_differs: list[int] = field(default_factory=list)


# The ledger action each human step writes (workflows/case.py); three steps end in the s26 budget.
STEP_ACTIONS = {
    "self_assess": "assessment.self_assessed", "verify_assessment": "assessment.verified",
    "submit_plan": "plan.submitted", "request_changes": "plan.changes_requested",
    "counter_propose": "counter_proposal.made", "appeal": "appeal.made",
    "approve": "budget.active", "accept_counter_proposal": "budget.active",
    "decide_appeal": "budget.active", "request_review": "review.opened",
    "complete_review": "review.completed",
}


def twice(trail: list[Any], steps: Counter[str]) -> dict[str, int]:
    """Ledger actions written more often than the driver's accepted steps call for."""
    expected: Counter[str] = Counter()
    for step, times in steps.items():
        expected[STEP_ACTIONS[step]] += times
    expected["case.opened"] = 1
    # The store mirrors a record that changes the case list under "<key>:index"; not a second event.
    written = Counter(row.action for row in trail if not row.event_key.endswith(":index"))
    return {action: n for action, n in written.items() if action in expected and n > expected[action]}


async def check(outcomes: list[Outcome], store: Any, client: Any) -> Findings:
    findings = Findings()
    runs: Counter[str] = Counter()
    async for execution in client.list_workflows("WorkflowType = 'Case'"):
        runs[execution.id] += 1
    for outcome in outcomes:
        cid = outcome.case_id
        state = await _final_state(client, cid)
        expected = END_STAGE.get(outcome.path, "active_budget")
        reviewed = outcome.path == "not_eligible" or any(
            r.get("completed") for r in state.get("reviews", []))
        if state.get("stage") == expected and reviewed and outcome.error is None:
            findings.finished.add(cid)
        else:
            findings.lost[cid] = outcome.error or f"ended at {state.get('stage')}"
        trail = store.case_trail(cid, role="compliance")
        over = twice(trail, outcome.steps)
        if runs[cid] > 1 or over:
            findings.duplicated[cid] = f"{runs[cid]} executions; ledger steps beyond the driver's: {over}"
        for decision in store.case_decisions(cid, role="compliance"):
            findings.decisions += 1
            if not store.replay_decision(decision.id).identical:
                findings.replay_differs.append(decision.id)
    report = store.verify_chain()
    findings.ledger_ok, findings.ledger_rows = report.ok, report.rows
    return findings


async def _final_state(client: Any, case_id: str, attempts: int = 30) -> dict[str, Any]:
    """The case as its workflow holds it. A query can wait on a lost host's sticky queue until
    Temporal stops counting that host as a poller (about a minute), so a busy answer is retried."""
    import asyncio

    from carebudget.service.cases import CaseBusy, CaseNotFound, describe

    for _ in range(attempts):
        try:
            return await describe(client, case_id)
        except CaseNotFound:
            return {}
        except CaseBusy:
            await asyncio.sleep(2)
    return {"stage": "unreadable"}
