"""The pool service API (CLI, web, demo): open a community pool, take a step, read and list pools.

A step goes to the pool's workflow as a Temporal update; its validator (workflows/pool.py:
why_refused) or the council's policy refuses it with a reason, raised here as `CaseRefused`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from carebudget.service.cases import (
    CaseBusy,
    CaseInvalid,
    CaseNotFound,
    CaseRefused,
    _application_cause,
    _check_council,
)
from carebudget.settings import get_settings
from workflows.case import COUNCIL
from workflows.models import Actor, Role, StepInput
from workflows.pool import PoolWorkflow
from workflows.pool_models import POOL_STEPS, PoolInput, PoolStart, PoolState
from workflows.refusals import readable

log = logging.getLogger(__name__)


def new_pool_id() -> str:
    return f"P-{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:8]}"


async def start_pool(client: Client, payload: dict[str, Any], task_queue: str | None = None,
                     pool_id: str | None = None) -> str:
    try:
        start = PoolStart.model_validate(payload)
    except ValidationError as exc:
        raise CaseInvalid(readable(exc)) from None
    _check_council(start.council)
    pool_id = pool_id or new_pool_id()
    await client.start_workflow(
        PoolWorkflow.run, PoolInput(start=start), id=pool_id,
        task_queue=task_queue or get_settings().task_queue,
        search_attributes=TypedSearchAttributes([SearchAttributePair(COUNCIL, start.council)]),
    )
    return pool_id


async def act(client: Client, pool_id: str, step: str, actor_id: str, role: str,
              payload: dict[str, Any]) -> dict[str, Any]:
    if step not in POOL_STEPS:
        raise CaseInvalid(f"{step!r} is not a pool step; steps are {', '.join(POOL_STEPS)}", pool_id)
    try:
        actor = Actor(id=actor_id, role=Role(role))
    except (ValueError, ValidationError):
        raise CaseInvalid(f"role {role!r} is not a role", pool_id, "role") from None
    request = StepInput(actor=actor, payload=payload, request_id=uuid.uuid4().hex)
    try:
        state = await client.get_workflow_handle(pool_id).execute_update(step, request, result_type=PoolState)
    except WorkflowUpdateFailedError as exc:
        cause = _application_cause(exc)
        raise CaseRefused(cause.message if cause is not None else str(exc), pool_id) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CaseNotFound(f"No pool {pool_id} found", pool_id) from None
        # A deadline or an unreachable server: the step may or may not have been taken; say so.
        raise CaseBusy(f"Pool {pool_id} did not answer just now; reload it to see whether the step "
                       "was taken, then try again", pool_id) from None
    return state.model_dump(mode="json")


async def describe(client: Client, pool_id: str) -> dict[str, Any]:
    try:
        state = await client.get_workflow_handle(pool_id).query(PoolWorkflow.describe)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CaseNotFound(f"No pool {pool_id} found", pool_id) from None
        # Anything else (no worker serving it, a deadline, an unreachable server): busy, never a 500.
        raise CaseBusy(f"Pool {pool_id} could not be read just now; try again shortly", pool_id) from None
    return state.model_dump(mode="json")


async def list_pools(client: Client, council: str | None) -> list[dict[str, Any]]:
    """Every running pool of the council (of every council for None), with members, balances and outcomes."""
    if council is not None:
        _check_council(council)
    where = f" AND CouncilCode = '{council}'" if council is not None else ""
    query = f"WorkflowType = 'Pool'{where} AND ExecutionStatus = 'Running'"
    try:
        found = [w.id async for w in client.list_workflows(query)]
    except RPCError as exc:  # Temporal (or its visibility store) not answering just now
        raise CaseBusy(f"The pools could not be listed just now ({exc.message}); try again shortly") from None
    read = []
    for pool_id in sorted(found):
        try:
            read.append(await describe(client, pool_id))
        except CaseBusy as exc:  # no worker serves it just now: left out, and said so
            log.warning("%s", exc.reason)
    return read


def summary(pool: dict[str, Any]) -> dict[str, Any]:
    """A pool as the council's report lists it (no personal data beyond case ids)."""
    members = [m for m in pool["members"] if m["status"] != "left"]
    last = pool["reviews"][-1] if pool["reviews"] else None
    return {
        "pool_id": pool["pool_id"], "name": pool["name"], "purpose": pool["purpose"],
        "members": [{"case_id": m["case_id"], "weekly_share": m["weekly_share"], "status": m["status"],
                     "leaves_on": m["leaves_on"]} for m in members],
        "weekly_pooled": _total(m["weekly_share"] for m in members if m["status"] == "active"),
        "emergency_fund": pool["fund_balance"],
        "draws": [{"number": d["number"], "amount": d["amount"], "status": d["status"]} for d in pool["draws"]],
        "time_value": _total(t["value"] for t in pool["time"]),
        "outcomes_met": last["outcomes_met"] if last else None,
        "rewarded": pool["rewarded"], "next_review": pool["next_review"],
    }


def _total(amounts: Iterable[str]) -> str:
    return f"{sum((Decimal(a) for a in amounts), Decimal(0)):.2f}"
