"""Every stage of a case on a real dev server: intake to active budget, by every path."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import Client

from carebudget.policy.decide import decide
from carebudget.service import cases, examples
from carebudget.store import Store


def _statement_holds(state: dict[str, Any]) -> None:
    budget = state["personal_budget"]
    assert Decimal(budget["weekly_cost"]) == Decimal(budget["person_charge"]) + Decimal(
        budget["council_share"]
    )


async def test_an_approved_plan_becomes_a_personal_budget_with_the_rules_decisions(
    client: Client, task_queue: str, store: Store
) -> None:
    script = examples.make_case(10, path="approve")
    state = await examples.drive(client, script, task_queue)
    assert state["stage"] == "active_budget"
    assert [e["action"] for e in state["timeline"]] == [
        "case.opened", "assessment.self_assessed", "assessment.verified", "eligibility.decided",
        "charge.decided", "indicative_budget.decided", "plan.submitted", "plan.approved",
        "budget.active",
    ]
    _statement_holds(state)
    assert state["personal_budget"]["weekly_cost"] == script.plan["plan"]["weekly_total"]
    # The workflow kept exactly the records the decision core gives for the same facts.
    eligibility = state["decisions"]["eligibility"]
    on = date.fromisoformat(eligibility["date"])
    again = decide("eligibility", "demo", on, eligibility["input"])
    assert again["eligibility"] == eligibility["eligibility"]
    kinds = sorted(d.kind for d in store.case_decisions(state["case_id"]))
    assert kinds == ["charge", "charge", "eligibility", "indicative-budget"]
    row = store.get_case(state["case_id"], role="operations")
    weekly_cost = state["personal_budget"]["weekly_cost"]
    assert (row.stage, row.amounts["personal_budget"]) == ("active_budget", weekly_cost)


async def test_a_person_not_eligible_gets_written_advice_and_the_case_closes(
    client: Client, task_queue: str
) -> None:
    state = await examples.drive(client, examples.make_case(11, path="not_eligible"), task_queue)
    assert state["stage"] == "closed"
    assert any("s13(5)" in line for line in state["advice"])
    # The verification's decisions stop at eligibility: no charge or budget for needs not met.
    assert sorted(state["decisions"]) == ["eligibility"]
    result = await client.get_workflow_handle(state["case_id"]).result()
    assert result["stage"] == "closed"


async def test_changes_requested_send_the_plan_back_and_a_second_version_is_signed_off(
    client: Client, task_queue: str
) -> None:
    state = await examples.drive(
        client, examples.make_case(12, path="changes_then_approve"), task_queue
    )
    assert state["stage"] == "active_budget"
    assert state["change_requests"][0]["reasons"] == "Say who provides the meals"
    assert state["plan"]["version"] == 2


async def test_an_accepted_counter_proposal_sets_the_lower_amount(
    client: Client, task_queue: str
) -> None:
    script = examples.make_case(13, path="counter_accept")
    state = await examples.drive(client, script, task_queue)
    assert state["stage"] == "active_budget"
    assert state["counter_proposal"]["outcome"] == "accepted"
    assert state["personal_budget"]["weekly_cost"] == script.counter["proposal"]["weekly_amount"]
    assert state["decisions"]["counter-proposal"]["counter_proposal"]["valid"] is True
    _statement_holds(state)


@pytest.mark.parametrize("outcome", ["uphold", "part_uphold", "dismiss"])
async def test_an_appeal_is_upheld_part_upheld_or_dismissed_by_an_appeals_officer(
    client: Client, task_queue: str, outcome: str
) -> None:
    script = examples.make_case(14, path="counter_appeal")
    script = examples.CaseScript(**{**script.__dict__, "appeal_outcome": outcome})
    state = await examples.drive(client, script, task_queue)
    expected = {
        "uphold": script.plan["plan"]["weekly_total"],
        "part_uphold": script.appeal_decision().get("weekly_amount"),
        "dismiss": script.counter["proposal"]["weekly_amount"],
    }[outcome]
    assert state["stage"] == "active_budget"
    assert (state["appeal"]["outcome"], state["appeal"]["decided_by"]["id"]) == (outcome, "ao-cy")
    assert state["personal_budget"]["weekly_cost"] == expected
    _statement_holds(state)


async def test_operations_find_cases_by_stage_and_council_through_search_attributes(
    client: Client, task_queue: str
) -> None:
    state = await examples.drive(client, examples.make_case(15, path="approve"), task_queue)
    for _ in range(100):  # visibility is eventually consistent
        rows = await cases.list_cases(client, stage="active_budget", council="demo")
        if any(r["case_id"] == state["case_id"] for r in rows):
            break
        await asyncio.sleep(0.1)
    row = next(r for r in rows if r["case_id"] == state["case_id"])
    assert (row["stage"], row["council"], row["overdue"]) == ("active_budget", "demo", False)
    assert row["due_at"] is not None
    assert set(row) >= {"case_id", "stage", "council", "due_at", "overdue"}
    assert "name" not in row and "date_of_birth" not in row


async def test_approval_acceptance_and_appeal_decision_each_have_a_ledger_event_with_actor_reasons_and_amount(
    client: Client, task_queue: str, store: Store
) -> None:
    """Issue 11 point 3: the sign-off decisions were only visible through the budget they led to."""
    approved = await examples.drive(client, examples.make_case(20, path="approve"), task_queue)
    appealed = await examples.drive(client, examples.make_case(21, path="counter_appeal"), task_queue)
    accepted = await examples.drive(client, examples.make_case(22, path="counter_accept"), task_queue)
    for state, action in ((approved, "plan.approved"), (accepted, "counter_proposal.accepted"),
                          (appealed, f"appeal.{state_outcome(appealed)}")):
        [row] = [e for e in store.case_trail(state["case_id"]) if e.action == action]
        taken = next(e for e in state["timeline"] if e["action"] == action)
        assert (row.actor, row.role) == (taken["actor"]["id"], taken["actor"]["role"])
        assert row.payload["weekly_amount"] == state["personal_budget"]["weekly_cost"]
    [appeal] = [e for e in store.case_trail(appealed["case_id"]) if e.action.startswith("appeal.")
                and e.action != "appeal.made"]
    assert appeal.payload["reasons"] == appealed["appeal"]["decision_reasons"]


def state_outcome(state: dict[str, Any]) -> str:
    return str(state["appeal"]["outcome"])
