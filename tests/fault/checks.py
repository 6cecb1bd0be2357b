"""What a fault run must show, beyond tests/scale/checks.py: store and Temporal agree on every case.

"Lost": a case the driver started that Temporal or the store does not have. "Stuck": a case that
exists but did not reach its end (or is still in the middle of a step). "Duplicated": more than
one execution, or more ledger steps than the driver took. "Disagrees": the case-list row differs
from the workflow's state, or the store holds a live (not voided) step the workflow does not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.scale.checks import Findings
from tests.scale.drive import Outcome


@dataclass
class FaultFindings:
    base: Findings
    cases: int
    lost: dict[str, str] = field(default_factory=dict)
    stuck: dict[str, str] = field(default_factory=dict)
    disagrees: dict[str, str] = field(default_factory=dict)
    alarms: int = 0
    voided: int = 0

    @property
    def ok(self) -> bool:
        return (not self.lost and not self.stuck and not self.base.duplicated and not self.disagrees
                and self.base.ledger_ok and not self.base.replay_differs and self.alarms == 0)


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
        findings.voided += len(store.voided_steps(cid))
        findings.alarms += sum(e.action == ALARM for e in trail)
        # Beyond the workflow's timeline, or two live steps at one timeline position.
        extra = lost_steps(store, cid, len(state.timeline), datetime.now(UTC) + timedelta(days=1))
        if differ or extra:
            findings.disagrees[cid] = f"list row {differ}; live steps the workflow lacks {extra}"
    return findings
