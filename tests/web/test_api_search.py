"""GET /api/cases finds cases by the start of a reference, by part of a name (staff who may see
names, each search on the ledger), by stage, worker and due date, a page at a time (issue 13)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import bearer
from tests.web.test_caseload_pages import open_case


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {r["case_id"] for r in response.json()["cases"]}


def test_the_api_finds_cases_by_reference_name_stage_worker_and_due_date_a_page_at_a_time(
    app: Any, client: TestClient, tokens: dict[str, str]
) -> None:
    store = app.state.store
    soon = date.today() + timedelta(days=3)
    hopper = open_case(store, "Grace Hopperquist", assigned_to="demo-social-worker", due=soon)  # a name no other test uses
    lamarr = open_case(store, "Hedy Lamarr", due=date.today() + timedelta(days=60))
    sw, ops = bearer(tokens["social_worker"]), bearer(tokens["operations"])

    assert ids(client.get("/api/cases", params={"id_prefix": hopper[:-2]}, headers=ops)) >= {hopper}
    assert lamarr not in ids(client.get("/api/cases", params={"id_prefix": hopper}, headers=ops))
    before = len(store.ledger_events("person.searched"))
    found = client.get("/api/cases", params={"name": "hopperq"}, headers=sw)
    assert ids(found) == {hopper} and found.json()["cases"][0]["name"] == "Grace Hopperquist"
    searched = store.ledger_events("person.searched")
    assert len(searched) == before + 1 and searched[-1].actor == "demo-social-worker"
    refused = client.get("/api/cases", params={"name": "hopperq"}, headers=ops)
    assert refused.status_code == 403 and "does not see names" in refused.json()["message"]
    mine = ids(client.get("/api/cases", params={"assigned_to": "demo-social-worker", "stage": "assessment"},
                          headers=sw))
    assert hopper in mine and lamarr not in mine
    due = ids(client.get("/api/cases", params={"due_before": (soon + timedelta(days=1)).isoformat(),
                                               "size": 500}, headers=sw))
    assert hopper in due and lamarr not in due
    page = client.get("/api/cases", params={"size": 1, "page": 2}, headers=sw).json()
    assert (page["size"], page["page"], len(page["cases"])) == (1, 2, 1)
    bad = client.get("/api/cases", params={"id_prefix": "C-2026%"}, headers=sw)
    assert bad.status_code == 422 and bad.json()["field"] == "id_prefix" and "^" not in bad.json()["message"]
