"""Pages: each admits only its roles, sends strangers to sign in, and shows errors beside the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebudget.settings import DEFAULT_SECRET
from carebudget.store.roles import ROLES
from carebudget.web.app import UnsafeConfiguration, create_app
from tests.web.conftest import csrf_of, make_settings, sign_in

CASE = "WEB-SEEDED-1"
PAGES: list[tuple[str, str, tuple[str, ...]]] = [
    ("GET", "/operations", ("operations",)),
    ("GET", "/operations?stage=support_planning&overdue=true&council=demo&page=1", ("operations",)),
    ("GET", f"/operations/cases/{CASE}", ("operations", "compliance")),
    ("GET", "/compliance", ("compliance",)),
    ("POST", "/compliance/verify", ("compliance",)),
    ("GET", f"/compliance/cases/{CASE}", ("compliance",)),
    ("GET", f"/compliance/cases/{CASE}?print=true", ("compliance",)),
    ("GET", f"/compliance/cases/{CASE}/trail.json", ("compliance",)),
    ("GET", f"/compliance/cases/{CASE}/trail.csv", ("compliance",)),
    ("POST", f"/compliance/cases/{CASE}/decisions/{{decision}}/replay", ("compliance",)),
    ("GET", "/policy", ("policy_admin", "national_admin")),
    ("GET", "/policy/diff?council=demo&from=2025-01-01&to=2025-06-01", ("policy_admin", "national_admin")),
    ("GET", "/admin/users", ("admin",)),
]


@pytest.mark.parametrize(
    "method,path,role,allowed",
    [
        pytest.param(m, p, role, role in allowed, id=f"{m} {p.split('?')[0]} as {role}")
        for m, p, allowed in PAGES
        for role in ROLES
    ],
)
def test_each_page_admits_only_its_roles(
    browsers: dict[str, TestClient],
    seeded_case: dict[str, Any],
    method: str,
    path: str,
    role: str,
    allowed: bool,
) -> None:
    response = browsers[role].request(
        method, path.format(decision=seeded_case["decision_id"]), follow_redirects=False
    )
    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403
        assert "You cannot do this" in response.text


@pytest.mark.parametrize("method,path", [pytest.param(m, p, id=p) for m, p, _ in PAGES])
def test_a_stranger_is_sent_to_sign_in(
    app: Any, client: TestClient, method: str, path: str
) -> None:
    response = TestClient(app).request(method, path.format(decision=1), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=")


def test_signing_in_takes_each_role_to_its_own_start_page(browsers: dict[str, TestClient]) -> None:
    assert (
        browsers["operations"].get("/", follow_redirects=False).headers["location"] == "/operations"
    )
    assert (
        browsers["policy_admin"].get("/", follow_redirects=False).headers["location"] == "/policy"
    )


def test_a_wrong_password_is_shown_beside_the_password_field(app: Any, client: TestClient) -> None:
    response = sign_in(TestClient(app), "demo-admin", "nope")
    assert response.status_code == 400
    assert (
        'id="f-password-error"' in response.text
        and "username or password is not right" in response.text
    )


def test_an_empty_sign_in_form_names_both_fields(app: Any, client: TestClient) -> None:
    fresh = TestClient(app)
    response = fresh.post("/sign-in", data={"csrf_token": csrf_of(fresh)})
    assert "Enter your username" in response.text and "Enter your password" in response.text


def test_sign_in_never_redirects_off_site(app: Any, client: TestClient) -> None:
    fresh = TestClient(app)
    response = fresh.post(
        "/sign-in",
        data={"username": "demo-admin", "password": "demo-password", "next": "//evil.example/",
              "csrf_token": csrf_of(fresh)},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/admin/users"


def test_signing_out_ends_the_session(app: Any, client: TestClient) -> None:
    session = TestClient(app)
    sign_in(session, "demo-operations")
    assert session.get("/operations", follow_redirects=False).status_code == 200
    stolen = dict(session.cookies)
    session.post("/sign-out")
    assert session.get("/operations", follow_redirects=False).status_code == 303
    # The cookie from before signing out no longer opens anything: the session ended server-side.
    replay = TestClient(app, cookies=stolen)
    assert replay.get("/operations", follow_redirects=False).status_code == 303


def test_the_operations_list_shows_counts_by_stage_and_overdue_cases(
    browsers: dict[str, TestClient], seeded_case: dict[str, Any]
) -> None:
    page = browsers["operations"].get("/operations").text
    assert "Support planning" in page and CASE in page and "Overdue" in page


def test_searching_an_exact_case_id_opens_the_case(
    browsers: dict[str, TestClient], seeded_case: dict[str, Any]
) -> None:
    response = browsers["operations"].get(f"/operations?q={CASE}", follow_redirects=False)
    assert response.headers["location"] == f"/operations/cases/{CASE}"


def test_searching_an_unknown_case_id_says_so_beside_the_search_box(
    browsers: dict[str, TestClient],
) -> None:
    page = browsers["operations"].get("/operations?q=NOPE").text
    assert 'id="f-q-error"' in page and "No case reference starts with &#39;NOPE&#39;" in page


def test_a_bad_filter_is_explained_beside_it_and_the_list_still_shows(
    browsers: dict[str, TestClient],
) -> None:
    page = browsers["operations"].get("/operations?due_before=yesterday").text
    assert 'id="f-due-before-error"' in page and "Enter a real date" in page
    assert "<table>" in page


def test_the_operations_case_page_links_to_the_workflow_in_the_temporal_ui(
    browsers: dict[str, TestClient], app: Any, seeded_case: dict[str, Any]
) -> None:
    page = browsers["operations"].get(f"/operations/cases/{CASE}").text
    assert f"{app.state.settings.temporal_ui_url}/namespaces/default/workflows/" in page
    assert "case opened" in page
    assert "Ada Lovelace" not in page  # operations work without personal data


def test_the_compliance_trail_shows_reasons_clauses_and_replays_identically(
    browsers: dict[str, TestClient], seeded_case: dict[str, Any]
) -> None:
    page = browsers["compliance"].get(f"/compliance/cases/{CASE}").text
    assert "SI 2015/313" in page and seeded_case["record"]["explanation"][0][:40] in page.replace(
        "&#39;", "'"
    )
    replay = (
        browsers["compliance"]
        .post(f"/compliance/cases/{CASE}/decisions/{seeded_case['decision_id']}/replay")
        .text
    )
    assert "Identical" in replay


def test_the_ledger_check_reports_an_intact_chain(
    browsers: dict[str, TestClient], seeded_case: dict[str, Any]
) -> None:
    assert "Intact" in browsers["compliance"].post("/compliance/verify").text


def test_an_admin_adding_a_user_with_a_short_password_sees_the_error_beside_it(
    browsers: dict[str, TestClient],
) -> None:
    page = browsers["admin"].post(
        "/admin/users",
        data={"username": "dee", "display_name": "Dee", "role": "operations", "password": "short"},
    )
    assert page.status_code == 400 and 'id="f-password-error"' in page.text


def test_a_policy_upload_without_a_file_says_what_is_missing(
    browsers: dict[str, TestClient],
) -> None:
    page = browsers["policy_admin"].post(
        "/policy/changes", data={"council": "demo", "path": "ras.yaml"}
    )
    assert page.status_code == 400 and 'id="f-file-error"' in page.text


def test_every_asset_is_served_by_the_app_itself(
    client: TestClient, browsers: dict[str, TestClient]
) -> None:
    import re

    page = browsers["operations"].get("/operations").text
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:css|js|svg|woff2|png))"', page)
    assert assets and all(a.startswith("/static/") for a in assets)
    assert all(client.get(a).status_code == 200 for a in assets)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"secret_key": DEFAULT_SECRET, "create_demo_users": False}, "CAREBUDGET_SECRET_KEY"),
        (
            {"secret_key": "a-long-random-production-secret", "create_demo_users": True},
            "CAREBUDGET_CREATE_DEMO_USERS",
        ),
        (
            {"secret_key": "a-long-random-production-secret", "create_demo_users": False},
            "CAREBUDGET_PAYLOAD_KEYS is the development key",
        ),
    ],
)
def test_production_refuses_to_start_with_defaults_or_demo_users(
    tmp_path: Any, change: dict[str, Any], message: str
) -> None:
    settings = make_settings(tmp_path).model_copy(update={"environment": "production", **change})
    with pytest.raises(UnsafeConfiguration, match=message):
        create_app(settings)


def test_production_refuses_to_start_while_demo_accounts_are_active(tmp_path: Any) -> None:
    dev = make_settings(tmp_path)
    with TestClient(create_app(dev)):
        pass
    prod = dev.model_copy(
        update={
            "environment": "production",
            "secret_key": "a-long-random-production-secret",
            "create_demo_users": False,
        }
    )
    with pytest.raises(UnsafeConfiguration, match="demo users exist"):
        create_app(prod)


def test_an_admin_adds_a_user_to_a_council_and_a_national_officer_to_none(
    app: Any, browsers: dict[str, TestClient],
) -> None:
    admin, store = browsers["admin"], app.state.store
    assert 'value="demo"' in admin.get("/admin/users").text  # the council field starts at the admin's
    strong = "a-long-unusual-password-77"
    added = admin.post("/admin/users", data={"username": "ops-council", "display_name": "O",
                                             "role": "operations", "password": strong, "council": ""},
                       follow_redirects=False)
    assert added.status_code == 303 and store.get_user("ops-council").council == "demo"
    national = admin.post("/admin/users", data={"username": "nat-council", "display_name": "N",
                                                "role": "national_admin", "password": strong},
                          follow_redirects=False)
    assert national.status_code == 303 and store.get_user("nat-council").council is None
    elsewhere = admin.post("/admin/users", data={"username": "ops-elsewhere", "display_name": "E",
                                                 "role": "operations", "password": strong, "council": "bravo"})
    assert elsewhere.status_code == 400 and "You administer council demo" in elsewhere.text
    assert store.get_user("ops-elsewhere") is None


def test_an_admin_sets_a_users_team_on_the_users_page_and_a_bad_name_is_refused_beside_it(
    app: Any, browsers: dict[str, TestClient],
) -> None:
    admin, store = browsers["admin"], app.state.store
    strong = "a-long-unusual-password-77"
    added = admin.post("/admin/users", data={"username": "sw-page-team", "display_name": "S", "role": "social_worker",
                                             "password": strong, "team": "Riverside team"}, follow_redirects=False)
    assert added.status_code == 303 and store.get_user("sw-page-team").team == "Riverside team"
    page = admin.get("/admin/users").text
    assert 'action="/admin/users/sw-page-team/team"' in page and 'value="Riverside team"' in page
    moved = admin.post("/admin/users/sw-page-team/team", data={"team": "Hillcrest team"}, follow_redirects=False)
    assert moved.status_code == 303 and store.get_user("sw-page-team").team == "Hillcrest team"
    refused = admin.post("/admin/users/sw-page-team/team", data={"team": "{{ nope }}"})
    assert refused.status_code == 400 and "use 1-60 letters" in refused.text
    assert store.get_user("sw-page-team").team == "Hillcrest team"
    cleared = admin.post("/admin/users/sw-page-team/team", data={"team": ""}, follow_redirects=False)
    assert cleared.status_code == 303 and store.get_user("sw-page-team").team is None
    missing = admin.post("/admin/users/nobody-here/team", data={"team": "X"})
    assert missing.status_code == 404
