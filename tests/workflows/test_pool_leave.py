"""Issue 15, a member leaving a community pool with notice (time-skipping Temporal server): when the
notice ends their share comes back to their own budget (their case shows the commitment released),
the pool's weekly pooled money falls by exactly that share, and later weeks credit the emergency
fund from the members who stayed only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from carebudget.rulebook import get_registry
from carebudget.service import cases, examples, pools
from carebudget.store import Store
from carebudget.web.statement import trust

SW = examples.SOCIAL_WORKER
PENNY = Decimal("0.01")


@pytest.fixture
async def clock(skipping_env: WorkflowEnvironment, store: Store) -> AsyncIterator[tuple[Client, str]]:
    from worker import build_worker

    queue = f"pool-leave-{uuid.uuid4().hex[:10]}"
    async with build_worker(skipping_env.client, queue, store=store):
        yield skipping_env.client, queue


def pooled(pool: dict[str, object]) -> Decimal:
    """What the members still in the pool pay into it a week (the leaving pay until notice ends)."""
    members = pool["members"]
    assert isinstance(members, list)
    return sum((Decimal(m["weekly_share"]) for m in members if m["status"] != "left"), Decimal(0))


async def test_a_member_who_leaves_with_notice_gets_their_share_back_and_the_pool_falls_by_it(
    clock: tuple[Client, str], skipping_env: WorkflowEnvironment, store: Store
) -> None:
    client, queue = clock
    states = [await examples.drive(client, examples.make_case(80 + n, path="approve"), queue) for n in range(2)]
    pool_id = await pools.start_pool(client, {
        "council": "demo", "name": "Canal-side gardening group", "purpose": "Growing food together",
        "opened_by": SW[0]}, queue)
    for _ in range(200):
        if (await pools.describe(client, pool_id))["terms"] is not None:
            break
        await asyncio.sleep(0.05)
    shares = [(Decimal(s["personal_budget"]["weekly_cost"]) * Decimal("0.10")).quantize(PENNY) for s in states]
    for state, share in zip(states, shares, strict=True):
        pool = await pools.act(client, pool_id, "join", state["person_user"], "person",
                               {"case_id": state["case_id"], "weekly_share": f"{share:.2f}"})
    before = pooled(pool)
    assert before == sum(shares, Decimal(0))
    leaver, stayer = states[1], states[0]
    pool = await pools.act(client, pool_id, "leave", leaver["person_user"], "person", {"case_id": leaver["case_id"]})
    notice = pool["members"][1]
    assert notice["status"] == "leaving"
    leaves_on = date.fromisoformat(notice["leaves_on"])
    # During the notice the share is still committed on their own case.
    case = await cases.describe(client, leaver["case_id"])
    assert case["pool_commitments"][0]["left"] is None and case["pool_commitments"][0]["leaves_on"]

    await skipping_env.sleep(timedelta(days=29))
    pool = await pools.describe(client, pool_id)
    gone = pool["members"][1]
    assert (gone["status"], gone["left_on"]) == ("left", leaves_on.isoformat())
    assert pooled(pool) == before - shares[1]
    assert pools.summary(pool)["weekly_pooled"] == f"{shares[0]:.2f}"
    # Their own case shows the commitment released: nothing of their budget is pooled any more.
    for _ in range(200):
        case = await cases.describe(client, leaver["case_id"])
        if case["pool_commitments"][0]["left"]:
            break
        await asyncio.sleep(0.05)
    assert case["pool_commitments"][0]["left"] == leaves_on.isoformat()
    # ... and so does their statement: nothing committed, the whole budget under their own control.
    statement = trust(case, get_registry(), date.today())
    assert (statement["committed"], statement["own_control"]) == ("0.00", case["personal_budget"]["weekly_cost"])
    during = trust(await cases.describe(client, stayer["case_id"]), get_registry(), date.today())
    assert during["committed"] == f"{shares[0]:.2f}" and during["covered"] is True
    kept = await cases.describe(client, stayer["case_id"])
    assert kept["pool_commitments"][0]["left"] is None

    # The weeks after the notice ended credit the fund from the member who stayed only.
    credited = pool["weeks_credited"]
    fund = Decimal(pool["fund_balance"])
    await skipping_env.sleep(timedelta(days=14))
    pool = await pools.describe(client, pool_id)
    weeks = pool["weeks_credited"] - credited
    assert weeks >= 1
    per_week = (shares[0] * Decimal(pool["terms"]["emergency_fund_share"])).quantize(PENNY, ROUND_DOWN)
    assert Decimal(pool["fund_balance"]) == fund + per_week * weeks
    actions = [e.action for e in store.case_trail(leaver["case_id"])]
    assert actions.count("pool.notice_given") == 1 and actions.count("pool.member_left") == 1
