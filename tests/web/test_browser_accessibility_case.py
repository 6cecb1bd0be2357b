"""axe-core finds no critical or serious violation on the case page at each stage, as each role that
sees it (person, social worker, approver, appeals officer, and the operations and compliance views),
with the step forms open, a refused step's error and the counter-proposal check (issue 13)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from carebudget.web.app import create_app
from carebudget.web.demo_users import DEMO_PASSWORD, ensure_demo_users
from tests.web.axe import assert_accessible, needs_npm
from tests.web.conftest import make_settings
from tests.web.live import chromium, needs_chromium, serve, sign_in
from tests.web.temporal_support import TemporalThread, with_queue
from tests.web.test_case_flow import COUNTER, NEEDS, PLAN, PREDICTED, START, VERIFIED

pytestmark = [pytest.mark.browser, needs_chromium, needs_npm]
ROLES = ("person", "social_worker", "approver", "appeals_officer")


def wait_for_stage(client: httpx.Client, case_id: str, stage: str, headers: dict[str, str]) -> None:
    for _ in range(400):
        response = client.get(f"/api/cases/{case_id}", headers=headers)
        if response.status_code == 200 and response.json()["stage"] == stage:
            return
        time.sleep(0.05)
    raise AssertionError(f"case {case_id} never reached {stage}")


def test_the_case_page_at_every_stage_has_no_serious_accessibility_violation_for_any_role(
    tmp_path: Path,
) -> None:
    settings = with_queue(make_settings(tmp_path))
    store_app = create_app(settings)
    ensure_demo_users(store_app.state.store)
    temporal = TemporalThread(store_app.state.store, settings.task_queue)
    address = temporal.start()
    try:
        app = create_app(settings.model_copy(update={"temporal_address": address}),
                         store=store_app.state.store)
        with serve(app) as base, chromium() as browser, httpx.Client(base_url=base) as client:
            def token(role: str) -> dict[str, str]:
                response = client.post("/api/token", json={"username": "demo-" + role.replace("_", "-"),
                                                           "password": DEMO_PASSWORD})
                return {"Authorization": f"Bearer {response.json()['access_token']}"}

            headers = {role: token(role) for role in ROLES}
            pages = {role: sign_in(browser, base, "demo-" + role.replace("_", "-"), bypass_csp=True)
                     for role in (*ROLES, "operations", "compliance")}
            opened = client.post("/api/cases", json=START, headers=headers["social_worker"])
            assert opened.status_code == 201, opened.text
            case_id = opened.json()["case_id"]

            def every_view(stage: str) -> None:
                wait_for_stage(client, case_id, stage, headers["social_worker"])
                for role in ROLES:
                    pages[role].goto(f"{base}/cases/{case_id}")
                    for summary in pages[role].locator("main details summary").all():
                        summary.click()  # open folded parts, so axe sees them
                    assert_accessible(pages[role], f"{stage} as {role}")
                for role in ("operations", "compliance"):
                    pages[role].goto(f"{base}/{role}/cases/{case_id}")
                    assert_accessible(pages[role], f"{stage} in the {role} view")

            def step(name: str, role: str, payload: dict[str, Any]) -> None:
                response = client.post(f"/api/cases/{case_id}/steps/{name}", json=payload,
                                       headers=headers[role])
                assert response.status_code == 200, response.text

            every_view("assessment")
            worker = pages["social_worker"]
            worker.get_by_role("button", name="Verify and decide").click()  # nothing filled in: errors
            assert_accessible(worker, "verification refused beside its fields")
            step("self_assess", "person", {"needs": NEEDS, "predicted_needs": PREDICTED})
            step("verify_assessment", "social_worker", VERIFIED)
            every_view("support_planning")
            worker.get_by_role("button", name="Add another item").click()
            assert_accessible(worker, "plan with an added item")
            step("submit_plan", "social_worker", PLAN)
            every_view("sign_off")
            approver = pages["approver"]
            approver.get_by_role("button", name="Ask for changes").click()  # no reasons: refused
            assert_accessible(approver, "ask for changes refused")
            approver.get_by_text("Set a lower amount, need by need").click()
            approver.get_by_label("Proposed weekly amount (£)").fill("3")
            approver.get_by_role("button", name="Check the justification").click()
            assert_accessible(approver, "counter-proposal check")
            step("counter_propose", "approver", COUNTER)
            every_view("counter_proposal")
            step("appeal", "person", {"reasons": "The provider cannot visit in the mornings"})
            every_view("appeal")
            step("decide_appeal", "appeals_officer",
                 {"outcome": "part_uphold", "weekly_amount": "245.00", "reasons": "Mornings cost more"})
            every_view("active_budget")
            step("request_review", "person", {"reasons": "My needs have changed"})
            every_view("review")
    finally:
        temporal.stop()
