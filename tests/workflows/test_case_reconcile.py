"""After a crash the store and Temporal agree (issue 11 point 2): a step the store kept but the
case's workflow lost is voided, the case list is set back to what the workflow says, the repair is
on the ledger, and the step can then be taken again (before: "event key already used", stuck)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client

from carebudget.service import cases, examples
from carebudget.service.reconcile import reconcile
from carebudget.store import Store


async def _lost_self_assessment(client: Client, store: Store, task_queue: str) -> tuple[str, dict]:
    """A case at assessment whose store holds a self-assessment the workflow never kept: what a
    crash between the store's commit and Temporal's leaves behind."""
    script = examples.make_case(3, path="approve")
    case_id = await cases.start_case(client, script.start, task_queue=task_queue)
    state = await examples._wait_for_stage(client, case_id, "assessment")
    n = len(state["timeline"]) + 1
    store.record_step(f"{case_id}:{n}:assessment.self_assessed", case_id, script.start["person_user"],
                      "person", "assessment.self_assessed", {"answers": "written before the crash"},
                      index={"stage": "verification", "due": None, "amounts": {}})
    return case_id, script.self_assessment


async def test_a_step_the_workflow_lost_is_voided_and_the_case_list_set_back(
    client: Client, store: Store, task_queue: str
) -> None:
    case_id, _ = await _lost_self_assessment(client, store, task_queue)
    assert store.get_case(case_id).stage == "verification"
    [repair] = await reconcile(client, store, timedelta(0), only=[case_id])
    assert repair.changed and repair.voided == [f"{case_id}:2:assessment.self_assessed"]
    assert repair.fields["stage"] == ("verification", "assessment")
    assert store.get_case(case_id).stage == "assessment"
    [row] = [e for e in store.case_trail(case_id) if e.action == "case.reconciled"]
    assert row.payload["voided"] == repair.voided
    # Reconciling again finds nothing to do, and writes nothing.
    rows = store.ledger_count()
    [again] = await reconcile(client, store, timedelta(0), only=[case_id])
    assert not again.changed and store.ledger_count() == rows
    assert store.verify_chain().ok


async def test_after_reconciling_the_lost_step_can_be_taken_again_with_other_content(
    client: Client, store: Store, task_queue: str
) -> None:
    case_id, answers = await _lost_self_assessment(client, store, task_queue)
    await reconcile(client, store, timedelta(0), only=[case_id])
    person = examples.make_case(3, path="approve").start["person_user"]
    state = await cases.act(client, case_id, "self_assess", person, "person", answers)
    assert state["timeline"][-1]["action"] == "assessment.self_assessed"
    keys = [e.event_key for e in store.case_trail(case_id) if e.action == "assessment.self_assessed"]
    assert keys == [f"{case_id}:2:assessment.self_assessed", f"{case_id}:2:assessment.self_assessed~1"]
    assert store.voided_steps(case_id) == {f"{case_id}:2:assessment.self_assessed"}


async def test_without_reconciling_other_content_under_the_lost_key_is_an_alarm_not_a_silent_overwrite(
    client: Client, store: Store, task_queue: str
) -> None:
    case_id, answers = await _lost_self_assessment(client, store, task_queue)
    person = examples.make_case(3, path="approve").start["person_user"]
    try:
        await cases.act(client, case_id, "self_assess", person, "person", answers)
    except cases.CaseRefused as exc:
        assert "ALARM" in exc.reason and "different content" in exc.reason
    else:
        raise AssertionError("a conflicting step was accepted")
    alarms = [e for e in store.case_trail(case_id) if e.action == "alarm.event_conflict"]
    assert [a.payload["event_key"] for a in alarms] == [f"{case_id}:2:assessment.self_assessed"]


async def test_a_lost_step_the_case_went_on_without_is_voided_though_a_later_step_took_its_place(
    client: Client, store: Store, task_queue: str
) -> None:
    # The social worker's verification was kept by the store and lost by Temporal; before anyone
    # reconciled, the person self-assessed: the workflow's step 2 is that, under its own key.
    # Before: only steps beyond the timeline were voided, so the ledger kept a live verification
    # that never happened, beside the self-assessment that did.
    script = examples.make_case(4, path="approve")
    case_id = await cases.start_case(client, script.start, task_queue=task_queue)
    await examples._wait_for_stage(client, case_id, "assessment")
    lost = f"{case_id}:2:assessment.verified"
    store.record_step(lost, case_id, "demo-social-worker", "social_worker", "assessment.verified",
                      {"notes": "written before the crash"},
                      index={"stage": "support_planning", "due": None, "amounts": {}})
    person = script.start["person_user"]
    state = await cases.act(client, case_id, "self_assess", person, "person", script.self_assessment)
    assert len(state["timeline"]) == 2
    [repair] = await reconcile(client, store, timedelta(0), only=[case_id])
    assert repair.voided == [lost]
    assert store.voided_steps(case_id) == {lost}
    live = [e.action for e in store.case_trail(case_id) if e.action.startswith("assessment.")]
    assert live == ["assessment.verified", "assessment.self_assessed"]  # the rows stay, one voided
    # The step that counts is untouched, and reconciling again finds nothing.
    [again] = await reconcile(client, store, timedelta(0), only=[case_id])
    assert not again.changed
    assert store.get_case(case_id).stage == state["stage"]
    assert store.verify_chain().ok
