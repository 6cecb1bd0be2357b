"""In a real browser: a policy officer proposes a rule change, sees it checked and its what-if,
a second officer publishes it, and the next decision uses it without a restart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

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
        assert officer.locator("svg.chart").count() == 1
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
