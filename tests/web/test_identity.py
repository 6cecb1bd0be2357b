"""Issue 11: identity comes from sign-in only, and staff see and act on their own council's cases.

The command line runs as a subprocess against a live uvicorn with a real Temporal server and
case worker: `carebudget login` gets a token, `carebudget case ...` acts through the API with it,
and the ledger names the signed-in user. A user of council bravo cannot see or act on a demo
case, through the API, the pages or the command line; to them it does not exist.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from carebudget.settings import REPO_ROOT
from carebudget.web.app import create_app
from carebudget.web.auth import hash_password
from carebudget.web.demo_users import DEMO_PASSWORD, ensure_demo_users
from tests.web.conftest import make_settings, sign_in
from tests.web.live import serve
from tests.web.temporal_support import TemporalThread, with_queue

CLI = [sys.executable, "-m", "carebudget.cli"]
BRAVO_PASSWORD = "bravo-council-password-42"
BRAVO = {"sw-bravo": "social_worker", "ops-bravo": "operations", "comp-bravo": "compliance",
         "appr-bravo": "approver"}
START = {"council": "demo",
         "person": {"name": "Ada Lovelace", "date_of_birth": "1950-03-01", "setting": "home"},
         "person_user": "demo-person"}
VERIFIED = {
    "needs": {"arise_from_impairment_or_illness": True, "wellbeing_impact": "significant",
              "outcomes": {"nutrition": ["needs_assistance"], "personal_hygiene": ["needs_assistance"]}},
    "finances": {"capital": "9000", "weekly_income": "240"},
    "care": {"weekly_cost": "246.60"},
    "notes": "Seen at home",
    "support": [
        {"outcome": "nutrition", "when": "current", "support": [{"provision": "home_care_hour", "units": "4"}]},
        {"outcome": "personal_hygiene", "when": "current",
         "support": [{"provision": "home_care_hour", "units": "5"}]},
    ],
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("identity")
    settings = with_queue(make_settings(root))
    store = create_app(settings).state.store
    ensure_demo_users(store)
    hashed = hash_password(BRAVO_PASSWORD)
    for username, role in BRAVO.items():
        store.create_user(username, f"Bravo {role}", role, hashed, council="bravo")
    temporal = TemporalThread(store, settings.task_queue)
    address = temporal.start()
    try:
        app = create_app(settings.model_copy(update={"temporal_address": address}), store=store)
        with serve(app) as base:
            yield {"base": base, "store": store, "app": app, "root": root}
    finally:
        temporal.stop()


def cli(live: dict[str, Any], home: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """`carebudget ARGS` as its own process, with its own token file under `home`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAREBUDGET_")}
    environment |= {"CAREBUDGET_API_URL": live["base"], "CAREBUDGET_TOKEN_FILE": str(home / "token"),
                    "CAREBUDGET_DATA_DIR": str(home / "var"), "COLUMNS": "200", **env}
    return subprocess.run([*CLI, *args], input=stdin, env=environment, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def login(live: dict[str, Any], home: Path, username: str, password: str = DEMO_PASSWORD) -> None:
    done = cli(live, home, "login", "--username", username, "--password-stdin", stdin=password + "\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"signed in as {username}" in done.stdout


def on_case_list(store: Any, case_id: str) -> Any:
    from carebudget.store.errors import UnknownCase

    for _ in range(400):
        try:
            return store.get_case(case_id)
        except UnknownCase:
            time.sleep(0.05)
    raise AssertionError(f"case {case_id} never reached the case list")


@pytest.fixture(scope="module")
def demo_case(live: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> str:
    """A demo council case opened by demo-social-worker through the command line."""
    home = tmp_path_factory.mktemp("sw-home")
    login(live, home, "demo-social-worker")
    start = home / "start.json"
    start.write_text(json.dumps(START))
    opened = cli(live, home, "case", "start", "--input", str(start))
    assert opened.returncode == 0, opened.stdout + opened.stderr
    case_id = opened.stdout.strip()
    on_case_list(live["store"], case_id)
    return case_id


def test_login_keeps_a_token_only_its_owner_can_read(live: dict[str, Any], tmp_path: Path) -> None:
    login(live, tmp_path, "demo-operations")
    token = tmp_path / "token"
    assert token.stat().st_mode & 0o777 == 0o600
    saved = json.loads(token.read_text())
    assert (saved["username"], saved["role"], saved["url"]) == ("demo-operations", "operations", live["base"])


def test_login_asks_for_the_username_and_the_password_when_not_given(
    live: dict[str, Any], tmp_path: Path
) -> None:
    done = cli(live, tmp_path, "login", stdin=f"demo-compliance\n{DEMO_PASSWORD}\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Username:" in done.stdout and "signed in as demo-compliance (compliance)" in done.stdout
    assert DEMO_PASSWORD not in done.stdout + done.stderr  # the password is never echoed


def test_a_case_opened_and_acted_on_from_the_command_line_names_the_signed_in_user(
    live: dict[str, Any], demo_case: str, tmp_path: Path
) -> None:
    login(live, tmp_path, "demo-social-worker")
    payload = tmp_path / "verify.json"
    payload.write_text(json.dumps(VERIFIED))
    for _ in range(100):  # intake runs in the workflow; the step waits for the assessment stage
        acted = cli(live, tmp_path, "case", "act", demo_case, "verify_assessment", "--input", str(payload))
        if "still being processed" not in acted.stderr:
            break
    assert acted.returncode == 0, acted.stdout + acted.stderr
    assert "the case is at support_planning" in acted.stdout

    trail = {e.action: e for e in live["store"].case_trail(demo_case, role="compliance")}
    assert (trail["case.opened"].actor, trail["assessment.verified"].actor) == (
        "demo-social-worker", "demo-social-worker")
    assert trail["assessment.verified"].role == "social_worker"
    shown = cli(live, tmp_path, "case", "show", demo_case)
    assert shown.returncode == 0 and "demo-social-worker (social_worker)" in shown.stdout


def test_the_as_option_is_gone_and_a_step_cannot_name_its_actor(
    live: dict[str, Any], demo_case: str, tmp_path: Path
) -> None:
    login(live, tmp_path, "demo-approver")
    forged = cli(live, tmp_path, "case", "act", demo_case, "approve", "--as", "anyone:social_worker")
    assert forged.returncode == 2
    assert "No such option" in forged.stderr and "--as" in forged.stderr
    assert "anyone" not in {e.actor for e in live["store"].case_trail(demo_case)}


def test_logout_revokes_the_token_on_the_service_and_later_commands_ask_to_log_in(
    live: dict[str, Any], demo_case: str, tmp_path: Path
) -> None:
    login(live, tmp_path, "demo-operations")
    token = json.loads((tmp_path / "token").read_text())["token"]
    out = cli(live, tmp_path, "logout")
    assert out.returncode == 0 and "signed out" in out.stdout
    assert not (tmp_path / "token").exists()
    me = httpx.get(f"{live['base']}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401  # revoked server-side, not only forgotten locally
    after = cli(live, tmp_path, "case", "show", demo_case)
    assert after.returncode == 2
    assert "not signed in" in after.stderr and "carebudget login" in after.stderr


@pytest.mark.parametrize("token", ["not-a-token", "eyJ1IjoiZGVtby1hZG1pbiJ9.bad.signature"])
def test_an_unknown_or_forged_token_gets_a_plain_message_to_log_in(
    live: dict[str, Any], demo_case: str, tmp_path: Path, token: str
) -> None:
    out = cli(live, tmp_path, "case", "list", CAREBUDGET_TOKEN=token)
    assert out.returncode == 2
    assert "Your sign-in is not valid any more" in out.stderr and "run `carebudget login`" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_wrong_password_signs_nobody_in(live: dict[str, Any], tmp_path: Path) -> None:
    out = cli(live, tmp_path, "login", "-u", "demo-social-worker", "--password-stdin", stdin="guess\n")
    assert out.returncode == 1
    assert "not signed in: The username or password is not right" in out.stderr
    assert not (tmp_path / "token").exists()


# --- councils --------------------------------------------------------------------------------


def bearer(live: dict[str, Any], username: str, password: str = BRAVO_PASSWORD) -> dict[str, str]:
    got = httpx.post(f"{live['base']}/api/token", json={"username": username, "password": password})
    assert got.status_code == 200, got.text
    return {"Authorization": f"Bearer {got.json()['access_token']}"}


def test_another_councils_case_does_not_exist_for_its_staff_through_the_api(
    live: dict[str, Any], demo_case: str
) -> None:
    base, store = live["base"], live["store"]
    rows_before = len(store.case_trail(demo_case, role="compliance"))
    sw = bearer(live, "sw-bravo")
    unknown = httpx.get(f"{base}/api/cases/C-no-such-case", headers=sw)
    foreign = httpx.get(f"{base}/api/cases/{demo_case}", headers=sw)
    assert (foreign.status_code, unknown.status_code) == (404, 404)
    assert foreign.json()["detail"] == f"No case {demo_case} found"  # worded as for no case at all
    step = httpx.post(f"{base}/api/cases/{demo_case}/steps/record_reablement", headers=sw,
                      json={"started": "2026-01-05", "weeks": 2, "weekly_cost": "100.00"})
    assert step.status_code == 404
    listed = httpx.get(f"{base}/api/cases", headers=bearer(live, "ops-bravo")).json()
    assert demo_case not in [c["case_id"] for c in listed["cases"]]
    asked = httpx.get(f"{base}/api/cases", params={"council": "demo"}, headers=bearer(live, "ops-bravo"))
    assert asked.status_code == 422 and "you work for council bravo" in asked.json()["message"]
    trail = httpx.get(f"{base}/api/cases/{demo_case}/trail", headers=bearer(live, "comp-bravo"))
    assert trail.status_code == 404
    opened = httpx.post(f"{base}/api/cases", headers=sw, json=START)
    assert opened.status_code == 422 and opened.json()["field"] == "council"
    assert len(store.case_trail(demo_case, role="compliance")) == rows_before  # nothing done to it
    # The demo council's own staff still see it.
    own = httpx.get(f"{base}/api/cases/{demo_case}", headers=bearer(live, "demo-operations", DEMO_PASSWORD))
    assert own.status_code == 200 and own.json()["council"] == "demo"


def test_another_councils_case_does_not_exist_on_its_staffs_pages(
    live: dict[str, Any], demo_case: str
) -> None:
    pages = {"sw-bravo": [f"/cases/{demo_case}"], "ops-bravo": [f"/operations/cases/{demo_case}"],
             "comp-bravo": [f"/compliance/cases/{demo_case}", f"/compliance/cases/{demo_case}/trail.json"]}
    for username, paths in pages.items():
        with httpx.Client(base_url=live["base"]) as browser:
            assert sign_in(browser, username, BRAVO_PASSWORD).status_code == 303
            for path in paths:
                assert browser.get(path).status_code == 404, (username, path)
            if username == "sw-bravo":
                assert demo_case not in browser.get("/cases").text
            if username == "ops-bravo":
                found = browser.get("/operations", params={"q": demo_case}, follow_redirects=False)
                assert found.status_code == 200 and "No case reference starts with" in found.text
            if username == "comp-bravo":
                searched = browser.get("/compliance", params={"q": demo_case}, follow_redirects=False)
                assert searched.status_code == 200 and "No case has the id" in searched.text


def test_another_councils_case_cannot_be_reached_from_the_command_line(
    live: dict[str, Any], demo_case: str, tmp_path: Path
) -> None:
    login(live, tmp_path, "sw-bravo", BRAVO_PASSWORD)
    shown = cli(live, tmp_path, "case", "show", demo_case)
    assert shown.returncode == 1 and f"not found: No case {demo_case} found" in shown.stderr
    listed = cli(live, tmp_path, "case", "list")
    assert listed.returncode == 0 and demo_case not in listed.stdout
