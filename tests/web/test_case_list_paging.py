"""The staff case list pages with a page-size choice, says so when asked for a page past the end,
and finds cases due before a date (issue 13 point 3)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.web.test_caseload_pages import open_case


def test_the_case_list_pages_sizes_and_filters_by_due_date(app: object, browsers: dict[str, TestClient]) -> None:
    store = app.state.store  # type: ignore[attr-defined]
    soon = date.today() + timedelta(days=2)
    early = [open_case(store, f"Early Paged {n}", assigned_to="demo-social-worker", due=soon) for n in range(3)]
    late = open_case(store, "Late Paged", assigned_to="demo-social-worker", due=date.today() + timedelta(days=90))
    sw = browsers["social_worker"]
    total = store.list_cases({"assigned_to": "demo-social-worker"}, {"number": 1, "size": 1})[1]
    last = -(-total // 10)
    first = sw.get("/cases?mine=true&size=10").text
    assert first.count('<td><a href="/cases/') == min(total, 10)
    assert f"Page 1 of {last}" in first
    beyond = sw.get("/cases?mine=true&size=10&page=999").text
    assert f"Page {last} of {last}" in beyond and f"There are only {last} page" in beyond
    due = sw.get(f"/cases?mine=true&size=200&due_before={(soon + timedelta(days=1)).isoformat()}").text
    assert all(case_id in due for case_id in early) and late not in due
    bad = sw.get("/cases?due_before=31-02-2026").text
    assert 'id="f-due-before-error"' in bad and "No cases here." in bad
    assert sw.get("/cases?page=-4&size=abc").status_code == 200
