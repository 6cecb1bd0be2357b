"""Refusals and validation errors in words a person understands, each shown once, beside the field
it concerns; no pydantic phrasing, no regular expression, no step or stage name (issue 13 point 6)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import bearer, csrf_of

TECHNICAL = re.compile(r"String should|should match pattern|\^\[|Input should|_[a-z]+ is taken at|"
                       r"active_budget|request_changes|Field required|value_error")


def test_a_user_form_with_every_field_wrong_says_so_once_beside_each_field_in_plain_words(
    browsers: dict[str, TestClient],
) -> None:
    admin = browsers["admin"]
    response = admin.post("/admin/users", data={"username": "Not Valid!", "display_name": "",
                                                "role": "", "password": "abc",
                                                "csrf_token": csrf_of(admin)})
    assert response.status_code == 400
    page = response.text
    assert not TECHNICAL.search(page), TECHNICAL.search(page)
    for field in ("username", "display-name", "role"):
        assert f'id="f-{field}-error"' in page
    assert page.count("Use lower-case letters, digits, dots, - and _") == 1
    # The summary at the top points to the fields without repeating what they say.
    summary = page[page.index('class="error-summary"'):page.index("</div>", page.index('class="error-summary"'))]
    assert "Check the" in summary and "Use lower-case" not in summary


def test_a_refusal_with_no_field_of_its_own_is_shown_once_at_the_top(browsers: dict[str, TestClient]) -> None:
    page = browsers["policy_admin"].get("/policy/versions/compare?vfrom=x&vto=y").text
    assert page.count("Choose two published versions to compare") == 1


def test_an_address_with_no_page_gets_the_error_page_in_words(browsers: dict[str, TestClient]) -> None:
    response = browsers["social_worker"].get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no page at this address" in response.text


def test_the_api_names_the_field_and_says_what_is_allowed_without_a_pattern(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = client.post("/api/users", headers=bearer(tokens["admin"]),
                           json={"username": "Bad Name", "display_name": "X", "role": "person",
                                 "password": "a long enough password 1"})
    assert response.status_code == 422
    body: dict[str, Any] = response.json()
    assert body["field"] == "username"
    assert "lower-case letters" in body["message"] and "^" not in body["message"]
