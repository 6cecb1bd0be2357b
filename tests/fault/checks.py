"""What a fault run must show, beyond tests/scale/checks.py: store and Temporal agree on every case.

"Lost": a case the driver started that Temporal or the store does not have. "Stuck": a case that
exists but did not reach its end (or is still in the middle of a step). "Duplicated": more than
one execution, or more live (not voided) ledger steps of a kind than the driver took. "Disagrees":
the case-list row differs from the workflow's state, the store holds a live step the workflow does
not have, or fewer live steps of a kind than the driver took (a step Temporal kept, the store not).
A voided step stays on the ledger (append-only) and is counted apart, not as a duplicate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.scale.checks import STEP_ACTIONS, Findings
from tests.scale.drive import Outcome


@dataclass
class FaultFindings:
    base: Findings
    cases: int
    lost: dict[str, str] = field(default_factory=dict)
    stuck: dict[str, str] = field(default_factory=dict)
    disagrees: dict[str, str] = field(default_factory=dict)
    duplicated: dict[str, str] = field(default_factory=dict)
    letters: dict[str, str] = field(default_factory=dict)  # case -> letters missing or extra
    alarms: int = 0
    voided: int = 0

    @property
    def ok(self) -> bool:
        return (not self.lost and not self.stuck and not self.duplicated and not self.disagrees
                and not self.letters and self.base.ledger_ok and not self.base.replay_differs
                and self.alarms == 0)


async def check_agreement(base: Findings, outcomes: list[Outcome], store: Any, client: Any,
                          grace: timedelta) -> FaultFindings:
    from temporalio.client import WorkflowQueryFailedError
    from temporalio.service import RPCError

    from carebudget.service.reconcile import LIST_FIELDS, lost_steps
    from carebudget.store import UnknownCase
    from carebudget.store.steps import ALARM
    from workflows.case import CaseWorkflow
    from workflows.index import case_index

    findings = FaultFindings(base, len(outcomes))
    runs: Counter[str] = Counter()
    async for execution in client.list_workflows("WorkflowType = 'Case'"):
        runs[execution.id] += 1
    for outcome in outcomes:
        cid = outcome.case_id
        if cid not in base.finished:
            findings.stuck[cid] = base.lost.get(cid, "not finished")
        try:
            state = await client.get_workflow_handle(cid).query(
                CaseWorkflow.describe, rpc_timeout=timedelta(seconds=10))
        except (RPCError, WorkflowQueryFailedError) as exc:
            findings.lost[cid] = f"Temporal has no readable case ({exc})"
            findings.stuck.pop(cid, None)
            continue
        if state.pending_step is not None:
            findings.stuck[cid] = f"still taking {state.pending_step}"
        try:
            row = store.get_case(cid).model_dump(mode="json")
        except UnknownCase:
            findings.lost[cid] = "the store has no case-list row"
            continue
        target = case_index(state)
        differ = {k: (row[k], target[k]) for k in LIST_FIELDS if row[k] != target[k]}
        trail = store.case_trail(cid)
        voided = store.voided_steps(cid)
        findings.voided += len(voided)
        findings.alarms += sum(e.action == ALARM for e in trail)
        # Beyond the workflow's timeline, or two live steps at one timeline position.
        extra = lost_steps(store, cid, len(state.timeline), datetime.now(UTC) + timedelta(days=1))
        over, under = _against_driver(trail, voided, outcome.steps, outcome.path)
        if cid in base.finished and (wrong := _letters_against_driver(store, cid, outcome.steps, outcome.path)):
            findings.letters[cid] = wrong
        if runs[cid] > 1 or over:
            findings.duplicated[cid] = f"{runs[cid]} executions; live ledger steps beyond the driver's {over}"
        if differ or extra or under:
            findings.disagrees[cid] = (f"list row {differ}; live steps the workflow lacks {extra}; "
                                       f"steps taken but not in the store {under}")
    return findings


# The letters each accepted step issues (s13(2), s26, s27; workflows/case.py), a kill or not.
STEP_LETTERS = {
    "verify_assessment": ("eligibility", "financial_assessment", "indicative_budget"),
    "approve": ("budget_statement",), "accept_counter_proposal": ("budget_statement",),
    "counter_propose": ("counter_proposal",), "decide_appeal": ("budget_statement", "appeal_decision"),
    "complete_review": ("review_outcome",),
}


def _letters_against_driver(store: Any, case_id: str, steps: Counter[str], path: str) -> str:
    """Each letter the driver's steps call for issued once, none missing, none extra."""
    letters = {**STEP_LETTERS, "verify_assessment": ("eligibility",)} if path == "not_eligible" else STEP_LETTERS
    expected: Counter[str] = Counter()
    for step, times in steps.items():
        for kind in letters.get(step, ()):
            expected[kind] += times
    issued = Counter(m.kind for m in store.case_letters(case_id))
    if issued == expected:
        return ""
    return f"letters issued {dict(issued)}, the steps call for {dict(expected)}"


def _against_driver(trail: list[Any], voided: set[str], steps: Counter[str],
                    path: str) -> tuple[dict[str, int], dict[str, int]]:
    """Ledger actions live more often, and less often, than the driver's accepted steps call for."""
    actions = {**STEP_ACTIONS, "verify_assessment": "eligibility.not_eligible"} if path == "not_eligible" \
        else STEP_ACTIONS  # s13(5): the verification that finds no eligible need closes the case
    expected: Counter[str] = Counter({"case.opened": 1})
    for step, times in steps.items():
        expected[actions[step]] += times
    live = Counter(e.action for e in trail if e.action in expected and e.event_key not in voided
                   and not e.event_key.endswith(":index"))
    return ({a: live[a] for a in expected if live[a] > expected[a]},
            {a: live[a] for a in expected if live[a] < expected[a]})
