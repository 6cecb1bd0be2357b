"""Every API endpoint admits exactly the roles it declares; everyone else gets 403."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebudget.store.roles import ROLES
from tests.web.conftest import ASSESSMENT_FACTS, bearer

CASE = "WEB-SEEDED-1"
NO_CHANGE = "000000000000"

POLICY = ("policy_admin", "national_admin")
POLICY_READERS = ("policy_admin", "national_admin", "compliance")
# (method, path, json body, roles allowed). Bodies are valid, so an allowed role never gets 422.
ENDPOINTS: list[tuple[str, str, Any, tuple[str, ...]]] = [
    ("GET", "/api/me", None, ROLES),
    ("GET", "/api/users", None, ("admin",)),
    ("PATCH", "/api/users/demo-admin", {"display_name": "Demo administrator"}, ("admin",)),
    (
        "POST",
        "/api/decisions/assessment?council=demo&date=2025-06-02",
        ASSESSMENT_FACTS,
        ("social_worker", "approver", "appeals_officer", "compliance", "policy_admin"),
    ),
    ("GET", "/api/decisions/{decision}", None, ("compliance",)),
    ("POST", "/api/decisions/{decision}/replay", None, ("compliance",)),
    (
        "GET",
        "/api/cases",
        None,
        ("social_worker", "approver", "appeals_officer", "operations", "compliance"),
    ),
    ("GET", f"/api/cases/{CASE}/trail", None, ("compliance",)),
    ("GET", f"/api/cases/{CASE}/trail?format=csv", None, ("compliance",)),
    ("GET", "/api/ledger/verify", None, ("compliance",)),
    ("GET", "/api/rules", None, POLICY_READERS),
    ("GET", "/api/rules/demo/diff?from=2025-01-01&to=2025-06-01", None, POLICY_READERS),
    ("GET", "/api/policy/changes", None, POLICY),
    ("GET", f"/api/policy/changes/{NO_CHANGE}", None, POLICY),
    ("POST", f"/api/policy/changes/{NO_CHANGE}/publish", None, POLICY),
    ("POST", f"/api/policy/changes/{NO_CHANGE}/withdraw", None, POLICY),
    ("GET", "/api/policy/versions", None, POLICY_READERS),
    ("GET", "/api/policy/versions/999999", None, POLICY_READERS),
    ("GET", "/api/policy/versions/compare?from=999998&to=999999", None, POLICY_READERS),
    ("GET", "/api/policy/export?council=demo", None, POLICY_READERS),
]
# Endpoints that reach a case's workflow: the role check comes before Temporal is touched.
CASE_ENDPOINTS: list[tuple[str, str, Any, tuple[str, ...]]] = [
    ("POST", "/api/cases", {"council": "demo"}, ("social_worker", "person")),
    (
        "GET",
        f"/api/cases/{CASE}",
        None,
        ("person", "social_worker", "approver", "appeals_officer", "operations", "compliance"),
    ),
    ("GET", f"/api/cases/{CASE}/letters", None,
     ("person", "social_worker", "approver", "appeals_officer", "operations", "compliance")),
    ("GET", f"/api/cases/{CASE}/letters/1.pdf", None,
     ("person", "social_worker", "approver", "appeals_officer", "operations", "compliance")),
    (
        "POST",
        f"/api/cases/{CASE}/steps/verify_assessment",
        {},
        ("person", "social_worker", "approver", "appeals_officer"),
    ),
]


def _call(
    client: TestClient, method: str, path: str, body: Any, token: str, ids: dict[str, Any]
) -> Any:
    return client.request(method, path.format(**ids), json=body, headers=bearer(token))


def _cases() -> list[Any]:
    return [
        pytest.param(m, p, b, role, role in allowed, id=f"{m} {p.split('?')[0]} as {role}")
        for m, p, b, allowed in ENDPOINTS
        for role in ROLES
    ]


@pytest.mark.parametrize("method,path,body,role,allowed", _cases())
def test_each_endpoint_admits_only_its_roles(
    client: TestClient,
    tokens: dict[str, str],
    seeded_case: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    role: str,
    allowed: bool,
) -> None:
    response = _call(
        client, method, path, body, tokens[role], {"decision": seeded_case["decision_id"]}
    )
    if allowed:
        assert response.status_code not in (401, 403, 422, 500), response.text
    else:
        assert response.status_code == 403, response.text
        assert "may not do this" in response.json()["detail"]


@pytest.mark.parametrize(
    "method,path,body,role",
    [
        pytest.param(m, p, b, role, id=f"{m} {p} as {role}")
        for m, p, b, allowed in CASE_ENDPOINTS
        for role in ROLES
        if role not in allowed
    ],
)
def test_roles_outside_a_case_endpoint_are_refused_before_the_case_is_reached(
    client: TestClient,
    tokens: dict[str, str],
    seeded_case: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    role: str,
) -> None:
    response = _call(client, method, path, body, tokens[role], {})
    assert response.status_code == 403, response.text


@pytest.mark.parametrize(
    "method,path,body,allowed",
    [pytest.param(*e, id=f"{e[0]} {e[1]}") for e in ENDPOINTS + CASE_ENDPOINTS],
)
def test_every_endpoint_needs_a_token(
    client: TestClient, method: str, path: str, body: Any, allowed: tuple[str, ...]
) -> None:
    response = client.request(method, path.format(decision=1), json=body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_forged_token_is_refused(client: TestClient) -> None:
    response = client.get(
        "/api/me", headers=bearer("eyJ1IjoiZGVtby1hZG1pbiIsInIiOiJhZG1pbiJ9.forged.sig")
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "The token is not valid"


def test_a_wrong_password_gets_no_token(client: TestClient) -> None:
    response = client.post(
        "/api/token", json={"username": "demo-admin", "password": "not-the-password"}
    )
    assert response.status_code == 401
    assert "username or password" in response.json()["detail"]


def test_a_refused_attempt_on_case_data_is_written_to_the_ledger(
    app: Any, client: TestClient, tokens: dict[str, str], seeded_case: dict[str, Any]
) -> None:
    before = len(app.state.store.case_trail(CASE, role="compliance"))
    response = client.get(f"/api/cases/{CASE}/trail", headers=bearer(tokens["operations"]))
    assert response.status_code == 403
    trail = app.state.store.case_trail(CASE, role="compliance")
    assert len(trail) == before + 1
    refused = trail[-1]
    assert (refused.actor, refused.role, refused.action) == (
        "demo-operations",
        "operations",
        "access_refused",
    )
    assert refused.payload["path"] == f"/api/cases/{CASE}/trail"


def test_a_refused_attempt_on_an_unknown_case_is_refused_without_a_ledger_row(
    app: Any, client: TestClient, tokens: dict[str, str]
) -> None:
    rows = app.state.store.ledger_count()
    response = client.get("/api/cases/NO-SUCH-CASE/trail", headers=bearer(tokens["operations"]))
    assert response.status_code == 403
    assert app.state.store.ledger_count() == rows


OPEN = {("GET", "/api/health"), ("POST", "/api/token")}


def test_every_operation_in_the_schema_declares_who_may_call_it(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    undeclared = [
        (m.upper(), p)
        for p, ops in schema["paths"].items()
        for m, op in ops.items()
        if not op.get("x-roles") and (m.upper(), p) not in OPEN
    ]
    assert undeclared == []


def test_the_schema_names_the_same_roles_the_endpoints_enforce(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    declared = {
        (m.upper(), p): set(op["x-roles"])
        for p, ops in schema["paths"].items()
        for m, op in ops.items()
    }
    enforced = {
        (m, "/api" + p.split("?")[0][4:]): set(allowed)
        for m, p, _, allowed in ENDPOINTS + CASE_ENDPOINTS
    }
    for (method, path), roles in enforced.items():
        template = next(k for k in declared if k[0] == method and _matches(k[1], path))
        assert declared[template] == roles, (method, path)


def _matches(template: str, path: str) -> bool:
    import re

    return re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) is not None


def test_the_api_reference_page_is_served_without_any_external_resource(client: TestClient) -> None:
    page = client.get("/api/docs").text
    assert "http://" not in page and "https://" not in page
    assert "POST /api/policy/changes/{change_id}/publish" in page
