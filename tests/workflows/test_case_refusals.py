"""Every step's refusals: wrong stage, wrong role, invalid fields, separation of duties.

A refused step changes nothing in the case and is written to the store for compliance.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import Client

from carebudget.service import cases, examples
from carebudget.store import Store

SW, APPROVER, OFFICER = examples.SOCIAL_WORKER, examples.APPROVER, examples.APPEALS_OFFICER
PERSON = ("person-0-20", "person")


async def case_at(client: Client, queue: str, stage: str) -> tuple[str, examples.CaseScript]:
    """A case driven to `stage` (the plan drafted by sw-amy, counter-proposed by ap-bo)."""
    script = examples.make_case(20, path="counter_appeal")
    case_id = await cases.start_case(client, script.start, task_queue=queue)
    await examples._wait_for_stage(client, case_id, "assessment")
    steps: list[tuple[str, tuple[str, str], dict[str, Any]]] = [
        ("verify_assessment", SW, script.verification),
        ("submit_plan", SW, script.plan),
        ("counter_propose", APPROVER, script.counter),
        ("appeal", PERSON, {"reasons": "Mornings are not covered"}),
        ("decide_appeal", OFFICER, {"outcome": "dismiss", "reasons": "Every need is met"}),
    ]
    order = ["assessment", "support_planning", "sign_off", "counter_proposal", "appeal",
             "active_budget"]
    for name, who, payload in steps[: order.index(stage)]:
        await cases.act(client, case_id, name, *who, payload)
    return case_id, script


def _bad_items(script: examples.CaseScript) -> dict[str, Any]:
    item = {**script.plan["plan"]["items"][0], "outcomes": ["caring_for_child"]}
    total = Decimal(item["units"]) * Decimal(item["unit_cost"])
    return {"plan": {"weekly_total": f"{total:.2f}", "items": [item]}}


def _free_text_plan(script: examples.CaseScript) -> dict[str, Any]:
    need = script.plan["plan"]["items"][0]["outcomes"][0]
    return {"plan": {"weekly_total": "100.00",
                     "items": [{"need": need, "provision": "Care", "weekly_cost": "100.00"}]}}


def _free_text_counter(script: examples.CaseScript) -> dict[str, Any]:
    need = script.plan["plan"]["items"][0]["outcomes"][0]
    return {"proposal": {"weekly_amount": "3.00", "justifications": [
        {"need": need, "provision": "x", "weekly_cost": "1.00", "reason": "x"}]}}


def _unsupported_need(script: examples.CaseScript) -> dict[str, Any]:
    return {**script.verification, "support": script.verification["support"][1:]}


def _higher(script: examples.CaseScript) -> dict[str, Any]:
    amount = f"{script.plan_total + 1:.2f}"
    return {"proposal": {**script.counter["proposal"], "weekly_amount": amount}}


REFUSALS: list[tuple[str, str, str, tuple[str, str], Any, str]] = [
    # (test id, stage, step, who, payload or builder, reason contains)
    ("approve at assessment", "assessment", "approve", APPROVER, {}, "approve is taken at sign_off"),
    ("person verifies", "assessment", "verify_assessment", PERSON,
     lambda s: s.verification, "role person may not verify_assessment"),
    ("someone else self-assesses", "assessment", "self_assess", ("person-9", "person"),
     lambda s: s.self_assessment, "is not the person this case is about"),
    ("a need without assessed support", "assessment", "verify_assessment", SW, _unsupported_need,
     "record the support each assessed need requires"),
    ("no finances", "assessment", "verify_assessment", SW,
     lambda s: {k: v for k, v in s.verification.items() if k != "finances"}, "finances"),
    ("bad wellbeing", "assessment", "self_assess", PERSON,
     lambda s: {"needs": {**s.self_assessment["needs"], "wellbeing_impact": "huge"}},
     "needs.wellbeing_impact"),
    ("plan for a need not assessed", "support_planning", "submit_plan", SW, _bad_items,
     "not an assessed need"),
    ("free-text plan", "support_planning", "submit_plan", SW, _free_text_plan,
     "give the outcomes the item meets"),
    ("plan total wrong", "support_planning", "submit_plan", SW,
     lambda s: {"plan": {**s.plan["plan"], "weekly_total": "1.00"}}, "plan.weekly_total"),
    ("approver drafted the plan", "sign_off", "approve", ("sw-amy", "approver"), {},
     "drafted this plan"),
    ("counter-proposal not lower", "sign_off", "counter_propose", APPROVER, _higher,
     "is not lower than"),
    ("free-text counter-proposal", "sign_off", "counter_propose", APPROVER, _free_text_counter,
     "each justification gives the outcome, the provision, the units"),
    ("changes without reasons", "sign_off", "request_changes", APPROVER, {"reasons": "  "},
     "reasons"),
    ("approver accepts for the person", "counter_proposal", "accept_counter_proposal", APPROVER,
     {}, "role approver may not accept_counter_proposal"),
    ("appeal decided by the approver", "appeal", "decide_appeal", ("ap-bo", "appeals_officer"),
     {"outcome": "dismiss", "reasons": "x"}, "took part in the decision appealed"),
    ("part-uphold above the plan", "appeal", "decide_appeal", OFFICER,
     {"outcome": "part_uphold", "reasons": "x", "weekly_amount": "99999.00"},
     "part-upheld appeal sets an amount above"),
    ("dismissal with an amount", "appeal", "decide_appeal", OFFICER,
     {"outcome": "dismiss", "reasons": "x", "weekly_amount": "10.00"}, "only a part-upheld"),
    ("review not open", "active_budget", "complete_review", SW, {}, "complete_review is taken"),
    ("approver asks for a review", "active_budget", "request_review", APPROVER,
     {"reasons": "x"}, "role approver may not request_review"),
]


@pytest.mark.parametrize(
    ("stage", "step", "who", "payload", "reason"),
    [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS],
)
async def test_a_refused_step_gives_its_reason_changes_nothing_and_is_recorded(
    client: Client, task_queue: str, store: Store,
    stage: str, step: str, who: tuple[str, str], payload: Any, reason: str,
) -> None:
    case_id, script = await case_at(client, task_queue, stage)
    before = await cases.describe(client, case_id)
    body = payload(script) if callable(payload) else payload
    with pytest.raises(cases.CaseRefused) as refusal:
        await cases.act(client, case_id, step, *who, body)
    assert reason in refusal.value.reason
    assert await cases.describe(client, case_id) == before
    for _ in range(100):  # the refusal is written by the workflow's activity, just after
        refused = [e for e in store.case_trail(case_id) if e.action == "update.refused"]
        if refused:
            break
        await asyncio.sleep(0.05)
    assert refused[-1].payload["step"] == step
    assert reason in refused[-1].payload["reason"]
    assert (refused[-1].actor, refused[-1].role) == who


async def test_a_counter_proposal_that_leaves_a_need_unmet_fails_the_check_and_changes_nothing(
    client: Client, task_queue: str, store: Store
) -> None:
    case_id, script = await case_at(client, task_queue, "sign_off")
    before = await cases.describe(client, case_id)
    proposal = dict(script.counter["proposal"])
    proposal["justifications"] = proposal["justifications"][:1]
    with pytest.raises(cases.CaseRefused) as refusal:
        await cases.act(client, case_id, "counter_propose", *APPROVER, {"proposal": proposal})
    assert "not justified" in refusal.value.reason
    assert await cases.describe(client, case_id) == before
    trail = store.case_trail(case_id)
    assert "counter_proposal.refused" in [e.action for e in trail]
    assert "counter-proposal" in [d.kind for d in store.case_decisions(case_id)]


async def test_unknown_steps_roles_and_cases_are_named_in_the_error(
    client: Client, task_queue: str
) -> None:
    case_id, _ = await case_at(client, task_queue, "assessment")
    with pytest.raises(cases.CaseInvalid, match="'sign' is not a step"):
        await cases.act(client, case_id, "sign", *APPROVER, {})
    with pytest.raises(cases.CaseInvalid, match="role 'boss' is not one of"):
        await cases.act(client, case_id, "approve", "x", "boss", {})
    with pytest.raises(cases.CaseNotFound):
        await cases.describe(client, "C-nope")
    with pytest.raises(cases.CaseNotFound):
        await cases.act(client, "C-nope", "approve", *APPROVER, {})
    with pytest.raises(cases.CaseInvalid, match="council"):
        await cases.start_case(client, {**examples.make_case(1).start, "council": "atlantis"})
    with pytest.raises(cases.CaseInvalid, match="person.date_of_birth"):
        start = examples.make_case(1).start
        await cases.start_case(client, {**start, "person": {**start["person"],
                                                            "date_of_birth": "soon"}})


async def test_a_step_on_a_closed_case_is_refused_and_recorded(
    client: Client, task_queue: str, store: Store
) -> None:
    state = await examples.drive(client, examples.make_case(21, path="not_eligible"), task_queue)
    await client.get_workflow_handle(state["case_id"]).result()
    with pytest.raises(cases.CaseRefused, match="closed"):
        await cases.act(client, state["case_id"], "submit_plan", *SW, {})
    for _ in range(100):
        if "update.refused" in [e.action for e in store.case_trail(state["case_id"])]:
            break
        await asyncio.sleep(0.05)
    assert "update.refused" in [e.action for e in store.case_trail(state["case_id"])]


# Issue 11: the activity that records a step checks its actor against the store. These steps are
# sent straight to Temporal, as someone bypassing the API would; the workflow's validator passes
# them (the role is one the step allows), the record activity refuses them.
FORGED: list[tuple[str, tuple[str, str], str]] = [
    ("a made-up name", ("anyone", "social_worker"), "'anyone' is not a user of the service"),
    ("a user claiming another role", ("ap-bo", "social_worker"),
     "ap-bo is signed up as approver; this step is taken by social_worker"),
    ("a user of another council", ("sw-bravo", "social_worker"),
     "sw-bravo works for council bravo, not for council demo"),
    ("a deactivated user", ("sw-gone", "social_worker"), "sw-gone may no longer sign in"),
]


@pytest.mark.parametrize(("who", "reason"), [f[1:] for f in FORGED], ids=[f[0] for f in FORGED])
async def test_a_step_whose_actor_is_not_a_user_of_the_council_is_refused_and_nothing_is_written(
    client: Client, task_queue: str, store: Store, who: tuple[str, str], reason: str
) -> None:
    if store.get_user("sw-bravo") is None:
        store.create_user("sw-bravo", "Bravo social worker", "social_worker", examples.NO_SIGN_IN,
                          council="bravo")
        store.create_user("sw-gone", "Former social worker", "social_worker", examples.NO_SIGN_IN)
        store.update_user("sw-gone", active=False)
    case_id, script = await case_at(client, task_queue, "support_planning")
    before = await cases.describe(client, case_id)
    rows_before = [e.model_dump() for e in store.case_trail(case_id, role="compliance")]
    listed_before = store.get_case(case_id, role="compliance")

    with pytest.raises(cases.CaseRefused) as refusal:
        await cases.act(client, case_id, "submit_plan", *who, script.plan)

    assert reason in refusal.value.reason
    assert await cases.describe(client, case_id) == before  # the workflow refused the step
    assert [e.model_dump() for e in store.case_trail(case_id, role="compliance")] == rows_before
    assert store.get_case(case_id, role="compliance") == listed_before
    assert who[0] not in {e.actor for e in store.case_trail(case_id)}
    # The real social worker can still take the step: the case was left as it was.
    state = await cases.act(client, case_id, "submit_plan", *SW, script.plan)
    assert state["stage"] == "sign_off"


async def test_a_case_opened_in_a_made_up_name_is_never_recorded(
    client: Client, task_queue: str, store: Store
) -> None:
    start = {**examples.make_case(23).start, "opened_by": "nobody-real"}
    case_id = await cases.start_case(client, start, task_queue=task_queue)
    from temporalio.client import WorkflowFailureError

    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(client.get_workflow_handle(case_id).result(), timeout=30)
    from carebudget.store import UnknownCase

    with pytest.raises(UnknownCase):
        store.get_case(case_id)
    assert "nobody-real" not in {e.actor for e in store.case_trail(case_id)}
