"""In a real browser: a policy officer proposes a rule change, sees it checked and its what-if,
a second officer publishes it, and the next decision uses it without a restart."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from carebudget.web.app import create_app
from tests.web.conftest import make_settings
from tests.web.live import chromium, needs_chromium, serve, shot, sign_in
from tests.web.policy_files import raised_bands

pytestmark = [pytest.mark.browser, needs_chromium]


def test_a_policy_officer_publishes_a_rule_change_with_a_second_approval_and_sees_it_used(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    change_file = tmp_path / "ras.yaml"
    change_file.write_text(raised_bands(Path(settings.rules_dir), date.today()), encoding="utf-8")
    app = create_app(settings)
    with serve(app) as base, chromium() as browser:
        officer = sign_in(browser, base, "demo-policy-admin")
        officer.goto(f"{base}/policy/try")
        officer.get_by_label("Needs help (including prompting)").first.check()
        officer.locator("#now-personal_hygiene-needs_assistance").check()
        officer.get_by_label("Yes, significant").check()
        officer.get_by_role("button", name="Work out the indicative budget").click()
        before = officer.locator("#try-result h2").inner_text()

        officer.goto(f"{base}/policy")
        shot(officer, "policy-versions")
        officer.get_by_label("Where the file goes").fill("parameters/ras.yaml")
        officer.locator("#f-file").set_input_files(str(change_file))
        officer.get_by_label("Why this change (shown to the approver)").fill(
            "2026 uplift of £25 a week per band"
        )
        officer.get_by_role("button", name="Check this change").click()
        officer.wait_for_load_state()
        assert "passed its checks and tests" in officer.content(), officer.locator(
            "main"
        ).inner_text()[:800]
        officer.locator("svg.chart").wait_for(timeout=600_000)  # the what-if, run behind the page
        assert "A second policy officer must approve" in officer.content()
        shot(officer, "policy-change-whatif")
        change_url = officer.url

        second = sign_in(browser, base, "demo-policy-admin-2")
        second.goto(change_url)
        second.get_by_role("button", name="Approve and publish").click()
        second.wait_for_load_state()
        assert "Published." in second.content()

        officer.goto(f"{base}/policy/try")
        officer.get_by_label("Needs help (including prompting)").first.check()
        officer.locator("#now-personal_hygiene-needs_assistance").check()
        officer.get_by_label("Yes, significant").check()
        officer.get_by_role("button", name="Work out the indicative budget").click()
        after = officer.locator("#try-result h2").inner_text()
        assert after != before
        shot(officer, "policy-try-after-publish")


def test_a_policy_officer_watches_the_whatif_progress_and_sees_figures_equal_to_single_decisions(
    tmp_path: Path,
) -> None:
    from tests.web.test_policy_whatif_progress import expected_figures, figures_on_page
    from tests.web.whatif_caseload import seed_budget_cases

    settings = make_settings(tmp_path).model_copy(update={"whatif_pool_from_cases": 100})
    today = date.today()
    change = raised_bands(Path(settings.rules_dir), today)
    change_file = tmp_path / "ras.yaml"
    change_file.write_text(change, encoding="utf-8")
    app = create_app(settings)
    with serve(app) as base, chromium() as browser:
        cases = seed_budget_cases(app, 130, today)  # decided in the process pool (from 100 cases here)
        officer = sign_in(browser, base, "demo-policy-admin")
        officer.goto(f"{base}/policy")
        officer.get_by_label("Where the file goes").fill("parameters/ras.yaml")
        officer.locator("#f-file").set_input_files(str(change_file))
        officer.get_by_label("Why this change (shown to the approver)").fill("2026 uplift")
        officer.get_by_role("button", name="Check this change").click()
        officer.wait_for_load_state()
        # The checks are done; the what-if is under way behind the page, which shows how far.
        assert officer.locator("#whatif-bar").is_visible()
        assert officer.get_by_role("button", name="Approve and publish").count() == 0
        first = officer.locator("#whatif-state").inner_text()
        assert first == "Reading the caseload…" or " of 130 cases" in first, first
        shot(officer, "policy-change-whatif-progress")
        seen = [first]
        for _ in range(6000):  # a bound, not a timing: the script reloads the page when done
            if officer.locator("svg.chart").count():
                break
            try:  # the script may reload the page between these two reads: then look again
                state = officer.locator("#whatif-state")
                if state.count():
                    seen.append(state.inner_text(timeout=2000))
            except PlaywrightError:
                pass
            officer.wait_for_timeout(100)
        assert officer.locator("svg.chart").count() == 1, seen[-3:]
        assert all(s == "Reading the caseload…" or re.search(r"Deciding every case .*: \d+ of 130 cases", s)
                   for s in seen if s), seen
        assert officer.locator("#whatif-progress").count() == 0
        assert figures_on_page(officer.content()) == expected_figures(Path(settings.rules_dir), change, cases, today)
