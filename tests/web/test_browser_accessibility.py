"""axe-core finds no critical or serious violation on any page, as every role that sees it: sign-in,
case lists, the person's space, operations, caseloads, compliance, policy, reports, users, forms
with errors and error pages (issue 13). The case page at each stage is in
test_browser_accessibility_case.py (it needs Temporal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from carebudget.reports import KINDS
from carebudget.web.app import create_app
from tests.web.axe import assert_accessible, needs_npm
from tests.web.conftest import make_settings
from tests.web.live import chromium, needs_chromium, serve, sign_in
from tests.web.test_browser_pages import seed
from tests.web.test_caseload_pages import open_case

pytestmark = [pytest.mark.browser, needs_chromium, needs_npm]

# role -> pages it can see (no Temporal needed: case pages are in the other module)
PAGES: dict[str, list[str]] = {
    "person": ["/my-case", "/cases/new"],
    "social_worker": ["/cases?mine=true", "/cases", "/cases?unallocated=true", "/cases/new",
                      "/cases?q=nobody-has-this-name"],
    "approver": ["/cases?stage=sign_off"],
    "appeals_officer": ["/cases?stage=appeal"],
    "operations": ["/operations", "/operations?overdue=true&size=5&page=2", "/operations/cases/DEMO-1001",
                   "/reports", *(f"/reports/{kind}" for kind in KINDS)],
    "compliance": ["/compliance", "/compliance/cases/DEMO-1001", "/reports"],
    "policy_admin": ["/policy", "/policy/try", "/policy/diff?council=demo&from=2020-01-01&to=2030-01-01",
                     "/policy/diff?council=demo&from=not-a-date&to=", "/reports"],
    "admin": ["/admin/users"],
}


def check(page: Any, base: str, path: str) -> None:
    page.goto(base + path)
    assert_accessible(page, path)


def test_every_page_each_role_sees_has_no_serious_accessibility_violation(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    seed(app)
    mine = open_case(app.state.store, "Demo Person", person_user="demo-person")
    with serve(app) as base, chromium() as browser:
        anonymous = browser.new_context(bypass_csp=True).new_page()
        check(anonymous, base, "/sign-in")
        anonymous.get_by_label("Username").fill("nobody")
        anonymous.get_by_label("Password").fill("wrong")
        anonymous.get_by_role("button", name="Sign in").click()
        assert_accessible(anonymous, "sign-in refused")
        check(anonymous, base, "/no-such-page")

        for role, paths in PAGES.items():
            page = sign_in(browser, base, "demo-" + role.replace("_", "-"), bypass_csp=True)
            for path in paths:
                check(page, base, path)
            if role == "person":
                page.goto(base + "/my-case")
                assert mine in page.content()
                page.get_by_text("Have a reference from your social worker?").click()
                page.get_by_role("button", name="Show the case").click()
                assert_accessible(page, "my-case with an error")
                check(page, base, "/operations")  # a page the role may not see
                check(page, base, f"/cases/{mine}")  # Temporal is not running here: the error page
            if role == "social_worker":
                page.goto(base + "/cases/new")
                page.get_by_label("Date of birth").fill("1800-01-01")
                page.get_by_role("button", name="Start the case").click()
                assert_accessible(page, "start a case with errors")
            if role == "admin":
                page.get_by_role("button", name="Add user").click()
                assert_accessible(page, "add user with errors")
            if role == "policy_admin":
                page.goto(base + "/policy/try")
                page.locator("#now-personal_hygiene-needs_assistance").check()
                page.get_by_label("Yes, significant").check()
                page.get_by_role("button", name="Work out the indicative budget").click()
                assert_accessible(page, "policy try with a result")
