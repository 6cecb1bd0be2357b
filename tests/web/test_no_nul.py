"""A NUL character anywhere in a request is refused in plain words, never a 500 (issue 11: a
PostgreSQL name containing NUL gave a server error; PostgreSQL text cannot hold code 0)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebudget.web.app import create_app
from carebudget.web.demo_users import DEMO_PASSWORD, demo_username
from tests.store.conftest import postgres_database, postgres_schema_url  # noqa: F401 - fixture
from tests.web.conftest import bearer, make_settings


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def nul_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("nul"))
    if request.param == "postgresql":
        url, _schema = postgres_schema_url(request.getfixturevalue("postgres_database"))
        settings = settings.model_copy(update={"database_url": url})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _token(client: TestClient, role: str) -> str:
    response = client.post(
        "/api/token", json={"username": demo_username(role), "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _refused_in_plain_words(response: Any) -> None:
    assert response.status_code == 400, response.text
    assert "NUL character" in response.text


def test_a_sign_in_name_containing_nul_is_refused_and_signs_nobody_in(
    nul_client: TestClient,
) -> None:
    _refused_in_plain_words(
        nul_client.post("/api/token", json={"username": "demo-admin\u0000", "password": "x"})
    )
    _refused_in_plain_words(
        nul_client.post("/sign-in", data={"username": "a\x00b", "password": "x"})
    )
    # The refusal is not a failed attempt against a real user: the right password still works.
    assert _token(nul_client, "admin")


@pytest.mark.parametrize(
    "address",
    ["/api/cases?stage=%00", "/api/cases?q=Smith%00", "/api/cases/C-%00",
     "/api/policy/versions?council=demo%00"],
)
def test_a_nul_in_the_address_is_refused(nul_client: TestClient, address: str) -> None:
    token = _token(nul_client, "compliance")
    _refused_in_plain_words(nul_client.get(address, headers=bearer(token)))


def test_a_user_named_with_a_nul_is_refused_and_not_created(nul_client: TestClient) -> None:
    token = _token(nul_client, "admin")
    before = nul_client.get("/api/users", headers=bearer(token))
    assert before.status_code == 200, before.text
    response = nul_client.post(
        "/api/users",
        headers=bearer(token),
        json={"username": "new\u0000user", "role": "person", "password": "a long enough passphrase"},
    )
    _refused_in_plain_words(response)
    after = nul_client.get("/api/users", headers=bearer(token))
    assert after.json() == before.json()


def test_a_nul_in_a_page_form_gets_a_page_not_json(nul_client: TestClient) -> None:
    response = nul_client.post("/sign-in", data={"username": "someone", "password": "p\x00"})
    _refused_in_plain_words(response)
    assert response.headers["content-type"].startswith("text/html")
    assert "Go back, remove it" in response.text
