"""A council policy change: checked and tested on upload, what-if on the caseload, published only
with a second policy officer's approval, and then used by new decisions without a restart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebudget.store.roles import ROLES
from carebudget.web.app import create_app
from carebudget.web.demo_users import DEMO_PASSWORD, demo_username
from tests.web.conftest import ASSESSMENT_FACTS, bearer, make_settings, sign_in
from tests.web.policy_files import broken_bands, raised_bands


@pytest.fixture(scope="module")
def policy_app(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, Any, dict[str, str]]]:
    settings = make_settings(tmp_path_factory.mktemp("policy"))
    app = create_app(settings)
    with TestClient(app) as client:
        tokens = {
            name: client.post(
                "/api/token", json={"username": name, "password": DEMO_PASSWORD}
            ).json()["access_token"]
            for name in [demo_username(r) for r in ROLES] + ["demo-policy-admin-2"]
        }
        yield client, settings, tokens


def _budget(client: TestClient, token: str) -> dict[str, Any]:
    response = client.post(
        f"/api/decisions/indicative-budget?council=demo&date={date.today()}",
        json=ASSESSMENT_FACTS,
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_published_change_is_used_by_the_next_decision_without_restart(policy_app: Any) -> None:
    client, settings, tokens = policy_app
    officer, second = tokens["demo-policy-admin"], tokens["demo-policy-admin-2"]
    before = _budget(client, officer)
    upload = client.post(
        "/api/policy/changes",
        headers=bearer(officer),
        json={
            "council": "demo",
            "path": "parameters/ras.yaml",
            "note": "Uplift for 2026 fees",
            "content": raised_bands(Path(settings.rules_dir), date.today()),
        },
    )
    assert upload.status_code == 201, upload.text
    change = upload.json()
    assert change["status"] == "draft" and change["problems"] == []
    assert change["tests"]["failed"] == 0 and change["tests"]["run"] > 0
    assert [p["parameter"] for p in change["diff"]["parameters"]] == ["ras.bands"]
    assert change["whatif"]["gain"] >= 1 and change["whatif"]["lose"] == 0
    assert (
        _budget(client, officer)["rules"]["bundle"] == before["rules"]["bundle"]
    )  # not yet in force

    own = client.post(f"/api/policy/changes/{change['id']}/publish", headers=bearer(officer))
    assert own.status_code == 409 and "second policy officer" in own.json()["message"]

    published = client.post(f"/api/policy/changes/{change['id']}/publish", headers=bearer(second))
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    after = _budget(client, officer)
    assert after["rules"]["bundle"] == published.json()["bundle"] != before["rules"]["bundle"]
    assert (
        float(after["indicative_budget"]["weekly_low"])
        == float(before["indicative_budget"]["weekly_low"]) + 25
    )
    stored = {
        v["bundle"]: v
        for c in client.get("/api/rules", headers=bearer(officer)).json()["councils"]
        for v in c["versions"]
    }
    assert stored[after["rules"]["bundle"]]["status"] == "published"
    assert stored[after["rules"]["bundle"]]["approved_by"] == "demo-policy-admin-2"

    again = client.post(f"/api/policy/changes/{change['id']}/publish", headers=bearer(second))
    assert again.status_code == 409


def test_a_change_that_breaks_the_rules_is_refused_and_cannot_be_published(policy_app: Any) -> None:
    client, settings, tokens = policy_app
    rules_before = (Path(settings.rules_dir) / "councils/demo/parameters/ras.yaml").read_text()
    upload = client.post(
        "/api/policy/changes",
        headers=bearer(tokens["demo-policy-admin"]),
        json={
            "council": "demo",
            "path": "parameters/ras.yaml",
            "content": broken_bands(Path(settings.rules_dir), date(2030, 1, 1)),
        },
    )
    change = upload.json()
    assert change["status"] == "refused"
    assert any("more need must never lower" in p for p in change["problems"])
    response = client.post(
        f"/api/policy/changes/{change['id']}/publish", headers=bearer(tokens["demo-policy-admin-2"])
    )
    assert response.status_code == 409
    assert (
        Path(settings.rules_dir) / "councils/demo/parameters/ras.yaml"
    ).read_text() == rules_before


def test_a_change_leaving_people_less_than_the_national_minimum_is_refused(policy_app: Any) -> None:
    """SI 2014/2672 regs 6 and 7 are minimums: a council may be more generous, never less."""
    client, settings, tokens = policy_app
    charging = Path(settings.rules_dir) / "councils/demo/parameters/charging.yaml"
    rules_before = charging.read_text()
    lowered = rules_before.replace("{value: 31.80,", "{value: 29.00,")
    assert lowered != rules_before
    change = client.post(
        "/api/policy/changes",
        headers=bearer(tokens["demo-policy-admin"]),
        json={"council": "demo", "path": "parameters/charging.yaml", "content": lowered},
    ).json()
    assert change["status"] == "refused"
    problem = change["problems"][0]
    assert "charging.yaml" in problem and "£29.00" in problem and "£31.80" in problem
    assert "SI 2014/2672 reg 6" in problem
    response = client.post(
        f"/api/policy/changes/{change['id']}/publish", headers=bearer(tokens["demo-policy-admin-2"])
    )
    assert response.status_code == 409
    assert charging.read_text() == rules_before


def test_a_file_that_does_not_parse_is_refused_with_its_line(policy_app: Any) -> None:
    client, _, tokens = policy_app
    change = client.post(
        "/api/policy/changes",
        headers=bearer(tokens["demo-policy-admin"]),
        json={"council": "demo", "path": "extra.yaml", "content": "name: x\nrules: [unclosed\n"},
    ).json()
    assert change["status"] == "refused"
    assert "extra.yaml" in change["problems"][0]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"council": "demo", "path": "../../etc/passwd.yaml", "content": "x: 1"}, "path"),
        ({"council": "demo", "path": "ras.txt", "content": "x: 1"}, "path"),
        ({"council": "Demo!", "path": "ras.yaml", "content": "x: 1"}, "council"),
        ({"council": "demo", "path": "ras.yaml", "content": ""}, "content"),
        ({"council": "demo", "path": "ras.yaml", "content": "x: 1", "extra": 1}, "extra"),
    ],
)
def test_an_unsafe_or_incomplete_upload_is_refused_naming_the_field(
    policy_app: Any, body: dict[str, Any], field: str
) -> None:
    client, _, tokens = policy_app
    before = client.get("/api/policy/changes", headers=bearer(tokens["demo-policy-admin"])).json()
    response = client.post(
        "/api/policy/changes", headers=bearer(tokens["demo-policy-admin"]), json=body
    )
    assert (response.status_code, response.json()["field"]) == (422, field)
    assert (
        client.get("/api/policy/changes", headers=bearer(tokens["demo-policy-admin"])).json()
        == before
    )


def test_national_rules_cannot_be_changed_by_upload(policy_app: Any) -> None:
    client, _, tokens = policy_app
    response = client.post(
        "/api/policy/changes",
        headers=bearer(tokens["demo-policy-admin"]),
        json={"council": "england", "path": "eligibility.yaml", "content": "x: 1"},
    )
    assert response.status_code == 422 and response.json()["field"] == "council"


def test_a_withdrawn_change_cannot_be_published(policy_app: Any) -> None:
    client, settings, tokens = policy_app
    change = client.post(
        "/api/policy/changes",
        headers=bearer(tokens["demo-policy-admin"]),
        json={
            "council": "demo",
            "path": "parameters/ras.yaml",
            "content": raised_bands(Path(settings.rules_dir), date(2031, 1, 1)),
        },
    ).json()
    withdrawn = client.post(
        f"/api/policy/changes/{change['id']}/withdraw", headers=bearer(tokens["demo-policy-admin"])
    )
    assert withdrawn.json()["status"] == "withdrawn"
    response = client.post(
        f"/api/policy/changes/{change['id']}/publish", headers=bearer(tokens["demo-policy-admin-2"])
    )
    assert response.status_code == 409 and "withdrawn" in response.json()["message"]


def test_a_policy_officer_of_another_council_neither_sees_nor_changes_demos_policy(
    policy_app: Any,
) -> None:
    from carebudget.web.auth import hash_password
    from tests.web.conftest import sign_in

    client, settings, tokens = policy_app
    store = client.app.state.store  # type: ignore[attr-defined]
    if store.get_user("pol-bravo") is None:
        store.create_user("pol-bravo", "Bravo policy officer", "policy_admin",
                          hash_password("bravo-policy-password-7"), council="bravo")
    bravo = bearer(client.post("/api/token", json={
        "username": "pol-bravo", "password": "bravo-policy-password-7"}).json()["access_token"])
    change = client.post("/api/policy/changes", headers=bearer(tokens["demo-policy-admin"]), json={
        "council": "demo", "path": "parameters/ras.yaml",
        "content": raised_bands(Path(settings.rules_dir), date(2032, 1, 1))}).json()

    listed = client.get("/api/policy/changes", headers=bravo).json()
    assert change["id"] not in [c["id"] for c in listed]
    seen = client.get(f"/api/policy/changes/{change['id']}", headers=bravo)
    missing = client.get("/api/policy/changes/0123456789ab", headers=bravo)
    assert (seen.status_code, missing.status_code) == (404, 404)  # as if it did not exist
    for action in ("publish", "withdraw"):
        refused = client.post(f"/api/policy/changes/{change['id']}/{action}", headers=bravo)
        assert refused.status_code == 404, action
    proposed = client.post("/api/policy/changes", headers=bravo, json={
        "council": "demo", "path": "parameters/ras.yaml", "content": "x: 1"})
    assert proposed.status_code == 422 and proposed.json()["field"] == "council"
    assert client.get("/api/rules/demo/diff?from=2025-01-01&to=2026-01-01", headers=bravo).status_code == 404
    assert [c["council"] for c in client.get("/api/rules", headers=bravo).json()["councils"]] == ["england"]
    # National rules are the law: every policy officer reads them.
    assert client.get("/api/rules/england/diff?from=2025-01-01&to=2026-01-01", headers=bravo).status_code == 200
    with TestClient(client.app) as browser:  # type: ignore[arg-type]
        sign_in(browser, "pol-bravo", "bravo-policy-password-7")
        assert browser.get(f"/policy/changes/{change['id']}").status_code == 404
        assert change["id"] not in browser.get("/policy").text
    # The demo council's own officer still has it, untouched.
    own = client.get(f"/api/policy/changes/{change['id']}", headers=bearer(tokens["demo-policy-admin"]))
    assert own.status_code == 200 and own.json()["status"] == change["status"]


def test_a_council_changes_its_areas_through_the_policy_flow_and_intake_offers_them(policy_app: Any) -> None:
    """The localities a case is recorded in are the council's policy like its rates: a new dated
    list goes through the same two officers, and intake offers it from the day it is in force."""
    client, settings, tokens = policy_app
    worker = TestClient(client.app)
    sign_in(worker, "demo-social-worker")
    listed = (Path(settings.rules_dir) / "councils/demo/parameters/areas.yaml").read_text()
    content = listed + (f"    {date.today()}:\n      source: Demo BC locality review (fictional)\n"
                        "      grade: council\n"
                        "      value: [Northgate, Riverside, Hillcrest, Old Town, Eastfield, Westbrook]\n")
    change = client.post("/api/policy/changes", headers=bearer(tokens["demo-policy-admin"]), json={
        "council": "demo", "path": "parameters/areas.yaml", "note": "Westbrook becomes a locality",
        "content": content}).json()
    assert change["status"] == "draft" and change["problems"] == [], change
    assert [p["parameter"] for p in change["diff"]["parameters"]] == ["case.areas"]
    refused = client.post("/api/cases", headers=bearer(tokens["demo-social-worker"]), json={
        "council": "demo", "person": {"name": "Ada Lovelace", "date_of_birth": "1950-03-01", "setting": "home",
                                      "has_capacity": True, "asks_council_to_arrange": True},
        "area": "Westbrook"})
    assert refused.status_code == 422 and "'Westbrook' is not one of demo's areas" in refused.json()["message"]
    assert ">Westbrook<" not in worker.get("/cases/new").text  # not in force until published

    published = client.post(f"/api/policy/changes/{change['id']}/publish", headers=bearer(tokens["demo-policy-admin-2"]))
    assert published.status_code == 200, published.text
    form = worker.get("/cases/new").text
    assert ">Westbrook<" in form and ">Old Town<" in form
