"""A checked policy change's what-if runs in the background while its page shows the progress;
its figures equal single decisions, and the change cannot be approved before they are there."""

from __future__ import annotations

import re
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebudget.decisions import decide_with_bundle
from carebudget.policy import changes as policy_changes
from carebudget.rulebook.library import load_library
from carebudget.web.app import create_app
from tests.web.conftest import make_settings, sign_in
from tests.web.policy_files import raised_bands
from tests.web.whatif_caseload import seed_budget_cases


def expected_figures(rules_dir: Path, change: str, cases: list[dict[str, Any]], on: date) -> dict[str, Any]:
    """The what-if worked out by single decisions, one case at a time, under both rule sets."""
    candidate_dir = rules_dir.parent / "candidate-rules"
    import shutil

    shutil.copytree(rules_dir, candidate_dir, dirs_exist_ok=True)
    (candidate_dir / "councils/demo/parameters/ras.yaml").write_text(change, encoding="utf-8")
    bundles = [load_library(folder).bundle("demo", on) for folder in (rules_dir, candidate_dir)]
    gain = lose = 0
    total = Decimal(0)
    for case in cases:
        mids = []
        for bundle in bundles:
            budget = decide_with_bundle("indicative-budget", bundle, on, case["input"])["indicative_budget"]
            mids.append((Decimal(budget["weekly_low"]) + Decimal(budget["weekly_high"])) / 2)
        delta = mids[1] - mids[0]
        gain, lose, total = gain + (delta > 0), lose + (delta < 0), total + delta
    return {"cases": len(cases), "gain": gain, "lose": lose, "total_weekly_change": f"{total:.2f}"}


def figures_on_page(text: str) -> dict[str, Any]:
    found = re.search(r"(\d+) cases\. <strong>(\d+) gain</strong>, <strong>(\d+) lose</strong>.*?"
                      r"Total change in weekly indicative budgets: <strong>£(-?[\d.]+)</strong>", text, re.S)
    assert found, "the page shows no what-if figures"
    cases, gain, lose, total = found.groups()
    return {"cases": int(cases), "gain": int(gain), "lose": int(lose), "total_weekly_change": total}


def test_the_whatif_runs_in_the_pool_behind_the_page_and_its_figures_equal_single_decisions(tmp_path: Path) -> None:
    settings = make_settings(tmp_path).model_copy(update={"whatif_pool_from_cases": 100})
    app = create_app(settings)
    today = date.today()
    change = raised_bands(Path(settings.rules_dir), today)
    with TestClient(app) as officer, TestClient(app) as second:
        cases = seed_budget_cases(app, 130, today)
        assert sign_in(officer, "demo-policy-admin").status_code == 303
        assert sign_in(second, "demo-policy-admin-2").status_code == 303
        response = officer.post("/policy/changes", data={
            "council": "demo", "path": "parameters/ras.yaml", "content": change, "note": "2026 uplift",
        }, follow_redirects=False)
        assert response.status_code == 303, response.text
        url = response.headers["location"]
        change_id = url.rsplit("/", 1)[1]
        states = []
        for _ in range(1200):  # a bound, not a timing: the run ends long before
            progress = officer.get(f"{url}/whatif").json()
            states.append(progress)
            assert progress["state"] in ("reading", "deciding", "done"), progress
            if progress["state"] == "done":
                break
            time.sleep(0.25)
        assert states[-1] == {"state": "done", "done": 130, "total": 130, "message": ""}
        done = [s["done"] for s in states if s["state"] == "deciding"]
        assert done == sorted(done) and all(0 <= d <= 130 for d in done)
        page = officer.get(url).text
        assert 'id="whatif-progress"' not in page
        assert figures_on_page(page) == expected_figures(Path(settings.rules_dir), change, cases, today)
        published = second.post(f"{url}/publish", follow_redirects=True)
        assert "Published." in published.text
        assert policy_changes.load(app.state.store, change_id).status == "published"


def test_a_change_whose_whatif_is_still_running_cannot_be_approved(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = create_app(settings)
    with TestClient(app):
        change = policy_changes.ProposalIn.model_validate({
            "council": "demo", "path": "parameters/ras.yaml", "note": "uplift",
            "content": raised_bands(Path(settings.rules_dir), date.today()),
        })
        proposal = policy_changes.propose(settings, app.state.store, change, "demo-policy-admin",
                                          defer_whatif=True)
        assert proposal.whatif_pending and proposal.whatif == {} and not proposal.publishable
        with pytest.raises(policy_changes.PolicyChangeError, match="what-if on the caseload is still running"):
            policy_changes.approve_and_publish(settings, app.state.store, proposal.id, "demo-policy-admin-2")
        finished = policy_changes.complete_whatif(settings, app.state.store, proposal.id)
        assert not finished.whatif_pending and finished.whatif["cases"] > 0 and finished.publishable


def test_a_whatif_that_fails_says_why_and_a_fresh_look_at_the_page_runs_it_again(tmp_path: Path) -> None:
    from carebudget.web import whatif_progress

    settings = make_settings(tmp_path)
    app = create_app(settings)
    with TestClient(app) as officer:
        assert sign_in(officer, "demo-policy-admin").status_code == 303
        change = policy_changes.ProposalIn.model_validate({
            "council": "demo", "path": "parameters/ras.yaml", "note": "uplift",
            "content": raised_bands(Path(settings.rules_dir), date.today()),
        })
        proposal = policy_changes.propose(settings, app.state.store, change, "demo-policy-admin",
                                          defer_whatif=True)
        # A what-if that cannot run: the store it must read the caseload from is not there.
        failed = whatif_progress.start(settings, None, proposal.id)
        for _ in range(600):  # a bound, not a timing
            if failed.state == "failed":
                break
            time.sleep(0.1)
        assert failed.state == "failed" and failed.message.startswith("The what-if could not be completed")
        polled = officer.get(f"/policy/changes/{proposal.id}/whatif").json()
        assert polled["state"] == "failed" and polled["message"] == failed.message
        page = officer.get(f"/policy/changes/{proposal.id}").text  # looking again: a fresh run
        assert 'id="whatif-progress"' in page
        for _ in range(1200):
            if officer.get(f"/policy/changes/{proposal.id}/whatif").json()["state"] == "done":
                break
            time.sleep(0.25)
        assert policy_changes.load(app.state.store, proposal.id).whatif["cases"] > 0
