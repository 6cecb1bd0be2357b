"""After a crash, make the store agree with Temporal (issue 11 point 2; Care Act 2014 s25 record).

Temporal's workflow state is what the case is; the store is its record. A crash between the store
write of a step and Temporal keeping that step leaves the store ahead: its case-list row shows a
stage the case never reached, and its ledger a step the case does not have (beyond the workflow's
timeline, or, once the case went on with another step in its place, beside that step). Reconciling a case
voids such steps (`case.step_voided`, the rows stay: the ledger is append-only), sets the case-list
row to what the workflow says, opens a case the store never heard of, and writes one
`case.reconciled` row saying what it found and did. Cases in the middle of a step are left alone,
and so are store rows younger than `grace` (their step may still be completing).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from workflows.case import CaseWorkflow
from workflows.index import case_index

if TYPE_CHECKING:
    from temporalio.client import Client

    from carebudget.store import Store
    from workflows.models import CaseState

log = logging.getLogger(__name__)
LIST_FIELDS = ("stage", "due", "amounts")


@dataclass
class Repair:
    """What reconciling one case found; `changed` is False when store and Temporal agreed."""

    case_id: str
    changed: bool = False
    voided: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)  # name -> (store, workflow)
    opened: bool = False
    skipped: str = ""


def step_number(case_id: str, event_key: str) -> int | None:
    """The timeline length a step key was written at (`<case>:<n>:<action>[~k]`), else None."""
    match = re.fullmatch(re.escape(case_id) + r":(\d+):[a-z][a-z0-9_.]*(~\d+)?", event_key)
    return int(match.group(1)) if match else None


def reconcile_case(store: Store, case_id: str, state: CaseState, grace: timedelta) -> Repair:
    from carebudget.store import UnknownCase

    repair = Repair(case_id)
    if state.pending_step is not None:
        repair.skipped = f"{state.pending_step} is being taken"
        return repair
    target = case_index(state)
    try:
        row = store.get_case(case_id)
    except UnknownCase:
        row = None
        target = case_index(state, opening=True)
        repair.opened = True
    if row is not None:
        now = row.model_dump(mode="json")
        repair.fields = {k: (now[k], target[k]) for k in LIST_FIELDS if now[k] != target[k]}
        lost = lost_steps(store, case_id, len(state.timeline), datetime.now(UTC) - grace)
        repair.voided = store.void_steps(case_id, lost, "the case's workflow does not have this step "
                                         "(lost in a crash after the store kept it)")
    repair.changed = bool(repair.opened or repair.fields or repair.voided)
    if repair.changed:
        _write(store, repair, state, target)
    return repair


def lost_steps(store: Store, case_id: str, timeline_length: int, cutoff: datetime) -> list[str]:
    """Live step keys (written before `cutoff`) the workflow does not have: beyond its timeline,
    or at a timeline position a later step took. A workflow writes one step per position, so of
    two live steps at one position the earlier was lost (the case went on without it: another
    step, say changes requested instead of an approval lost in a crash, took its place)."""
    voided = store.voided_steps(case_id)
    live = [(n, e) for e in store.case_trail(case_id) if e.event_key not in voided
            and (n := step_number(case_id, e.event_key)) is not None]
    last: dict[int, int] = {}
    for n, e in live:
        last[n] = max(last.get(n, 0), e.seq)
    return [e.event_key for n, e in live
            if e.at < cutoff and (n > timeline_length or e.seq < last[n])]


def _write(store: Store, repair: Repair, state: CaseState, target: dict[str, Any]) -> None:
    from carebudget.store import SYSTEM_ROLE
    from carebudget.store.steps import SERVICE_ACTOR

    payload = {"timeline_length": len(state.timeline), "voided": repair.voided, "opened": repair.opened,
               "fields": {k: {"store": a, "workflow": b} for k, (a, b) in repair.fields.items()}}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    personal = {"name": state.person.name} if repair.opened else None
    store.record_step(f"reconcile:{repair.case_id}:{digest}", repair.case_id, SERVICE_ACTOR, SYSTEM_ROLE,
                      "case.reconciled", payload, personal, index=target)


async def case_ids(client: Client) -> list[str]:
    """Every case workflow's id, once (continued-as-new runs share it)."""
    seen: dict[str, None] = {}
    async for wf in client.list_workflows("WorkflowType = 'Case'"):
        seen.setdefault(wf.id)
    return list(seen)


async def reconcile(client: Client, store: Store, grace: timedelta = timedelta(seconds=30),
                    only: list[str] | None = None) -> list[Repair]:
    """Reconcile every case (or `only` these), reading each workflow's state by its query."""
    repairs = []
    for case_id in only if only is not None else await case_ids(client):
        try:
            state = await client.get_workflow_handle(case_id).query(
                CaseWorkflow.describe, rpc_timeout=timedelta(seconds=10))
        except (RPCError, WorkflowQueryFailedError) as exc:
            repairs.append(Repair(case_id, skipped=f"its state could not be read ({exc})"))
            continue
        repairs.append(reconcile_case(store, case_id, state, grace))
    return repairs


async def startup_check(client: Client, store: Store, grace: timedelta = timedelta(seconds=30)) -> list[Repair]:
    """At start (serve, worker): once in-flight steps have had `grace` to finish, reconcile all.

    Never raises: a service that cannot reconcile still serves, and says so in its log."""
    await asyncio.sleep(grace.total_seconds())
    try:
        repairs = await reconcile(client, store, grace)
    except Exception:  # reported; `carebudget cases reconcile` can be run by hand
        log.exception("startup reconciliation failed; run `carebudget cases reconcile`")
        return []
    for r in repairs:
        if r.changed:
            log.warning("reconciled case %s with its workflow: voided %s, fields %s, opened %s",
                        r.case_id, r.voided, sorted(r.fields), r.opened)
    return repairs
