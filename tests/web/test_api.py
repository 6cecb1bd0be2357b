"""The JSON API does what it says, and bad input gets a clear message naming the field."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient

from carebudget.web.auth import hash_password
from tests.web.conftest import ASSESSMENT_FACTS, bearer


def test_health_answers_without_signing_in(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}


def test_the_openapi_schema_lists_the_api_and_not_the_pages(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/token" in paths and "/api/cases/{case_id}/steps/{step}" in paths
    assert not [p for p in paths if not p.startswith("/api/")]


def test_a_token_names_its_user_and_role(client: TestClient, tokens: dict[str, str]) -> None:
    me = client.get("/api/me", headers=bearer(tokens["approver"])).json()
    assert me == {
        "username": "demo-approver",
        "role": "approver",
        "display_name": "Demo sign-off approver",
        "council": "demo",
    }


def test_an_assessment_decision_explains_itself_with_clauses(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = client.post(
        "/api/decisions/assessment?council=demo&date=2025-06-02",
        json=ASSESSMENT_FACTS,
        headers=bearer(tokens["social_worker"]),
    )
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["eligibility"]["eligible"] is True
    assert record["indicative_budget"]["weekly_low"] < record["indicative_budget"]["weekly_high"]
    assert any("SI 2015/313" in r["reference"] for r in record["fired_rules"])


def test_invalid_facts_are_refused_naming_the_field(
    client: TestClient, tokens: dict[str, str]
) -> None:
    facts = {**ASSESSMENT_FACTS, "person": {"date_of_birth": "1950-03-01", "setting": "castle"}}
    response = client.post(
        "/api/decisions/assessment?council=demo&date=2025-06-02",
        json=facts,
        headers=bearer(tokens["social_worker"]),
    )
    assert response.status_code == 422
    assert response.json()["field"] == "person.setting"


def test_an_unknown_council_is_refused_by_name(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/decisions/eligibility?council=atlantis",
        json=ASSESSMENT_FACTS,
        headers=bearer(tokens["social_worker"]),
    )
    assert response.status_code == 422
    assert "atlantis" in response.json()["message"]


def test_an_unknown_decision_kind_is_refused_naming_the_kinds(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = client.post(
        "/api/decisions/horoscope", json={}, headers=bearer(tokens["social_worker"])
    )
    assert response.status_code == 422
    assert response.json()["field"] == "kind"


def test_an_admin_adds_a_user_who_can_then_get_a_token(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = client.post(
        "/api/users",
        headers=bearer(tokens["admin"]),
        json={
            "username": "bo.worker",
            "display_name": "Bo Worker",
            "role": "social_worker",
            "password": "correct horse",
        },
    )
    assert response.status_code == 201, response.text
    assert "password" not in response.text
    token = client.post("/api/token", json={"username": "bo.worker", "password": "correct horse"})
    assert token.json()["role"] == "social_worker"


def test_a_short_password_or_unknown_role_is_refused_and_nothing_is_added(
    client: TestClient, tokens: dict[str, str]
) -> None:
    before = len(client.get("/api/users", headers=bearer(tokens["admin"])).json())
    short = client.post(
        "/api/users",
        headers=bearer(tokens["admin"]),
        json={"username": "cy", "display_name": "Cy", "role": "social_worker", "password": "short"},
    )
    wizard = client.post(
        "/api/users",
        headers=bearer(tokens["admin"]),
        json={
            "username": "cy",
            "display_name": "Cy",
            "role": "wizard",
            "password": "long enough password",
        },
    )
    assert (short.status_code, short.json()["field"]) == (422, "password")
    assert (wizard.status_code, wizard.json()["field"]) == (422, "role")
    assert len(client.get("/api/users", headers=bearer(tokens["admin"])).json()) == before


def test_a_taken_username_is_refused_as_a_conflict(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = client.post(
        "/api/users",
        headers=bearer(tokens["admin"]),
        json={
            "username": "demo-admin",
            "display_name": "X",
            "role": "admin",
            "password": "long enough password",
        },
    )
    assert response.status_code == 409
    assert "taken" in response.json()["message"]


def test_a_deactivated_users_token_stops_working(
    client: TestClient, tokens: dict[str, str]
) -> None:
    client.post(
        "/api/users",
        headers=bearer(tokens["admin"]),
        json={
            "username": "leaver",
            "display_name": "Leaver",
            "role": "operations",
            "password": "long enough password",
        },
    )
    token = client.post(
        "/api/token", json={"username": "leaver", "password": "long enough password"}
    ).json()
    assert client.get("/api/me", headers=bearer(token["access_token"])).status_code == 200
    client.patch("/api/users/leaver", headers=bearer(tokens["admin"]), json={"active": False})
    assert client.get("/api/me", headers=bearer(token["access_token"])).status_code == 401


def test_a_councils_administrator_manages_that_councils_users_only(
    app: Any, client: TestClient, tokens: dict[str, str]
) -> None:
    """Users belong to a council (issue 11): through the API as on the page, an administrator of
    demo adds users to demo only, and another council's users neither list nor change."""
    store, admin = app.state.store, bearer(tokens["admin"])
    if store.get_user("ops-bravo-api") is None:
        store.create_user("ops-bravo-api", "Bravo ops", "operations", hash_password("long enough password"),
                          actor="system", council="bravo")
    elsewhere = client.post("/api/users", headers=admin, json={
        "username": "sw-elsewhere", "display_name": "E", "role": "social_worker",
        "password": "long enough password", "council": "bravo"})
    assert elsewhere.status_code == 422, elsewhere.text
    assert "You administer council demo" in elsewhere.json()["message"]
    assert store.get_user("sw-elsewhere") is None
    own = client.post("/api/users", headers=admin, json={
        "username": "sw-own-council", "display_name": "O", "role": "social_worker",
        "password": "long enough password"})
    assert own.status_code == 201 and own.json()["council"] == "demo"
    listed = {u["username"] for u in client.get("/api/users", headers=admin).json()}
    assert "sw-own-council" in listed and "ops-bravo-api" not in listed
    changed = client.patch("/api/users/ops-bravo-api", headers=admin, json={"active": False})
    assert changed.status_code == 404, changed.text
    assert store.get_user("ops-bravo-api").active


def test_the_case_list_shows_personal_data_only_to_roles_that_need_it(
    client: TestClient, tokens: dict[str, str], seeded_case: dict[str, Any]
) -> None:
    ops = client.get("/api/cases?council=demo", headers=bearer(tokens["operations"])).json()
    worker = client.get("/api/cases?council=demo", headers=bearer(tokens["social_worker"])).json()
    ops_row = next(c for c in ops["cases"] if c["case_id"] == seeded_case["case_id"])
    worker_row = next(c for c in worker["cases"] if c["case_id"] == seeded_case["case_id"])
    assert ops_row["name"] is None and worker_row["name"] == "Ada Lovelace"


def test_the_case_list_filters_by_due_date_and_stage(
    client: TestClient, tokens: dict[str, str], seeded_case: dict[str, Any]
) -> None:
    before = client.get(
        "/api/cases?due_before=2025-07-02&stage=support_planning",
        headers=bearer(tokens["operations"]),
    ).json()
    earlier = client.get(
        "/api/cases?due_before=2025-06-30", headers=bearer(tokens["operations"])
    ).json()
    assert seeded_case["case_id"] in [c["case_id"] for c in before["cases"]]
    assert seeded_case["case_id"] not in [c["case_id"] for c in earlier["cases"]]


def test_a_bad_page_size_is_refused_naming_the_field(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = client.get("/api/cases?size=100000", headers=bearer(tokens["operations"]))
    assert (response.status_code, response.json()["field"]) == (422, "size")


def test_the_trail_exports_as_json_with_decisions_and_as_csv(
    client: TestClient, tokens: dict[str, str], seeded_case: dict[str, Any]
) -> None:
    case_id = seeded_case["case_id"]
    body = client.get(f"/api/cases/{case_id}/trail", headers=bearer(tokens["compliance"])).json()
    assert [d["kind"] for d in body["decisions"]] == ["assessment"]
    assert body["trail"][0]["action"] == "case.opened"
    text = client.get(
        f"/api/cases/{case_id}/trail?format=csv", headers=bearer(tokens["compliance"])
    ).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["seq"] for r in rows] == [str(e["seq"]) for e in body["trail"]]


def test_a_stored_decision_replays_identically(
    client: TestClient, tokens: dict[str, str], seeded_case: dict[str, Any]
) -> None:
    result = client.post(
        f"/api/decisions/{seeded_case['decision_id']}/replay", headers=bearer(tokens["compliance"])
    ).json()
    assert result["identical"] is True and result["differences"] == []


def test_the_ledger_verifies_intact(
    client: TestClient, tokens: dict[str, str], seeded_case: dict[str, Any]
) -> None:
    report = client.get("/api/ledger/verify", headers=bearer(tokens["compliance"])).json()
    assert report["ok"] is True and report["rows"] >= 2


def test_the_rules_overview_lists_every_council_with_the_bundle_in_force(
    client: TestClient, tokens: dict[str, str]
) -> None:
    overview = client.get("/api/rules", headers=bearer(tokens["policy_admin"])).json()
    councils = {c["council"]: c for c in overview["councils"]}
    assert set(councils) >= {"england", "demo"}
    assert any(v.get("in_force") for v in councils["demo"]["versions"])


def test_a_diff_between_dates_is_refused_for_an_unknown_council(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = client.get(
        "/api/rules/atlantis/diff?from=2025-01-01&to=2025-06-01",
        headers=bearer(tokens["policy_admin"]),
    )
    assert response.status_code == 404
    assert "atlantis" in response.json()["detail"]


def test_a_compliance_officers_sign_in_is_written_to_the_ledger_but_a_social_workers_is_not(
    app: Any, client: TestClient
) -> None:
    rows = app.state.store.ledger_count()
    client.post("/api/token", json={"username": "demo-compliance", "password": "demo-password"})
    client.post("/api/token", json={"username": "demo-social-worker", "password": "demo-password"})
    assert app.state.store.ledger_count() == rows + 1


def test_a_decision_dated_before_april_2015_is_refused_in_words_not_a_500(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = client.post(
        "/api/decisions/assessment?council=demo&date=2010-01-01",
        json=ASSESSMENT_FACTS, headers=bearer(tokens["social_worker"]),
    )
    assert response.status_code == 422
    assert response.json()["field"] == "date" and "1 April 2015" in response.json()["message"]


def test_a_compliance_officer_of_another_council_finds_no_trail_or_decision_of_demos(
    client: TestClient, tokens: dict[str, str], seeded_case: dict[str, Any]
) -> None:
    from carebudget.web.auth import hash_password

    store = client.app.state.store  # type: ignore[attr-defined]
    if store.get_user("comp-bravo") is None:
        store.create_user("comp-bravo", "Bravo compliance", "compliance",
                          hash_password("bravo-compliance-pw-3"), council="bravo")
    bravo = bearer(client.post("/api/token", json={
        "username": "comp-bravo", "password": "bravo-compliance-pw-3"}).json()["access_token"])
    case_id, decision_id = seeded_case["case_id"], seeded_case["decision_id"]
    foreign = client.get(f"/api/decisions/{decision_id}", headers=bravo)
    unknown = client.get(f"/api/decisions/{decision_id + 10**9}", headers=bravo)
    assert (foreign.status_code, unknown.status_code) == (404, 404)
    assert foreign.json()["error"] == unknown.json()["error"] == "UnknownDecision"
    assert client.post(f"/api/decisions/{decision_id}/replay", headers=bravo).status_code == 404
    assert client.get(f"/api/cases/{case_id}/trail", headers=bravo).status_code == 404
    own = client.get(f"/api/decisions/{decision_id}", headers=bearer(tokens["compliance"]))
    assert own.status_code == 200
    # Verifying the ledger checks the officer's own council's chain, not demo's.
    theirs = client.get("/api/ledger/verify", headers=bravo).json()
    ours = client.get("/api/ledger/verify", headers=bearer(tokens["compliance"])).json()
    assert theirs["ok"] and ours["ok"] and theirs["head_hash"] != ours["head_hash"]
    assert theirs["rows"] < ours["rows"]


def test_an_admin_puts_a_social_worker_in_a_team_changes_it_and_takes_them_out(
    app: Any, client: TestClient, tokens: dict[str, str]
) -> None:
    """Fairness by team (issue 14): the council administrator sets each worker's team."""
    store, admin = app.state.store, bearer(tokens["admin"])
    added = client.post("/api/users", headers=admin, json={
        "username": "sw-teamed", "display_name": "T", "role": "social_worker",
        "password": "long enough password", "team": "  North   team "})
    assert added.status_code == 201, added.text
    assert added.json()["team"] == "North team" == store.get_user("sw-teamed").team
    for bad, words in (("<script>", "team '<script>': use 1-60 letters"), ("x" * 61, "team")):
        refused = client.patch("/api/users/sw-teamed", headers=admin, json={"team": bad})
        assert refused.status_code in (400, 422) and words in refused.text, refused.text
    assert store.get_user("sw-teamed").team == "North team"
    moved = client.patch("/api/users/sw-teamed", headers=admin, json={"team": "South team"})
    assert moved.status_code == 200 and moved.json()["team"] == "South team"
    untouched = client.patch("/api/users/sw-teamed", headers=admin, json={"active": True})
    assert untouched.json()["team"] == "South team"  # a change that leaves the team out keeps it
    cleared = client.patch("/api/users/sw-teamed", headers=admin, json={"team": ""})
    assert cleared.json()["team"] is None and store.get_user("sw-teamed").team is None
    national = client.post("/api/users", headers=admin, json={
        "username": "nat-teamed", "display_name": "N", "role": "national_admin",
        "password": "long enough password", "team": "North team"})
    assert national.status_code in (400, 422) and "give no team" in national.text
    assert store.get_user("nat-teamed") is None
