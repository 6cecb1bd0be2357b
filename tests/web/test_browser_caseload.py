"""In a real browser: operations allocate a case and the social worker's caseload fills; the
social worker finds a case by part of a name (on the ledger); a person finds their case in their
own list without a reference. Hostile search text is shown as text and matched literally."""

from __future__ import annotations

from pathlib import Path

import pytest

from carebudget.web.app import create_app
from tests.web.conftest import make_settings
from tests.web.live import chromium, needs_chromium, serve, shot, sign_in
from tests.web.test_caseload_pages import open_case

pytestmark = [pytest.mark.browser, needs_chromium]


def test_a_working_day_of_caseloads_search_and_a_persons_own_list(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    with serve(app) as base, chromium() as browser:
        store = app.state.store
        mine = open_case(store, "Demo Person", person_user="demo-person")
        other = open_case(store, "Octavia Hill", person_user="someone-else")
        open_case(store, "50% Off_Name")

        sw = sign_in(browser, base, "demo-social-worker")
        sw.get_by_role("link", name="My cases").click()
        assert "No cases here." in sw.content()

        ops = sign_in(browser, base, "demo-operations")
        ops.goto(f"{base}/operations/cases/{other}")
        ops.get_by_label("Allocate to a social worker").select_option("demo-social-worker")
        ops.get_by_role("button", name="Allocate").click()
        assert "The case is now with demo-social-worker." in ops.content()
        ops.goto(f"{base}/operations")
        row = ops.locator("tbody tr", has_text=other).inner_text()
        assert "demo-social-worker" in row

        sw.get_by_role("link", name="My cases").click()
        assert other in sw.locator("tbody").inner_text() and mine not in sw.locator("tbody").inner_text()
        shot(sw, "caseload")

        sw.get_by_label("Name or reference").fill("octav")
        sw.get_by_role("button", name="Show").click()
        sw.get_by_label("Only my cases").uncheck()
        sw.get_by_role("button", name="Show").click()
        assert "Octavia Hill" in sw.locator("tbody").inner_text()
        assert store.ledger_events("person.searched")[-1].actor == "demo-social-worker"
        for hostile in ("<script>alert(1)</script>", "%", "50%"):
            sw.get_by_label("Name or reference").fill(hostile)
            sw.get_by_role("button", name="Show").click()
            body = sw.locator("tbody").inner_text()
            assert ("Off_Name" in body) == (hostile == "50%")  # % is a character, not a wildcard
        assert "<script>alert(1)</script>" not in sw.content()

        person = sign_in(browser, base, "demo-person")
        assert person.url == f"{base}/my-case"
        listing = person.locator("main").inner_text()
        assert mine in listing and other not in listing
        assert "We are assessing what you need." in listing
        link = person.get_by_role("link", name="Your case opened on 1 January 2026")
        assert link.get_attribute("href") == f"/cases/{mine}"
        shot(person, "person-own-cases")
