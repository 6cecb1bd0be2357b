"""In a real browser: an operations officer opens each report; chart and table side by side.
Screenshots go to docs/screenshots only with CAREBUDGET_WRITE_SCREENSHOTS=1."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bench.caseload import generate
from carebudget.reports import KINDS
from carebudget.web.app import create_app
from tests.web.conftest import make_settings
from tests.web.live import chromium, needs_chromium, serve, shot, sign_in

pytestmark = [pytest.mark.browser, needs_chromium]


def test_each_report_page_shows_its_chart_table_bundles_and_range(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    with serve(app) as base, chromium() as browser:
        generate(app.state.store, 150, date.today())
        app.state.store.save_policy_change({
            "id": "whatif1", "council": "demo", "path": "parameters/rates.yaml", "kind": "change", "status": "draft",
            "proposed_at": date.today().isoformat() + "T09:00:00+00:00",
            "whatif": {"cases": 150, "total_weekly_change": "2400.00"}})
        page = sign_in(browser, base, "demo-operations")
        page.get_by_role("link", name="Reports").click()
        for kind, label in KINDS.items():
            page.goto(f"{base}/reports")
            page.get_by_role("link", name=label, exact=True).click()
            assert page.url.startswith(f"{base}/reports/{kind}?council=demo")
            assert page.get_by_role("heading", level=1).inner_text() == label
            assert page.locator("svg.chart").count() >= 1 and page.locator("table tbody tr").count() >= 1
            assert "Rules bundles of the decisions in this range" in page.content()
            if kind == "finance":  # a finance director sets a rule change against the annual budget
                page.get_by_label("Annual budget (£)").fill("25000000")
                page.get_by_role("button", name="Show").click()
                section = page.locator("section", has_text="Policy changes against the annual budget")
                assert "the stated annual budget of 25,000,000.00" in section.inner_text()
                assert "124800.00" in section.inner_text()  # 2,400.00 a week, a year
            shot(page, f"report-{kind}")
        page.get_by_label("From").fill("2030-01-01")
        page.get_by_label("To").fill("2029-01-01")
        page.get_by_role("button", name="Show").click()
        assert "after it ends" in page.content()
