"""Issue 10 point 3: a rule bundle that fails at decision time is a permanent failure of the step.

The case is not retried forever and not wedged: the step fails with the reason, the case stays
where it was, marked "needs attention" with that reason, and the step can be taken again once
the rules are corrected. The broken rules are real files (a RAS table without its upper amounts,
which loads but cannot price a budget), read by the real registry and engine.
"""

from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.decisions import Decisions
from activities.letters import Letters
from activities.policy import Policies, bank_underspend
from activities.records import Records
from carebudget.rulebook.registry import Registry
from carebudget.service import cases, examples
from carebudget.settings import REPO_ROOT
from carebudget.store import Store
from workflows.case import STAGE, CaseWorkflow
from workflows.refusal_record import RecordRefusalWorkflow

SW = examples.SOCIAL_WORKER
LIVENESS_GUARD_S = 120  # only so a regression fails instead of hanging the suite


def broken_rules(root: Path) -> Path:
    rules = root / "rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    path = rules / "councils/demo/parameters/ras.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in data["ras.bands"]["values"].values():
        for band in entry["value"]:
            band.pop("weekly_high", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return rules


def worker_under(env: WorkflowEnvironment, queue: str, rules: Path, store: Store) -> Worker:
    """A worker whose rules folder (CAREBUDGET_RULES_DIR in a deployment) is `rules`."""
    registry = Registry(rules)
    letters = Letters(registry, store)
    records = Records(store, letters)
    decisions = Decisions(registry)
    return Worker(
        env.client, task_queue=queue, workflows=[CaseWorkflow, RecordRefusalWorkflow],
        activities=[decisions.decide, decisions.decide_in_turn, Policies(registry).council_policy,
                    bank_underspend, records.record_step, records.record_refusal,
                    letters.issue_letter, letters.issue_notice],
        activity_executor=ThreadPoolExecutor(max_workers=4),
    )


async def test_a_decision_the_rules_cannot_make_leaves_the_case_needing_attention_not_retrying(
    env: WorkflowEnvironment, store: Store, task_queue: str, tmp_path: Path
) -> None:
    client = env.client
    script = examples.make_case(31)
    async with worker_under(env, task_queue, broken_rules(tmp_path), store):
        case_id = await cases.start_case(client, script.start, task_queue=task_queue)
        await examples._wait_for_stage(client, case_id, "assessment")
        with pytest.raises(cases.CaseRefused) as failed:
            await asyncio.wait_for(
                cases.act(client, case_id, "verify_assessment", *SW, script.verification),
                LIVENESS_GUARD_S,
            )
        assert "could not make the indicative-budget decision" in failed.value.reason
        assert "weekly_high" in failed.value.reason
        state = await cases.describe(client, case_id)
        assert state["stage"] == "assessment" and state["pending_step"] is None
        assert "could not make the indicative-budget decision" in state["needs_attention"]
        # Operations' search finds it where it is, not at a stage the failed step passed through.
        found = await client.get_workflow_handle(case_id).describe()
        assert found.typed_search_attributes.get(STAGE) == "assessment"

    # A policy officer corrects the rules: the same step now goes through.
    async with worker_under(env, task_queue, REPO_ROOT / "rules", store):
        done = await asyncio.wait_for(
            cases.act(client, case_id, "verify_assessment", *SW, script.verification),
            LIVENESS_GUARD_S,
        )
        assert done["stage"] == "support_planning"
        assert (await cases.describe(client, case_id))["needs_attention"] == ""


def rules_with_a_broken_letter(root: Path) -> Path:
    """The shipped rules, with the council's own financial assessment letter naming a figure the
    letter is not given (a template error, found only when the letter is rendered)."""
    rules = root / "letter-rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    (rules / "councils/demo/letters/financial_assessment.html.j2").write_text(
        "<p>You pay {{ no_such_figure }} a week.</p>", encoding="utf-8")
    return rules


async def test_a_letter_the_templates_cannot_produce_leaves_the_step_done_and_says_why(
    env: WorkflowEnvironment, store: Store, task_queue: str, tmp_path: Path
) -> None:
    client = env.client
    script = examples.make_case(32)
    async with worker_under(env, task_queue, rules_with_a_broken_letter(tmp_path), store):
        case_id = await cases.start_case(client, script.start, task_queue=task_queue)
        await examples._wait_for_stage(client, case_id, "assessment")
        done = await asyncio.wait_for(
            cases.act(client, case_id, "verify_assessment", *SW, script.verification),
            LIVENESS_GUARD_S,
        )
    assert done["stage"] == "support_planning"  # the step stands
    failed = [e for e in done["timeline"] if e["action"] == "letter.failed"]
    assert len(failed) == 1
    assert failed[0]["summary"].startswith("The financial assessment letter could not be produced: ")
    assert "'demo'" in failed[0]["summary"] and "no_such_figure" in failed[0]["summary"]
    # The other letters of the step were issued, each once, with the step's record before them.
    assert sorted(m.kind for m in store.case_letters(case_id)) == ["eligibility", "indicative_budget"]
    trail = [e.action for e in store.case_trail(case_id, role="compliance")]
    assert trail.index("assessment.verified") < trail.index("letter.issued")


def rules_without_charging_allowances(root: Path) -> Path:
    """The shipped rules with every minimum income guarantee and personal expenses allowance not
    confirmed (null, grade NC) and the council's own figures withdrawn: a charge cannot be worked
    out, though every other decision still can."""
    rules = root / "charge-rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    path = rules / "england/parameters/allowances.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name, entry in data.items():
        if name.startswith(("mig.", "personal_expenses_allowance")):
            for value in entry["values"].values():
                value.update(value=None, grade="NC")
                value.pop("derivation", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (rules / "councils/demo/parameters/charging.yaml").write_text("{}\n", encoding="utf-8")
    return rules


async def test_an_approval_whose_charge_cannot_be_decided_leaves_no_approval_on_the_ledger(
    env: WorkflowEnvironment, store: Store, task_queue: str, tmp_path: Path
) -> None:
    """A sign-off's own event is written with the budget it leads to, after the charge decision:
    when that decision fails the case stays at sign-off and the ledger holds no approval for a
    step that did not happen; taken again, the approval is written once."""
    client = env.client
    script = examples.make_case(33, path="approve")
    approver = examples.APPROVER
    async with worker_under(env, task_queue, REPO_ROOT / "rules", store):
        case_id = await cases.start_case(client, script.start, task_queue=task_queue)
        await examples._wait_for_stage(client, case_id, "assessment")
        await cases.act(client, case_id, "verify_assessment", *SW, script.verification)
        await cases.act(client, case_id, "submit_plan", *SW, script.plan)
    async with worker_under(env, task_queue, rules_without_charging_allowances(tmp_path), store):
        with pytest.raises(cases.CaseRefused) as failed:
            await asyncio.wait_for(
                cases.act(client, case_id, "approve", *approver, {"note": "Meets the needs"}),
                LIVENESS_GUARD_S,
            )
        assert "missing parameter" in failed.value.reason
        state = await cases.describe(client, case_id)
        assert state["stage"] == "sign_off" and state["sign_off"] is None
    trail = [e.action for e in store.case_trail(case_id)]
    assert "plan.approved" not in trail and "budget.active" not in trail
    async with worker_under(env, task_queue, REPO_ROOT / "rules", store):
        done = await asyncio.wait_for(
            cases.act(client, case_id, "approve", *approver, {"note": "Meets the needs"}),
            LIVENESS_GUARD_S,
        )
    assert done["stage"] == "active_budget"
    trail = [e.action for e in store.case_trail(case_id)]
    assert trail.count("plan.approved") == 1 and trail.count("budget.active") == 1
    assert trail.index("plan.approved") < trail.index("budget.active")
