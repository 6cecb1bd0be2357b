"""In a real browser: the plan editor takes any number of items. With its script (a static file,
under the page's CSP) rows are added and removed in place and the total is checked against the
indicative range as it is typed; without JavaScript "Add another item" asks the server for a row,
and the total and the warning come back with the page (issue 13 point 6)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from carebudget.web.app import create_app
from carebudget.web.demo_users import DEMO_PASSWORD, ensure_demo_users
from carebudget.web.forms import field_id
from tests.web.conftest import make_settings
from tests.web.live import chromium, needs_chromium, serve, sign_in
from tests.web.temporal_support import TemporalThread, with_queue
from tests.web.test_case_flow import START, VERIFIED

pytestmark = [pytest.mark.browser, needs_chromium]
NEEDS = ("nutrition", "personal_hygiene", "home_safety")


def fill(page: Any, i: int, need: str, units: str, cost: str) -> None:
    page.locator("#" + field_id(f"item-{i}-outcome")).select_option(need)
    page.locator("#" + field_id(f"item-{i}-provision")).select_option("home_care_hour")
    page.locator("#" + field_id(f"item-{i}-units")).fill(units)
    page.locator("#" + field_id(f"item-{i}-unit_cost")).fill(cost)


def test_a_plan_of_any_length_with_and_without_javascript_and_a_warning_outside_the_range(
    tmp_path: Path,
) -> None:
    settings = with_queue(make_settings(tmp_path))
    store_app = create_app(settings)
    ensure_demo_users(store_app.state.store)
    temporal = TemporalThread(store_app.state.store, settings.task_queue)
    address = temporal.start()
    try:
        app = create_app(settings.model_copy(update={"temporal_address": address}), store=store_app.state.store)
        with serve(app) as base, chromium() as browser, httpx.Client(base_url=base) as client:
            reply = client.post("/api/token", json={"username": "demo-social-worker", "password": DEMO_PASSWORD})
            sw = {"Authorization": f"Bearer {reply.json()['access_token']}"}

            def case_at_planning() -> str:
                case_id = str(client.post("/api/cases", json=START, headers=sw).json()["case_id"])
                for _ in range(400):
                    if client.get(f"/api/cases/{case_id}", headers=sw).json().get("stage") == "assessment":
                        break
                    time.sleep(0.05)
                reply = client.post(f"/api/cases/{case_id}/steps/verify_assessment", json=VERIFIED, headers=sw)
                assert reply.status_code == 200, reply.text
                return case_id

            def plan_items(case_id: str) -> list[dict[str, Any]]:
                for _ in range(400):
                    state = client.get(f"/api/cases/{case_id}", headers=sw).json()
                    if state["stage"] == "sign_off":
                        return list(state["plan"]["items"])
                    time.sleep(0.05)
                raise AssertionError("the plan never reached sign-off")

            # With the script: nine rows added in place, one removed, the warning follows the total.
            scripted = case_at_planning()
            page = sign_in(browser, base, "demo-social-worker")
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/cases/{scripted}")
            table = page.locator("table[data-plan-editor]")
            low, high = float(table.get_attribute("data-low")), float(table.get_attribute("data-high"))
            for _ in range(3):
                page.get_by_role("button", name="Add another item").click()
            assert page.url.endswith(f"/cases/{scripted}")  # no round trip: the rows came from the script
            assert table.locator("tbody tr").count() == 9
            for i in range(9):
                fill(page, i, NEEDS[i % 3], "1", "10.00")
            assert page.locator("#plan-total").inner_text() == "Total so far: £90.00 a week."
            assert page.locator("#plan-range-warning").is_visible() == (not low <= 90 <= high)
            fill(page, 8, "home_safety", "100", "27.40")
            assert page.locator("#plan-range-warning").is_visible()
            assert "is outside the indicative range" in page.locator("#plan-range-warning").inner_text()
            page.get_by_role("button", name="Remove item 9").click()
            assert page.locator("#plan-total").inner_text() == "Total so far: £80.00 a week."
            page.get_by_role("button", name="Send the plan for sign-off").click()
            items = plan_items(scripted)
            assert len(items) == 8 and all(i["units"] in ("1", "1.00") for i in items), items
            assert not [e for e in errors if "Content Security Policy" in e], errors

            # Without JavaScript: the server adds the row, and says the total and the warning.
            plain = case_at_planning()
            context = browser.new_context(java_script_enabled=False)
            page = context.new_page()
            page.goto(f"{base}/sign-in")
            page.get_by_label("Username").fill("demo-social-worker")
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{base}/cases/{plain}")
            for i in range(6):
                fill(page, i, NEEDS[i % 3], "1", "10.00")
            page.get_by_role("button", name="Add another item").click()
            fill(page, 6, "nutrition", "200", "27.40")
            page.get_by_role("button", name="Add another item").click()
            assert page.locator("table[data-plan-editor] tbody tr").count() == 8
            assert page.locator("#plan-total").inner_text() == "Total so far: £5540.00 a week."
            assert page.locator("#plan-range-warning").is_visible()
            page.get_by_role("button", name="Send the plan for sign-off").click()
            assert len(plan_items(plain)) == 7
    finally:
        temporal.stop()
