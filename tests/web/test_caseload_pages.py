"""Caseloads and finding cases on the pages, against the real app and a real SQLite store:
operations allocate, a social worker takes a case and sees their caseload, a person sees their own
cases without a reference, staff find a case by part of a name (on the ledger), and the
operations list pages, sizes and tags as it says."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import csrf_of


def open_case(store: Any, name: str, person_user: str | None = None, due: date | None = None,
              assigned_to: str | None = None) -> str:
    """A case as the workflow's intake records it: the case-list row and its `case.opened` event."""
    case_id = f"C-20260101-{uuid.uuid4().hex[:8]}"
    row: dict[str, Any] = {"council": "demo", "stage": "assessment", "opened": date(2026, 1, 1),
                           "due": due or date.today() + timedelta(days=20), "name": name,
                           "date_of_birth": date(1948, 5, 17)}
    if assigned_to:
        row["assigned_to"] = assigned_to
    store.upsert_case(f"{case_id}:1:case.opened:index", case_id, row, "demo-social-worker", "operations")
    store.append_event(f"{case_id}:1:case.opened", case_id, "demo-social-worker", "operations",
                       "case.opened", {"council": "demo", "person_user": person_user})
    return case_id


def post(client: TestClient, path: str, data: dict[str, str]) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_of(client)}, follow_redirects=False)


def test_operations_allocate_a_case_and_it_fills_the_social_workers_caseload(
    app: Any, browsers: dict[str, TestClient]
) -> None:
    store = app.state.store
    case_id = open_case(store, "Grace Hopper")
    assert store.get_case(case_id).assigned_to is None
    mine = browsers["social_worker"].get("/cases?mine=true").text
    assert case_id not in mine

    response = post(browsers["operations"], f"/cases/{case_id}/allocate",
                    {"assigned_to": "demo-social-worker"})
    assert response.status_code == 303

    assert store.get_case(case_id).assigned_to == "demo-social-worker"
    entry = [e for e in store.case_trail(case_id) if e.action == "case.updated"][-1]
    assert entry.payload == {"case": {"assigned_to": "demo-social-worker"}}
    assert (entry.actor, entry.role) == ("demo-operations", "operations")
    assert case_id in browsers["social_worker"].get("/cases?mine=true").text
    listed = browsers["operations"].get(f"/operations?q={case_id}", follow_redirects=True).text
    assert "demo-social-worker" in listed


def test_allocating_to_someone_who_is_not_a_social_worker_is_refused_beside_the_field(
    app: Any, browsers: dict[str, TestClient]
) -> None:
    case_id = open_case(app.state.store, "Alan Turing")
    for worker, words in [("demo-approver", "is not a social worker"),
                          ("nobody-here", "There is no user called"),
                          ("", "Choose the social worker")]:
        post(browsers["operations"], f"/cases/{case_id}/allocate", {"assigned_to": worker})
        page = browsers["operations"].get(f"/operations/cases/{case_id}").text
        assert 'id="f-assigned-to-error"' in page and words in page
        assert page.count(words) == 1  # once, beside the field; the summary links to it
    assert 'href="#f-assigned-to">Check the answer marked below' in page
    assert app.state.store.get_case(case_id).assigned_to is None


def test_a_social_worker_takes_an_unallocated_case_but_cannot_hand_one_to_a_colleague(
    app: Any, browsers: dict[str, TestClient]
) -> None:
    store = app.state.store
    case_id = open_case(store, "Mary Seacole")
    unallocated = browsers["social_worker"].get("/cases?unallocated=true").text
    assert case_id in unallocated
    # The form value is ignored for a social worker: they can take a case only for themself.
    post(browsers["social_worker"], f"/cases/{case_id}/allocate", {"assigned_to": "someone-else"})
    assert store.get_case(case_id).assigned_to == "demo-social-worker"
    assert case_id not in browsers["social_worker"].get("/cases?unallocated=true").text


def test_a_person_sees_their_own_cases_listed_and_no_one_elses(
    app: Any, browsers: dict[str, TestClient]
) -> None:
    store = app.state.store
    own = open_case(store, "Demo Person", person_user="demo-person", assigned_to="demo-social-worker")
    other = open_case(store, "Somebody Else", person_user="someone-else")
    page = browsers["person"].get("/my-case").text
    assert own in page and other not in page
    assert "Your cases" in page and "your social worker is demo-social-worker" in page
    assert "We are assessing what you need." in page  # the stage in the second person
    assert "(s9)" not in page


def test_a_social_worker_finds_a_case_by_part_of_the_name_and_the_search_is_on_the_ledger(
    app: Any, browsers: dict[str, TestClient]
) -> None:
    store = app.state.store
    wanted = open_case(store, "Florence Nightingale")
    open_case(store, "Edith Cavell")
    before = len(store.ledger_events("person.searched"))
    page = browsers["social_worker"].get("/cases?q=nightin").text
    assert wanted in page and "Edith Cavell" not in page and "1 case," in page
    searches = store.ledger_events("person.searched")
    assert len(searches) == before + 1
    assert searches[-1].actor == "demo-social-worker" and searches[-1].payload == {"found": 1}
    assert searches[-1].personal == {"query": "nightin"}
    # A partial reference finds the case too.
    assert wanted in browsers["social_worker"].get(f"/cases?q={wanted[:-3]}").text


def test_a_search_that_matches_nothing_shows_nothing_and_says_so(
    browsers: dict[str, TestClient],
) -> None:
    page = browsers["social_worker"].get("/cases?q=Zzyzx%20Nobody").text
    assert 'id="f-q-error"' in page and "No case matches" in page and "0 cases" in page
    ops = browsers["operations"].get("/operations?q=Florence").text
    assert "No case reference starts with" in ops and "No cases match these filters." in ops


def test_operations_honour_the_page_size_and_a_page_past_the_end_shows_the_last(
    app: Any, browsers: dict[str, TestClient]
) -> None:
    for n in range(7):
        open_case(app.state.store, f"Paged Person {n}")
    page = browsers["operations"].get("/operations?size=5").text
    assert page.count("/operations/cases/") == 5
    total = app.state.store.list_cases({}, {"number": 1, "size": 1})[1]
    last = -(-total // 5)
    beyond = browsers["operations"].get("/operations?size=5&page=999").text
    assert f"Page {last} of {last}" in beyond and "Page 999" not in beyond
    assert f"There are only {last} pages" in beyond


def test_due_before_tags_only_cases_really_overdue(
    app: Any, browsers: dict[str, TestClient]
) -> None:
    store = app.state.store
    later = open_case(store, "Not Late Yet", due=date.today() + timedelta(days=3))
    soon = (date.today() + timedelta(days=10)).isoformat()
    page = browsers["operations"].get(f"/operations?due_before={soon}&size=200").text
    row = page[page.index(f">{later}<"):]
    row = row[: row.index("</tr>")]
    assert "Overdue" not in row


def test_starting_a_case_refuses_an_unknown_person_and_a_birth_year_no_one_living_has(
    browsers: dict[str, TestClient],
) -> None:
    form = {"council": "demo", "name": "Ada Lovelace", "date_of_birth": "1800-01-01", "setting": "home",
            "person_user": "", "assigned_to": "demo-social-worker", "has_capacity": "yes",
            "asks_council_to_arrange": "yes"}
    page = post(browsers["social_worker"], "/cases/new", form).text
    assert 'id="f-date-of-birth-error"' in page and "more than 120 years ago" in page
    page = post(browsers["social_worker"], "/cases/new",
                {**form, "date_of_birth": "1950-03-01", "person_user": "no-such-person"}).text
    assert 'id="f-person-user-error"' in page and "No person signs in as" in page
    assert page.count("No person signs in as") == 1  # once, beside the field
