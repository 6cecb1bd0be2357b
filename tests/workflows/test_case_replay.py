"""Saved histories of every stage replay against the current workflow code.

A change to workflows/case.py that would break running cases (a different command at the same
point in history) fails here; make such changes behind `workflow.patched`. To add histories of a
new stage, run with CAREBUDGET_WRITE_HISTORIES=1 and commit the files it writes.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from carebudget.service import cases, examples
from carebudget.service.codec import data_converter
from carebudget.store import Store
from workflows.case import CaseWorkflow
from workflows.refusal_record import RecordRefusalWorkflow

HISTORIES = Path(__file__).parent / "histories"
STAGES = (
    "assessment", "assessment_overdue", "closed_not_eligible", "support_planning",
    "sign_off_after_changes", "counter_proposal", "counter_proposal_refused", "appeal",
    "active_budget_approved", "active_budget_after_appeal", "active_budget_counter_stood",
    "review_light_touch_done", "review_requested", "annual_review_first_run",
    "annual_review_continued",
)


# Histories written by each earlier version of the workflow code, kept so cases still running on
# it keep replaying: v1 ran decisions and records as ordinary activities (before LOCAL_ACTIVITIES);
# v2 sent free-text plans and counter-proposals (before the rate card, issue 9); v3 issued no
# letters (before LETTERS, issue 13); v4 issued each letter as a local activity of its own after
# the step's record (before LETTERS_WITH_RECORD); v5 made a verification's decisions in two rounds
# of local activities and wrote a sign-off's own event in a round of its own (before STEP_ROUNDS);
# v6 asked each change as it came to it, one marker per change in each run (before ALL_CHANGES).
VERSIONS = ("v1", "v2", "v3", "v4", "v5", "v6", ".")


@pytest.mark.parametrize("version", VERSIONS)
def test_there_is_a_saved_history_for_every_stage(version: str) -> None:
    assert sorted(p.stem for p in (HISTORIES / version).glob("*.json")) == sorted(STAGES)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", STAGES)
async def test_a_saved_history_replays_with_the_current_workflow_code(
    version: str, name: str
) -> None:
    text = (HISTORIES / version / f"{name}.json").read_text()
    history = WorkflowHistory.from_json(f"replay-{name}", text)
    replayer = Replayer(
        workflows=[CaseWorkflow, RecordRefusalWorkflow], data_converter=data_converter()
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


@pytest.mark.skipif(not os.environ.get("CAREBUDGET_WRITE_HISTORIES"), reason="writes histories")
async def test_write_histories_of_every_stage(
    skipping_env: WorkflowEnvironment, store: Store
) -> None:
    from worker import build_worker

    client, queue = skipping_env.client, f"histories-{uuid.uuid4().hex[:8]}"
    HISTORIES.mkdir(exist_ok=True)
    async with build_worker(client, queue, store=store):
        saved = await _drive_every_stage(client, queue, skipping_env)
    for name, (case_id, run_id) in saved.items():
        history = await client.get_workflow_handle(case_id, run_id=run_id).fetch_history()
        (HISTORIES / f"{name}.json").write_text(history.to_json())
    assert sorted(saved) == sorted(STAGES)


async def _drive_every_stage(
    client: Client, queue: str, env: WorkflowEnvironment
) -> dict[str, tuple[str, str | None]]:
    sw, approver, person = examples.SOCIAL_WORKER, examples.APPROVER, ("person-0-{n}", "person")
    saved: dict[str, tuple[str, str | None]] = {}

    async def case(n: int, path: examples.Path) -> tuple[str, examples.CaseScript]:
        script = examples.make_case(n, path=path)
        case_id = await cases.start_case(client, script.start, task_queue=queue)
        await examples._wait_for_stage(client, case_id, "assessment")
        return case_id, script

    def who(n: int) -> tuple[str, str]:
        return (person[0].format(n=n), person[1])

    case_id, script = await case(1, "approve")
    await cases.act(client, case_id, "self_assess", *who(1), script.self_assessment)
    saved["assessment"] = (case_id, None)
    case_id, script = await case(2, "approve")
    await cases.act(client, case_id, "verify_assessment", *sw, script.verification)
    saved["support_planning"] = (case_id, None)
    case_id, script = await case(3, "changes_then_approve")
    await cases.act(client, case_id, "verify_assessment", *sw, script.verification)
    await cases.act(client, case_id, "submit_plan", *sw, script.plan)
    await cases.act(client, case_id, "request_changes", *approver, {"reasons": "Costs?"})
    await cases.act(client, case_id, "submit_plan", *sw, script.plan)
    saved["sign_off_after_changes"] = (case_id, None)
    for name, n, path in (("counter_proposal", 4, "counter_accept"),
                          ("counter_proposal_refused", 5, "counter_accept"),
                          ("appeal", 6, "counter_appeal")):
        case_id, script = await case(n, path)
        await cases.act(client, case_id, "verify_assessment", *sw, script.verification)
        await cases.act(client, case_id, "submit_plan", *sw, script.plan)
        if name == "counter_proposal_refused":
            short = {**script.counter["proposal"], "justifications": []}
            with pytest.raises(cases.CaseRefused):
                await cases.act(client, case_id, "counter_propose", *approver, {"proposal": short})
        await cases.act(client, case_id, "counter_propose", *approver, script.counter)
        if name == "appeal":
            await cases.act(client, case_id, "appeal", *who(n), {"reasons": "Not enough"})
        saved[name] = (case_id, None)
    for name, n, path in (("closed_not_eligible", 7, "not_eligible"),
                          ("active_budget_approved", 8, "approve"),
                          ("active_budget_after_appeal", 9, "counter_appeal"),
                          ("active_budget_counter_stood", 10, "counter_stands"),
                          ("review_requested", 11, "approve"),
                          ("review_light_touch_done", 12, "approve"),
                          ("annual_review_first_run", 13, "approve")):
        state = await examples.drive(client, examples.make_case(n, path=path), queue)
        saved[name] = (state["case_id"], None)
    await cases.act(client, saved["review_requested"][0], "request_review", *who(11),
                    {"reasons": "Changed"})
    overdue_id, _ = await case(14, "approve")
    saved["assessment_overdue"] = (overdue_id, None)
    first_run = (await client.get_workflow_handle(saved["annual_review_first_run"][0])
                 .describe()).run_id
    await env.sleep(timedelta(days=43))  # appeal window, light-touch reviews, assessment due
    await cases.act(client, saved["review_light_touch_done"][0], "complete_review", *sw,
                    {"underspend": "50.00"})
    await cases.act(client, saved["annual_review_first_run"][0], "complete_review", *sw, {})
    light = saved["review_light_touch_done"][0]
    saved["review_light_touch_done"] = (
        light, (await client.get_workflow_handle(light).describe()).run_id
    )
    await env.sleep(timedelta(days=300))  # the yearly review: continue-as-new
    annual = saved["annual_review_first_run"][0]
    saved["annual_review_first_run"] = (annual, first_run)
    saved["annual_review_continued"] = (annual, None)
    return saved
