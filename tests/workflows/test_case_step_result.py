"""A step's update returns where the case stands, not its whole record (issue 12 point 4): the
result stays small as the case grows; the API's `act` still answers with the whole state."""

from __future__ import annotations

import json

from temporalio.client import Client

from carebudget.service import cases, examples
from workflows.models import CaseState, StepResult

SW = examples.SOCIAL_WORKER


async def test_a_step_answers_where_the_case_stands_and_act_answers_the_whole_state(
    client: Client, task_queue: str
) -> None:
    script = examples.make_case(30, path="approve")
    case_id = await cases.start_case(client, script.start, task_queue=task_queue)
    await examples._wait_for_stage(client, case_id, "assessment")
    person = (script.start["person_user"], "person")
    stands = await cases.take_step(client, case_id, "self_assess", *person, script.self_assessment)
    assert set(stands) == set(StepResult.model_fields)
    assert (stands["case_id"], stands["stage"], stands["pending_step"]) == (case_id, "assessment", None)
    stands = await cases.take_step(client, case_id, "verify_assessment", *SW, script.verification)
    state = await cases.describe(client, case_id)
    assert stands["stage"] == state["stage"] == "support_planning"
    assert stands["due_at"] == state["due_at"] and stands["due_for"] == state["due_for"] == "plan"
    # The decisions and timeline stay with the case, out of the step's answer.
    assert len(json.dumps(stands)) < 400 < len(json.dumps(state["decisions"]))
    whole = await cases.act(client, case_id, "submit_plan", *SW, script.plan)
    assert whole == await cases.describe(client, case_id)
    assert whole["stage"] == "sign_off" and whole["plan"]["version"] == 1
    assert [e["action"] for e in whole["timeline"]][-1] == "plan.submitted"


async def test_a_refused_step_is_refused_the_same_way_by_take_step_and_act(
    client: Client, task_queue: str
) -> None:
    script = examples.make_case(31, path="approve")
    case_id = await cases.start_case(client, script.start, task_queue=task_queue)
    await examples._wait_for_stage(client, case_id, "assessment")
    for take in (cases.take_step, cases.act):
        try:
            await take(client, case_id, "approve", *examples.APPROVER, {})
        except cases.CaseRefused as exc:
            assert "approve" in exc.reason or "sign" in exc.reason, exc.reason
        else:
            raise AssertionError(f"{take.__name__} took a step out of turn")


def test_a_whole_state_from_a_worker_before_issue_12_reads_as_a_step_result() -> None:
    """During a rolling deploy an older worker may still answer an update with the whole state."""
    script = examples.make_case(32)
    state = CaseState.model_validate({
        "case_id": "C-1", "council": "demo", "person": script.start["person"],
        "opened_at": "2026-01-05T09:00:00Z", "stage": "assessment", "due_for": "assessment",
    })
    result = StepResult.model_validate_json(state.model_dump_json())
    assert (result.case_id, result.stage.value, result.due_for) == ("C-1", "assessment", "assessment")
