"""In a real browser, across five people: a person self-assesses, a social worker verifies and
plans at the council's rates, an approver counter-proposes (a nonsense justification is refused
need by need; a genuine cheaper alternative at local rates is accepted), the person appeals, an appeals officer part-upholds, and the person sees their budget."""

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
            worker.get_by_role("group", name="Can the person make decisions about care and money?").get_by_label("Yes").check()
            worker.get_by_role("group", name="Who should arrange the care?").get_by_label("The council").check()
            worker.get_by_label("The person's username, if they will sign in").fill("demo-person")
            worker.get_by_role("button", name="Start the case").click()
            case_id = re.search(r"/cases/([^/?#]+)$", worker.url).group(1)  # type: ignore[union-attr]

            person = sign_in(browser, base, "demo-person")
            # The person finds the case on their own list (issue 13), without typing a reference.
            for _ in range(100):
                person.goto(f"{base}/my-case")
                if person.locator(f'a[href="/cases/{case_id}"]').count():
                    break
                time.sleep(0.1)
            person.locator(f'a[href="/cases/{case_id}"]').click()
            open_case(person, base, case_id, "Needs assessment")  # the person sees no clause numbers
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
            worker.get_by_label("Weekly cost of the care needed (£)").fill("252.35")
            for need, provision, units in (("nutrition", "home_care_hour", "4"),
                                           ("personal_hygiene", "home_care_hour", "5"),
                                           ("home_safety", "telecare_week", "1")):
                worker.locator("#" + field_id(f"support-{need}-provision")).select_option(provision)
                worker.locator("#" + field_id(f"support-{need}-units")).fill(units)
            worker.get_by_role("button", name="Verify and decide").click()
            assert "verified" in worker.content(), worker.locator("main").inner_text()[:1500]
            open_case(worker, base, case_id, "Support planning (s25)")
            assert "Indicative budget" in worker.content()
            rows = [
                ("nutrition", "home_care_hour", "4", "27.40"),
                ("personal_hygiene", "home_care_hour", "5", "27.40"),
                ("home_safety", "telecare_week", "1", "5.75"),
            ]
            for i, (need, provision, units, cost) in enumerate(rows):
                worker.locator("#" + field_id(f"item-{i}-outcome")).select_option(need)
                worker.locator("#" + field_id(f"item-{i}-provision")).select_option(provision)
                worker.locator("#" + field_id(f"item-{i}-units")).fill(units)
                worker.locator("#" + field_id(f"item-{i}-unit_cost")).fill(cost)
            # What the person wanted that the plan does not give: chosen from the rate card.
            worker.locator("#" + field_id("unmet-0-outcome")).select_option("community_facilities")
            worker.locator("#" + field_id("unmet-0-provision")).select_option("day_opportunity_session")
            worker.locator("#" + field_id("unmet-0-units")).fill("2")
            worker.locator("#" + field_id("unmet-0-words")).fill("A day centre nearer home")
            shot(worker, "social-worker-plan")
            worker.get_by_role("button", name="Send the plan for sign-off").click()

            approver = sign_in(browser, base, "demo-approver")
            open_case(approver, base, case_id, "Sign-off (s24-26)")
            assert "252.35" in approver.content()
            assert "day opportunity session, 2 a week (A day centre nearer home)" in approver.content()

            def justify(amount: str, lines: list[tuple[str, str, str, str, str]]) -> None:
                approver.get_by_label("Proposed weekly amount (£)").fill(amount)
                for need, provision, units, cost, reason in lines:
                    key = f"just-{need}-0"
                    approver.locator("#" + field_id(f"{key}-provision")).select_option(provision)
                    approver.locator("#" + field_id(f"{key}-units")).fill(units)
                    approver.locator("#" + field_id(f"{key}-unit_cost")).fill(cost)
                    approver.locator("#" + field_id(f"{key}-reason")).fill(reason)
                approver.get_by_role("button", name="Check the justification").click()

            # Three pounds, telecare "for" nutrition, one pound a unit, reason "x": refused, need by need.
            approver.get_by_text("Set a lower amount, need by need").click()
            justify("3", [("nutrition", "telecare_week", "1", "1", "x")])
            assert approver.get_by_role("button", name="Send the counter-proposal").count() == 0
            check = approver.locator("#counter-check ~ table").first.inner_text()
            assert "does not list as meeting it" in check
            assert "below the council's own local rate" in check
            assert "no written reason" in check
            assert "maintaining personal hygiene has no justification" in check
            assert "predicted within the next 12 months, has no justification" in check
            assert "It cannot be sent until every need is covered" in approver.content()
            # A genuine cheaper alternative at the card's rates: a personal assistant.
            reason = "A personal assistant employed with a direct payment gives the same hours."
            justify("156.95", [
                ("nutrition", "personal_assistant_hour", "4", "16.80", reason),
                ("personal_hygiene", "personal_assistant_hour", "5", "16.80", reason),
                ("home_safety", "telecare_week", "1", "5.75", "The telecare alarm is kept as assessed."),
            ])
            assert "Every need is covered" in approver.content(), approver.locator("main").inner_text()[:2000]
            shot(approver, "approver-counter-proposal")
            approver.get_by_role("button", name="Send the counter-proposal").click()

            open_case(person, base, case_id, "Counter-proposal")
            assert "£156.95" in person.content()
            letter = person.locator("#counter-letter").inner_text()
            assert "A personal assistant employed with a direct payment" in letter
            assert "£27.40" in letter and "£16.80" in letter
            person.get_by_text("The council's rate card: what support costs locally").click()
            assert "Telecare alarm and monitoring" in person.locator("#rate-card").inner_text()
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

            open_case(person, base, case_id, "Active budget")
            statement = person.locator("#statement").inner_text()
            assert "£245.00 a week" in statement
            shot(person, "person-budget-statement")

            ops = sign_in(browser, base, "demo-operations")
            ops.goto(f"{base}/operations/cases/{case_id}")
            assert "appeal" in ops.content()
    finally:
        temporal.stop()
