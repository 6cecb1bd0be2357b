"""In a real browser, across five people: a person self-assesses, a social worker verifies and
plans, an approver counter-proposes (the justification is checked need by need before it can be
sent), the person appeals, an appeals officer part-upholds, and the person sees their budget."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from carebudget.web.app import create_app
from carebudget.web.demo_users import ensure_demo_users
from carebudget.web.forms import field_id
from tests.web.conftest import make_settings
from tests.web.live import chromium, needs_chromium, serve, shot, sign_in
from tests.web.temporal_support import TemporalThread, with_queue

pytestmark = [pytest.mark.browser, needs_chromium]


def open_case(page: Any, base: str, case_id: str, stage_heading: str) -> None:
    """Open the case page, reloading while the workflow finishes the previous step."""
    for _ in range(100):
        page.goto(f"{base}/cases/{case_id}")
        if page.locator("h1").inner_text() == stage_heading:
            return
        time.sleep(0.1)
    raise AssertionError(
        f"{case_id} never reached {stage_heading}: {page.locator('h1').inner_text()}"
    )


def test_a_case_walks_from_self_assessment_through_counter_proposal_and_appeal_to_a_budget(
    tmp_path: Path,
) -> None:
    settings = with_queue(make_settings(tmp_path))
    store_app = create_app(settings)  # the store the worker writes to: the app's own database
    ensure_demo_users(store_app.state.store)
    temporal = TemporalThread(store_app.state.store, settings.task_queue)
    address = temporal.start()
    try:
        app = create_app(
            settings.model_copy(update={"temporal_address": address}), store=store_app.state.store
        )
        with serve(app) as base, chromium() as browser:
            worker = sign_in(browser, base, "demo-social-worker")
            worker.goto(f"{base}/cases/new")
            worker.get_by_label("Full name").fill("Ada Lovelace")
            worker.get_by_label("Date of birth").fill("1950-03-01")
            worker.get_by_label("The person's username, if they will sign in").fill("demo-person")
            worker.get_by_role("button", name="Start the case").click()
            case_id = re.search(r"/cases/([^/?#]+)$", worker.url).group(1)  # type: ignore[union-attr]

            person = sign_in(browser, base, "demo-person")
            person.get_by_label("Case reference").fill(case_id)
            person.get_by_role("button", name="Show my case").click()
            open_case(person, base, case_id, "Needs assessment (s9)")
            for box in (
                "now-nutrition-needs_assistance",
                "now-personal_hygiene-needs_assistance",
                "now-wb-yes",
                "soon-home_safety-endangers_health_safety",
                "soon-wb-yes",
            ):
                person.locator(f"#{box}").check()
            shot(person, "person-self-assessment")
            person.get_by_role("button", name="Send my answers").click()
            assert "Thank you" in person.content()

            open_case(worker, base, case_id, "Needs assessment (s9)")
            assert worker.locator(
                "#now-nutrition-needs_assistance"
            ).is_checked()  # the person's answers
            worker.get_by_label("Savings and capital (£)").fill("9000")
            worker.get_by_label("Weekly income after disregards (£)").fill("240")
            worker.get_by_label("Weekly cost of the care needed (£)").fill("260")
            worker.get_by_role("button", name="Verify and decide").click()
            assert "verified" in worker.content(), worker.locator("main").inner_text()[:1500]
            open_case(worker, base, case_id, "Support planning (s25)")
            assert "Indicative budget" in worker.content()
            rows = [
                ("nutrition", "Meal preparation visits", "80"),
                ("personal_hygiene", "Morning personal care", "140"),
                ("home_safety", "Telecare and falls alarm", "40"),
            ]
            for i, (need, provision, cost) in enumerate(rows):
                worker.locator("#" + field_id(f"item-{i}-need")).select_option(need)
                worker.locator("#" + field_id(f"item-{i}-provision")).fill(provision)
                worker.locator("#" + field_id(f"item-{i}-weekly_cost")).fill(cost)
            worker.get_by_label("Unmet needs (one per line)").fill("A day centre nearer home")
            shot(worker, "social-worker-plan")
            worker.get_by_role("button", name="Send the plan for sign-off").click()

            approver = sign_in(browser, base, "demo-approver")
            open_case(approver, base, case_id, "Sign-off (s24-26)")
            approver.get_by_text("Set a lower amount, need by need").click()
            approver.get_by_label("Proposed weekly amount (£)").fill("230")
            for need, provision, cost in (
                ("nutrition", "Framework meals", "70"),
                ("personal_hygiene", "Framework care", "125"),
            ):
                approver.locator("#" + field_id(f"just-{need}-provision")).fill(provision)
                approver.locator("#" + field_id(f"just-{need}-weekly_cost")).fill(cost)
                approver.locator("#" + field_id(f"just-{need}-reason")).fill(
                    "Framework rate for the same outcome"
                )
            approver.get_by_role("button", name="Check the justification").click()
            assert approver.get_by_role("button", name="Send the counter-proposal").count() == 0
            assert "It cannot be sent until every need is covered" in approver.content()
            approver.locator("#" + field_id("just-home_safety-provision")).fill("Telecare")
            approver.locator("#" + field_id("just-home_safety-weekly_cost")).fill("35")
            approver.locator("#" + field_id("just-home_safety-reason")).fill(
                "Council contract price"
            )
            approver.get_by_role("button", name="Check the justification").click()
            shot(approver, "approver-counter-proposal")
            approver.get_by_role("button", name="Send the counter-proposal").click()

            open_case(person, base, case_id, "Counter-proposal (s26)")
            assert "£230.00" in person.content()
            person.get_by_label("Reasons").fill(
                "The framework provider cannot visit in the mornings"
            )
            person.get_by_role("button", name="Appeal").click()

            officer = sign_in(browser, base, "demo-appeals-officer")
            open_case(officer, base, case_id, "Appeal")
            officer.get_by_label("Decision").select_option("part_uphold")
            officer.get_by_label("New weekly amount if part-upheld (£)").fill("245")
            officer.get_by_label("Reasons (the person is told them in writing)").fill(
                "Mornings cost more"
            )
            officer.get_by_role("button", name="Decide the appeal").click()

            open_case(person, base, case_id, "Active budget (s26)")
            statement = person.locator("#statement").inner_text()
            assert "£245.00 a week" in statement
            shot(person, "person-budget-statement")

            ops = sign_in(browser, base, "demo-operations")
            ops.goto(f"{base}/operations/cases/{case_id}")
            assert "appeal" in ops.content()
    finally:
        temporal.stop()
