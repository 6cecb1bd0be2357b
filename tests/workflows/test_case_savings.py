"""Issue 15 on a case: underspend checked against payments, banked savings spent under policy, a
saver's light-touch review, reablement in the open (real dev server and time-skipping server)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from carebudget.service import cases, examples
from carebudget.store import Store

SW = examples.SOCIAL_WORKER


async def _reviewed_with_savings(client: Client, n: int, queue: str) -> tuple[str, dict, Decimal]:
    state = await examples.drive(client, examples.make_case(n, path="approve"), queue)
    case_id, person = state["case_id"], (state["person_user"], "person")
    share = Decimal(state["personal_budget"]["council_share"])
    assert share > 0
    await cases.act(client, case_id, "request_review", *person, {"reasons": "I have saved some money"})
    return case_id, state, share


async def test_an_underspend_above_what_the_council_paid_is_refused(
    client: Client, task_queue: str, store: Store
) -> None:
    case_id, _, share = await _reviewed_with_savings(client, 40, task_queue)
    # Minutes after the budget started only the first week has been paid.
    with pytest.raises(cases.CaseRefused, match=r"more than the council paid since the last review"):
        await cases.act(client, case_id, "complete_review", *SW, {"underspend": "50000.00"})
    state = await cases.describe(client, case_id)
    assert state["stage"] == "review" and Decimal(state["banked_underspend"]) == 0
    for _ in range(200):  # the refusal is written by the workflow's activity, just after
        refused = [e for e in store.case_trail(case_id) if e.action == "update.refused"]
        if refused:
            break
        await asyncio.sleep(0.05)
    assert refused and "what was paid in" in refused[-1].payload["reason"]
    state = await cases.act(client, case_id, "complete_review", *SW,
                            {"underspend": f"{share:.2f}", "outcomes_met": True})
    assert Decimal(state["banked_underspend"]) == share


async def test_banked_savings_are_spent_on_an_approved_capital_purchase_and_refused_without_reasons(
    client: Client, task_queue: str, store: Store
) -> None:
    case_id, state, share = await _reviewed_with_savings(client, 41, task_queue)
    person = (state["person_user"], "person")
    state = await cases.act(client, case_id, "complete_review", *SW,
                            {"underspend": f"{share:.2f}", "outcomes_met": True})
    balance = Decimal(state["banked_underspend"])
    with pytest.raises(cases.CaseRefused, match="more than the banked balance"):
        await cases.act(client, case_id, "use_savings", *person,
                        {"purpose": "equipment", "amount": f"{balance + 1:.2f}",
                         "description": "A riser recliner chair"})
    # Refused under the council's policy, with its reason: the plan must say what it is for.
    state = await cases.act(client, case_id, "use_savings", *person,
                            {"purpose": "equipment", "amount": "1.00", "description": "chair"})
    assert state["savings_uses"][-1]["approved"] is False
    assert any("say what the money is for" in r for r in state["savings_uses"][-1]["reasons"])
    assert Decimal(state["banked_underspend"]) == balance
    spend = (balance / 2).quantize(Decimal("0.01"))
    state = await cases.act(client, case_id, "use_savings", *person,
                            {"purpose": "home_adaptation", "amount": f"{spend:.2f}",
                             "description": "Grab rails and a lever tap in the bathroom"})
    use = state["savings_uses"][-1]
    assert use["approved"] is True and "within the council's policy" in use["reasons"][0]
    assert Decimal(state["banked_underspend"]) == balance - spend
    actions = Counter(e.action for e in store.case_trail(case_id))
    assert actions["savings.approved"] == 1 and actions["savings.refused"] == 1
    assert store.verify_chain().ok


async def test_a_reablement_episode_is_free_for_six_weeks_and_its_cost_is_recorded(
    client: Client, task_queue: str, store: Store
) -> None:
    state = await examples.drive(client, examples.make_case(42, path="approve"), task_queue)
    case_id = state["case_id"]
    with pytest.raises(cases.CaseRefused, match="weekly_cost"):
        await cases.act(client, case_id, "record_reablement", *SW,
                        {"started": "2025-05-01", "weeks": 8, "weekly_cost": "0"})
    state = await cases.act(client, case_id, "record_reablement", *SW,
                            {"started": date.today().isoformat(), "weeks": 8, "weekly_cost": "250.00",
                             "provider": "Demo BC reablement team"})
    episode = state["reablement"][-1]
    assert (episode["cost"], episode["free_weeks"], episode["chargeable_weeks"]) == ("2000.00", 6, 2)
    assert "SI 2014/2672 reg 3" in episode["reasons"][0]
    # Outside the personal budget (SI 2014/2840): the s26 statement is unchanged.
    assert state["personal_budget"] == (await cases.describe(client, case_id))["personal_budget"]
    assert [e.action for e in store.case_trail(case_id)].count("reablement.recorded") == 1


@pytest.fixture
async def clock(skipping_env: WorkflowEnvironment, store: Store) -> AsyncIterator[tuple[Client, str]]:
    from worker import build_worker

    queue = f"savers-{uuid.uuid4().hex[:10]}"
    async with build_worker(skipping_env.client, queue, store=store):
        yield skipping_env.client, queue


async def test_a_savers_next_yearly_review_is_light_touch_by_policy_and_within_twelve_months(
    clock: tuple[Client, str], skipping_env: WorkflowEnvironment
) -> None:
    client, queue = clock
    state = await examples.drive(client, examples.make_case(40, path="approve"), queue)
    case_id = state["case_id"]
    share = Decimal(state["personal_budget"]["council_share"])
    assert share > 0
    await skipping_env.sleep(timedelta(days=43))
    state = await cases.describe(client, case_id)
    assert state["reviews"][-1]["kind"] == "light_touch"
    state = await cases.act(client, case_id, "complete_review", *SW,
                            {"underspend": f"{share * 2:.2f}", "outcomes_met": True})
    # Demo policy: one review with savings and outcomes met earns it; DP checks every 180 days.
    assert state["earned_light_touch"] is True and state["direct_payment_check_days"] == 180
    full_due = date.fromisoformat(state["full_review_due"])
    assert full_due - date.fromisoformat(state["plan_started"]) <= timedelta(days=365)
    await skipping_env.sleep(timedelta(days=365 - 43 - 28 + 1))
    state = await cases.describe(client, case_id)
    assert state["stage"] == "review" and state["reviews"][-1]["kind"] == "earned_light_touch"
    state = await cases.act(client, case_id, "complete_review", *SW,
                            {"notes": "Going well", "outcomes_met": True})
    # No savings this time: the next yearly review is a full one again, still within 12 months.
    assert state["earned_light_touch"] is False and state["direct_payment_check_days"] == 90
    assert date.fromisoformat(state["full_review_due"]) <= full_due + timedelta(days=365)
