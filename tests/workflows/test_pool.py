"""Issue 15, community pools on a real Temporal dev server: three members form a pool, one draws on
the emergency fund by the members' decision, one gives notice with their share, the pool is
reviewed and earns its reward; each member's own budget stays sufficient; the worker is killed
half-way and a second one finishes with nothing lost or done twice."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from carebudget.service import cases, examples, pools
from carebudget.store import Store
from tests.workflows.test_case_worker_crash import _worker

SW = examples.SOCIAL_WORKER


async def test_a_pool_of_three_forms_draws_by_members_decision_loses_a_member_and_earns_its_reward(
    env: WorkflowEnvironment, store: Store, task_queue: str, tmp_path: Path
) -> None:
    client = env.client
    first, second = _worker(env, task_queue, store, tmp_path), None
    try:
        states = [await examples.drive(client, examples.make_case(60 + n, path="approve"), task_queue)
                  for n in range(3)]
        members = [(s["case_id"], s["person_user"], Decimal(s["personal_budget"]["weekly_cost"])) for s in states]
        pool_id = await pools.start_pool(client, {
            "council": "demo", "name": "Riverside walking and lunch club",
            "purpose": "Shared support to get out, eat together and stay connected", "opened_by": SW[0],
        }, task_queue)
        shares = [(budget * Decimal("0.10")).quantize(Decimal("0.01")) for _, _, budget in members]
        # Too large a share is refused with the council's reasons (20% of the budget at most).
        case_id, user, budget = members[0]
        await _opened(client, pool_id)
        with pytest.raises(cases.CaseRefused, match="the council's policy allows 20%"):
            await pools.act(client, pool_id, "join", user, "person",
                            {"case_id": case_id, "weekly_share": f"{budget * Decimal('0.5'):.2f}"})
        for (case_id, user, _), share in zip(members[:2], shares[:2], strict=True):
            await pools.act(client, pool_id, "join", user, "person", {"case_id": case_id, "weekly_share": f"{share:.2f}"})
        # Kill the worker with the third join in flight; a second worker finishes it.
        case_id, user, _ = members[2]
        third = asyncio.create_task(pools.act(client, pool_id, "join", user, "person",
                                              {"case_id": case_id, "weekly_share": f"{shares[2]:.2f}"}))
        await asyncio.sleep(0.2)
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = _worker(env, task_queue, store, tmp_path)
        pool = await third
        assert [m["case_id"] for m in pool["members"]] == [m[0] for m in members]
        fund = Decimal(pool["fund_balance"])
        assert fund == sum(((s * Decimal("0.10")).quantize(Decimal("0.01"), "ROUND_DOWN") for s in shares), Decimal(0))

        # A members' decision: the proposer and one more agree, two of three, so the draw is paid.
        draw = (fund / 2).quantize(Decimal("0.01"))
        await pools.act(client, pool_id, "propose_draw", members[0][1], "person",
                        {"amount": f"{draw:.2f}", "reason": "Taxi to hospital when the bus failed",
                         "for_case": members[0][0]})
        with pytest.raises(cases.CaseRefused, match="not a member"):
            await pools.act(client, pool_id, "vote", "someone-else", "person", {"draw": 1, "agree": True})
        pool = await pools.act(client, pool_id, "vote", members[1][1], "person", {"draw": 1, "agree": True})
        assert pool["draws"][0]["status"] == "approved"
        with pytest.raises(cases.CaseRefused, match="approved already"):
            await pools.act(client, pool_id, "vote", members[2][1], "person", {"draw": 1, "agree": False})
        assert Decimal(pool["fund_balance"]) == fund - draw

        pool = await pools.act(client, pool_id, "give_time", members[1][1], "person",
                               {"kind": "family", "giver": "Sam (daughter)", "hours": "3"})
        assert pool["time"][0]["value"] == "50.40"  # 3 hours at the council's 16.80
        pool = await pools.act(client, pool_id, "leave", members[2][1], "person", {"case_id": members[2][0]})
        leaving = pool["members"][2]
        assert leaving["status"] == "leaving" and leaving["leaves_on"]
        pool = await pools.act(client, pool_id, "review_pool", *SW,
                               {"outcomes_met": True, "planned": "300.00", "spent": "270.00"})
        assert pool["rewarded"] is True and pool["reviews"][0]["rewarded"] is True

        # Each member's own case records the commitment, and what remains meets their needs.
        for (case_id, _, budget), share, member in zip(members, shares, pool["members"], strict=True):
            case = await cases.describe(client, case_id)
            commitment = case["pool_commitments"][0]
            assert (commitment["pool_id"], Decimal(commitment["weekly_share"])) == (pool_id, share)
            assert "remains for the member's own needs" in member["check"][0]
            remaining, floor = (Decimal(x) for x in _figures(member["check"][0]))
            assert remaining == budget - share and remaining >= floor
        assert (await cases.describe(client, members[2][0]))["pool_commitments"][0]["leaves_on"]
        listed = [p["pool_id"] for p in await pools.list_pools(client, "demo")]
        assert pool_id in listed
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    # Every movement on the ledger, once: joins on each member's own trail, the draw on the drawer's.
    for case_id, _, _ in members:
        actions = Counter(e.action for e in store.case_trail(case_id))
        assert actions["pool.member_joined"] == 1
    assert Counter(e.action for e in store.case_trail(members[0][0]))["pool.draw_paid"] == 1
    assert Counter(e.action for e in store.case_trail(members[2][0]))["pool.notice_given"] == 1
    assert store.verify_chain().ok


def _figures(sentence: str) -> list[str]:
    return [w for w in sentence.replace(",", " ").split() if w.replace(".", "").isdigit() and "." in w]


async def _opened(client: Client, pool_id: str) -> None:
    """The pool reads the council's terms as it opens; steps wait for that."""
    for _ in range(200):
        if (await pools.describe(client, pool_id))["terms"] is not None:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the pool did not open")
