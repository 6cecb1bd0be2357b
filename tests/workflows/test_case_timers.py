"""Durable timers from council policy, on the time-skipping server: deadlines, appeal window, reviews."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from carebudget.service import cases, examples
from carebudget.store import Store

SW = examples.SOCIAL_WORKER


@pytest.fixture
async def clock(skipping_env: WorkflowEnvironment, store: Store) -> AsyncIterator[tuple[Client, str]]:
    from worker import build_worker

    queue = f"timers-{uuid.uuid4().hex[:10]}"
    async with build_worker(skipping_env.client, queue, store=store):
        yield skipping_env.client, queue


async def _at(client: Client, case_id: str) -> dict:
    return await cases.describe(client, case_id)


async def test_a_missed_assessment_deadline_marks_the_case_overdue(
    clock: tuple[Client, str], skipping_env: WorkflowEnvironment
) -> None:
    client, queue = clock
    case_id = await cases.start_case(client, examples.make_case(1).start, task_queue=queue)
    await skipping_env.sleep(timedelta(days=27))
    state = await _at(client, case_id)
    assert (state["stage"], state["overdue"]) == ("assessment", False)
    await skipping_env.sleep(timedelta(days=3))
    state = await _at(client, case_id)
    assert state["overdue"] is True
    assert state["timeline"][-1]["action"] == "deadline.missed"
    # Verifying late still moves the case on, and clears the overdue mark.
    script = examples.make_case(1, path="approve")
    state = await cases.act(client, case_id, "verify_assessment", *SW, script.verification)
    assert (state["stage"], state["overdue"]) == ("support_planning", False)


async def test_when_the_appeal_window_ends_with_no_appeal_the_counter_proposal_stands(
    clock: tuple[Client, str], skipping_env: WorkflowEnvironment
) -> None:
    client, queue = clock
    script = examples.make_case(2, path="counter_stands")
    state = await examples.drive(client, script, queue)
    assert state["stage"] == "counter_proposal"
    await skipping_env.sleep(timedelta(days=43))
    state = await _at(client, state["case_id"])
    assert state["stage"] == "active_budget"
    assert state["counter_proposal"]["outcome"] == "stood"
    assert state["personal_budget"]["weekly_cost"] == script.counter["proposal"]["weekly_amount"]
    refused = await _refused(client, state["case_id"], "appeal", ("person-0-2", "person"))
    assert "is taken at counter_proposal" in refused


async def _refused(client: Client, case_id: str, step: str, who: tuple[str, str]) -> str:
    with pytest.raises(cases.CaseRefused) as refusal:
        await cases.act(client, case_id, step, who[0], who[1], {"reasons": "too late?"})
    return refusal.value.reason


async def test_reviews_come_light_touch_after_a_new_plan_then_yearly_with_continue_as_new(
    clock: tuple[Client, str], skipping_env: WorkflowEnvironment, store: Store
) -> None:
    client, queue = clock
    state = await examples.drive(client, examples.make_case(3, path="approve"), queue)
    case_id = state["case_id"]
    first_run = (await client.get_workflow_handle(case_id).describe()).run_id
    await skipping_env.sleep(timedelta(days=43))
    state = await _at(client, case_id)
    assert (state["stage"], state["reviews"][-1]["kind"]) == ("review", "light_touch")
    await skipping_env.sleep(timedelta(days=14))
    assert (await _at(client, case_id))["overdue"] is True  # not done within 8 weeks

    council_share = float(state["personal_budget"]["council_share"])
    # Issue 15: an underspend cannot exceed what the council paid in (9 weeks begun by day 57).
    with pytest.raises(cases.CaseRefused, match="more than the council paid"):
        await cases.act(client, case_id, "complete_review", *SW, {"underspend": "100000.00"})
    state = await cases.act(
        client, case_id, "complete_review", *SW,
        {"underspend": f"{council_share * 9:.2f}", "notes": "Going well; some weeks of care not used"},
    )
    assert state["stage"] == "active_budget" and state["light_touch_due"] is None
    # Nine weeks paid is within the council's policy share (a quarter of its yearly contribution).
    assert float(state["banked_underspend"]) == pytest.approx(council_share * 9, abs=0.01)
    # The banked amount is on the ledger with the review (issue 11 point 3).
    [review] = [e for e in store.case_trail(case_id) if e.action == "review.completed"]
    assert review.payload["banked"] == review.payload["banked_total"] == state["banked_underspend"]

    await skipping_env.sleep(timedelta(days=365 - 57 - 28 + 1))
    state = await _at(client, case_id)
    assert (state["stage"], state["reviews"][-1]["kind"]) == ("review", "full")
    assert state["generation"] == 1
    assert (await client.get_workflow_handle(case_id).describe()).run_id != first_run
    state = await cases.act(client, case_id, "complete_review", *SW, {"notes": "No change"})
    assert state["stage"] == "active_budget"
    assert [e["seq"] for e in state["timeline"]] == list(range(1, len(state["timeline"]) + 1))
    actions = [row.action for row in store.case_trail(case_id)]
    assert "review.completed" in actions and "deadline.missed" in actions


async def test_a_person_may_ask_for_a_review_and_a_revised_plan_goes_back_to_sign_off(
    clock: tuple[Client, str],
) -> None:
    client, queue = clock
    script = examples.make_case(4, path="approve")
    state = await examples.drive(client, script, queue)
    person = (script.start["person_user"], "person")
    state = await cases.act(
        client, state["case_id"], "request_review", *person, {"reasons": "I had a fall"}
    )
    assert (state["stage"], state["reviews"][-1]["kind"]) == ("review", "requested")
    state = await cases.act(
        client, state["case_id"], "complete_review", *SW, {"outcome": "revise_plan"}
    )
    assert state["stage"] == "support_planning"
    state = await cases.act(client, state["case_id"], "submit_plan", *SW, script.plan)
    assert (state["stage"], state["plan"]["version"]) == ("sign_off", 2)
