"""Refusals and validation errors in words a person understands, each shown once, beside the field
it concerns; no pydantic phrasing, no regular expression, no step or stage name (issue 13 point 6)."""

from __future__ import annotations

import re
from datetime import date, timedelta
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


GOOD_PERSON = {"name": "Ada Lovelace", "date_of_birth": "1950-03-01", "setting": "home",
               "has_capacity": True, "asks_council_to_arrange": True}


def test_the_api_refuses_an_impossible_start_in_words_naming_the_field(
    client: TestClient, tokens: dict[str, str]
) -> None:
    sw = bearer(tokens["social_worker"])
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    refused = {
        "person.date_of_birth": [{**GOOD_PERSON, "date_of_birth": "1800-01-01"},
                                 {**GOOD_PERSON, "date_of_birth": tomorrow}],
        "person.has_capacity": [{k: v for k, v in GOOD_PERSON.items() if k != "has_capacity"}],
        "person.asks_council_to_arrange": [{k: v for k, v in GOOD_PERSON.items()
                                            if k != "asks_council_to_arrange"}],
        "person.has_authorised_person": [{**GOOD_PERSON, "has_capacity": False}],
        "person.care_home_admission_date": [{**GOOD_PERSON, "setting": "care_home"}],
    }
    for field, people in refused.items():
        for person in people:
            response = client.post("/api/cases", headers=sw, json={"council": "demo", "person": person})
            assert response.status_code == 422, (field, response.text)
            assert response.json()["field"] == field
            assert not TECHNICAL.search(response.json()["message"])
    response = client.post("/api/cases", headers=sw,
                           json={"council": "demo", "person": GOOD_PERSON, "person_user": "no-such-person"})
    assert (response.status_code, response.json()["field"]) == (422, "person_user")


def test_the_start_form_asks_what_changes_the_charge_instead_of_assuming_it(
    browsers: dict[str, TestClient],
) -> None:
    sw = browsers["social_worker"]
    form = sw.get("/cases/new").text
    for name in ("has-capacity", "has-authorised-person", "asks-council-to-arrange"):
        assert f'id="f-{name}"' in form
    assert " checked" not in form  # nothing is answered for them
    page = sw.post("/cases/new", data={"council": "demo", "name": "Ada Lovelace", "date_of_birth": "1950-03-01",
                                        "setting": "home", "csrf_token": csrf_of(sw)}).text
    assert 'id="f-has-capacity-error"' in page and 'id="f-asks-council-to-arrange-error"' in page
    assert 'id="f-has-authorised-person-error"' not in page
    page = sw.post("/cases/new", data={"council": "demo", "name": "Ada Lovelace", "date_of_birth": "2999-01-01",
                                        "setting": "home", "has_capacity": "no", "asks_council_to_arrange": "yes",
                                        "csrf_token": csrf_of(sw)}).text
    assert 'id="f-has-authorised-person-error"' in page
    assert page.count("The date of birth must be in the past") == 1
    person = browsers["person"].get("/cases/new").text
    assert "Can you make decisions about care and money?" in person and "the person" not in person.lower()


def test_the_printable_decision_trail_shows_facts_and_results_as_rows_not_raw_json(
    browsers: dict[str, TestClient], seeded_case: dict[str, Any]
) -> None:
    page = browsers["compliance"].get(f"/compliance/cases/{seeded_case['case_id']}?print=true").text
    main = page[page.index("<main"):page.index("</main>")]
    assert "{&#34;" not in main and '{"' not in main and "<pre>" not in main
    assert ("<th scope=\"row\">Needs · outcomes · Managing and maintaining nutrition</th>"
            "<td>needs help (including prompting)</td>") in main
    assert "Finances · capital</th><td>10000" in main
