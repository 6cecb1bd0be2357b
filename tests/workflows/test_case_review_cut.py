"""CSSG 13.32 (R v Islington ex p McMillan): a review lowers a budget only on a changed assessment
of need, or through a counter-proposal that passes the sufficiency check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import Client

from carebudget.service import cases, examples
from carebudget.store import Store

SW, APPROVER = examples.SOCIAL_WORKER, examples.APPROVER


async def revised_at_review(client: Client, queue: str, n: int, support: list[dict[str, Any]] | None) -> tuple[str, examples.CaseScript]:
    """An approved case, reviewed with the plan to be revised, and a plan of one item less."""
    script = examples.make_case(n, path="approve")
    state = await examples.drive(client, script, queue)
    case_id = state["case_id"]
    person = (script.start["person_user"], "person")
    await cases.act(client, case_id, "request_review", *person, {"reasons": "My daughter now cooks for me"})
    outcome: dict[str, Any] = {"outcome": "revise_plan", "notes": "Reviewed at home"}
    if support is not None:
        outcome["support"] = support
    await cases.act(client, case_id, "complete_review", *SW, outcome)
    items = script.plan["plan"]["items"][1:]
    total = sum((Decimal(i["units"]) * Decimal(i["unit_cost"]) for i in items), Decimal(0))
    await cases.act(client, case_id, "submit_plan", *SW, {"plan": {"weekly_total": f"{total:.2f}", "items": items}})
    return case_id, script


async def test_a_lower_plan_after_a_review_with_no_change_in_need_is_refused(client: Client, task_queue: str) -> None:
    case_id, _ = await revised_at_review(client, task_queue, 31, None)
    with pytest.raises(cases.CaseRefused) as refused:
        await cases.act(client, case_id, "approve", *APPROVER, {"note": "Cheaper"})
    assert "review recorded no change in assessed need" in refused.value.reason


async def test_a_lower_plan_after_a_review_that_reassessed_the_need_is_approved_and_the_trail_says_so(
    client: Client, task_queue: str, store: Store
) -> None:
    script = examples.make_case(31, path="approve")
    reassessed = script.verification["support"][1:]
    case_id, _ = await revised_at_review(client, task_queue, 31, reassessed)
    state = await cases.act(client, case_id, "approve", *APPROVER, {"note": "Need has reduced"})
    assert state["stage"] == "active_budget"
    assert Decimal(state["personal_budget"]["weekly_cost"]) < script.plan_total
    assert state["reviews"][-1]["assessment_changed"] is True
    assert "review.assessment_changed" in [e["action"] for e in state["timeline"]]
