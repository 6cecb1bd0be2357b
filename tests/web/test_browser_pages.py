"""In a real browser: operations find an overdue case and its timeline; compliance reads the
decision trail, replays a decision and verifies the ledger. Screenshots go to docs/screenshots."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from carebudget.web.app import create_app
from tests.web.conftest import ASSESSMENT_FACTS, make_settings
from tests.web.live import chromium, needs_chromium, serve, shot, sign_in

pytestmark = [pytest.mark.browser, needs_chromium]


def seed(app: object) -> str:
    from carebudget.decisions import decide_with_bundle
    from carebudget.rulebook import get_registry

    store = app.state.store  # type: ignore[attr-defined]
    today = date.today()
    stages = [
        "assessment",
        "support_planning",
        "sign_off",
        "counter_proposal",
        "appeal",
        "active_budget",
    ]
    for i in range(24):
        case_id = f"DEMO-{1000 + i}"
        store.upsert_case(
            f"{case_id}:open",
            case_id,
            {
                "council": "demo",
                "stage": stages[i % len(stages)],
                "opened": today - timedelta(days=40 + i),
                "due": today + timedelta(days=(i * 5) - 30),
                "assigned_to": f"worker-{i % 4 + 1}",
                "amounts": {"indicative_budget": f"{120 + i * 10}.00"},
                "name": f"Person {i}",
            },
            "system",
            "system",
        )
    case_id = "DEMO-1001"
    store.append_event(
        f"{case_id}:a", case_id, "demo-person", "person", "update.accepted", {"step": "self_assess"}
    )
    store.append_event(
        f"{case_id}:b",
        case_id,
        "demo-social-worker",
        "social_worker",
        "update.accepted",
        {"step": "verify_assessment"},
    )
    on = today
    bundle = get_registry(app.state.settings.rules_dir).bundle("demo", on)  # type: ignore[attr-defined]
    record = decide_with_bundle("assessment", bundle, on, ASSESSMENT_FACTS)
    store.record_decision(
        f"{case_id}:assessment",
        case_id,
        "assessment",
        record,
        "demo-social-worker",
        "social_worker",
        bundle_content=bundle.content,
    )
    return case_id


def test_operations_and_compliance_work_through_their_pages(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    case_id = seed(app)
    with serve(app) as base, chromium() as browser:
        page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
        page.goto(f"{base}/operations")
        assert page.url.startswith(f"{base}/sign-in")
        shot(page, "sign-in")

        ops = sign_in(browser, base, "demo-operations")
        assert ops.url == f"{base}/operations"
        first_row = ops.locator("tbody tr").first
        assert "OVERDUE" in first_row.inner_text().upper()  # overdue first
        shot(ops, "operations-list")
        ops.get_by_label("Stage", exact=True).select_option("sign_off")
        ops.get_by_role("button", name="Show cases").click()
        assert all("Sign-off" in row for row in ops.locator("tbody tr").all_inner_texts())
        ops.get_by_label("Find a case by reference").fill(case_id)
        ops.get_by_role("button", name="Show cases").click()
        assert ops.url.endswith(f"/operations/cases/{case_id}")
        assert "verify assessment" in ops.content() or "update accepted" in ops.content()
        assert (
            ops.get_by_role("link", name="Open this case's workflow in the Temporal UI").count()
            == 1
        )
        shot(ops, "operations-case")

        comp = sign_in(browser, base, "demo-compliance")
        comp.get_by_role("button", name="Verify the ledger now").click()
        assert "Intact" in comp.content()
        comp.get_by_label("Case id").fill(case_id)
        comp.get_by_role("button", name="Show decision trail").click()
        assert "SI 2015/313" in comp.content()
        comp.get_by_role("button", name="Replay this decision").click()
        assert "gives exactly the recorded decision" in comp.locator("#replay-result").inner_text()
        shot(comp, "compliance-trail")
        with comp.expect_download() as download:
            comp.get_by_role("link", name="Export CSV").click()
        assert download.value.suggested_filename == f"{case_id}-trail.csv"
