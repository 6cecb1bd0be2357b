"""Budget holders for the pool and statement pages: real cases driven to an active personal budget
through the case service (a real Temporal worker), acted on by the demo staff users."""

from __future__ import annotations

import asyncio
from typing import Any

from carebudget.service import cases, examples, pools
from carebudget.web.auth import hash_password
from carebudget.web.demo_users import DEMO_PASSWORD

SW = ("demo-social-worker", "social_worker")
APPROVER = ("demo-approver", "approver")
# Modest means, so the council pays a share each week and an underspend can be banked.
FINANCES = {"capital": "2000", "weekly_income": "200"}


def ensure_person(store: Any, username: str) -> None:
    if store.get_user(username) is None:
        store.create_user(username, f"Test {username}", "person", hash_password(DEMO_PASSWORD), actor="system")


async def budget_holder(client: Any, n: int, person_user: str, task_queue: str) -> dict[str, Any]:
    """Case `n` of the generated examples, for `person_user`, approved as planned."""
    script = examples.make_case(n, path="approve")
    start = {**script.start, "person_user": person_user, "opened_by": SW[0], "assigned_to": SW[0]}
    case_id = await cases.start_case(client, start, task_queue=task_queue)
    for _ in range(600):
        try:
            state = await cases.describe(client, case_id)
        except cases.CaseNotFound:
            state = {"stage": None}
        if state["stage"] == "assessment" and state.get("pending_step") is None:
            break
        await asyncio.sleep(0.05)
    await cases.act(client, case_id, "self_assess", person_user, "person", script.self_assessment)
    await cases.act(client, case_id, "verify_assessment", *SW, {**script.verification, "finances": FINANCES})
    await cases.act(client, case_id, "submit_plan", *SW, script.plan)
    return await cases.act(client, case_id, "approve", *APPROVER, {"note": "Meets the assessed needs"})


async def opened(client: Any, pool_id: str) -> dict[str, Any]:
    """The pool once it has read the council's terms."""
    for _ in range(400):
        pool = await pools.describe(client, pool_id)
        if pool["terms"] is not None:
            return pool
        await asyncio.sleep(0.05)
    raise AssertionError(f"pool {pool_id} never opened")
