"""A case through the API and the pages against a real Temporal server and worker: from
self-assessment through a counter-proposal and an appeal to an active personal budget."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from carebudget.web.app import create_app
from carebudget.web.demo_users import DEMO_PASSWORD, ensure_demo_users
from tests.web.conftest import CSRF, make_settings
from tests.web.temporal_support import case_worker, temporal_dev_server, with_queue

NEEDS = {
    "arise_from_impairment_or_illness": True,
    "wellbeing_impact": "significant",
    "outcomes": {"nutrition": ["needs_assistance"], "personal_hygiene": ["needs_assistance"]},
}
PREDICTED = {
    "arise_from_impairment_or_illness": True,
    "wellbeing_impact": "significant",
    "outcomes": {"home_safety": ["endangers_health_safety"]},
}
VERIFIED = {
    "needs": NEEDS,
    "predicted_needs": PREDICTED,
    "finances": {"capital": "9000", "weekly_income": "240"},
    "care": {"weekly_cost": "252.35"},
    "notes": "Seen at home",
    "support": [
        {"outcome": "nutrition", "when": "current", "support": [{"provision": "home_care_hour", "units": "4"}]},
        {"outcome": "personal_hygiene", "when": "current",
         "support": [{"provision": "home_care_hour", "units": "5"}]},
        {"outcome": "home_safety", "when": "predicted",
         "support": [{"provision": "telecare_week", "units": "1"}]},
    ],
}
PLAN = {
    "plan": {
        "weekly_total": "252.35",
        "items": [
            {"outcomes": ["nutrition"], "provision": "home_care_hour", "units": "4", "unit_cost": "27.40"},
            {"outcomes": ["personal_hygiene"], "provision": "home_care_hour", "units": "5", "unit_cost": "27.40"},
            {"outcomes": ["home_safety"], "provision": "telecare_week", "units": "1", "unit_cost": "5.75"},
        ],
    },
    "unmet_needs": [{"outcome": "community_facilities", "provision": "day_opportunity_session", "units": "2",
                     "words": "A day centre nearer home"}],
}
COUNTER = {
    "proposal": {
        "weekly_amount": "156.95",
        "justifications": [
            {"outcome": "nutrition", "provision": "personal_assistant_hour", "units": "4",
             "unit_cost": "16.80", "reason": "A personal assistant does the same shopping and cooking."},
            {"outcome": "personal_hygiene", "provision": "personal_assistant_hour", "units": "5",
             "unit_cost": "16.80", "reason": "A personal assistant gives the same personal care."},
            {"outcome": "home_safety", "provision": "telecare_week", "units": "1",
             "unit_cost": "5.75", "reason": "The telecare alarm is kept as assessed."},
        ],
    },
    "note": "A personal assistant meets each need at the council's rates",
}
START = {
    "council": "demo",
    "person": {"name": "Ada Lovelace", "date_of_birth": "1950-03-01", "setting": "home",
               "has_capacity": True, "asks_council_to_arrange": True},
    "person_user": "demo-person",
}


@pytest.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    settings = with_queue(make_settings(tmp_path_factory.mktemp("caseflow")))
    async with temporal_dev_server() as env:
        app = create_app(settings, temporal_client=env.client)
        ensure_demo_users(app.state.store)
        async with case_worker(env.client, app.state.store, settings.task_queue):
            yield {"app": app, "env": env}


def api(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web")


async def token(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(
        "/api/token", json={"username": username, "password": DEMO_PASSWORD}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def wait_for_stage(
    client: httpx.AsyncClient, case_id: str, stage: str, headers: dict[str, str]
) -> dict[str, Any]:
    for _ in range(400):
        response = await client.get(f"/api/cases/{case_id}", headers=headers)
        if response.status_code == 200 and response.json()["stage"] == stage:
            return dict(response.json())
        await asyncio.sleep(0.05)
    raise AssertionError(f"case {case_id} never reached {stage}")


async def on_case_list(store: Any, case_id: str) -> Any:
    """The case's row once intake's record activity has written it."""
    from carebudget.store.errors import UnknownCase

    for _ in range(200):
        try:
            return store.get_case(case_id)
        except UnknownCase:
            await asyncio.sleep(0.05)
    raise AssertionError(f"case {case_id} never reached the case list")


async def test_a_case_goes_from_self_assessment_through_counter_proposal_and_appeal_to_a_budget(
    live: dict[str, Any],
) -> None:
    async with api(live["app"]) as client:
        sw, person = await token(client, "demo-social-worker"), await token(client, "demo-person")
        approver, officer = (
            await token(client, "demo-approver"),
            await token(client, "demo-appeals-officer"),
        )
        opened = await client.post("/api/cases", json=START, headers=sw)
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
        await wait_for_stage(client, case_id, "assessment", sw)

        async def step(
            name: str, headers: dict[str, str], payload: dict[str, Any]
        ) -> dict[str, Any]:
            response = await client.post(
                f"/api/cases/{case_id}/steps/{name}", json=payload, headers=headers
            )
            assert response.status_code == 200, response.text
            return dict(response.json())

        await step("self_assess", person, {"needs": NEEDS, "predicted_needs": PREDICTED})
        state = await step("verify_assessment", sw, VERIFIED)
        assert state["stage"] == "support_planning"
        assert state["decisions"]["indicative-budget"]["indicative_budget"]["weekly_low"]
        await step("submit_plan", sw, PLAN)
        state = await step("counter_propose", approver, COUNTER)
        assert state["stage"] == "counter_proposal"
        await step(
            "appeal", person, {"reasons": "The framework provider cannot visit in the mornings"}
        )
        state = await step(
            "decide_appeal",
            officer,
            {
                "outcome": "part_uphold",
                "weekly_amount": "245.00",
                "reasons": "Mornings cost more; part of the gap is met",
            },
        )
        assert state["stage"] == "active_budget"
        statement = state["personal_budget"]
        assert statement["weekly_cost"] == "245.00"
        assert float(statement["person_charge"]) + float(statement["council_share"]) == 245.0

        # The social worker who opened the case holds it from intake, as the API list shows.
        listed = await client.get("/api/cases", params={"assigned_to": "demo-social-worker"}, headers=sw)
        assert case_id in {r["case_id"] for r in listed.json()["cases"]}
        # Operations read the appeal's outcome, and each decision by name, in the timeline.
        from carebudget.web.timeline_words import trail_lines

        lines = trail_lines(live["app"].state.store.case_trail(case_id, role="operations"))
        whats = [line["what"] for line in lines]
        assert "appeal partly upheld; personal budget active" in whats
        assert whats.count("case opened") == 1
        details = {line["detail"] for line in lines if line["what"] == "decision recorded"}
        assert "eligibility decision (s13)" in details and "indicative budget" in details


async def test_a_case_a_person_asked_for_is_taken_on_by_the_social_worker_who_verifies_it(
    live: dict[str, Any],
) -> None:
    store = live["app"].state.store
    async with api(live["app"]) as client:
        sw, person = await token(client, "demo-social-worker"), await token(client, "demo-person")
        opened = await client.post("/api/cases", json={k: v for k, v in START.items() if k != "person_user"},
                                   headers=person)
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
        await wait_for_stage(client, case_id, "assessment", sw)
        assert (await on_case_list(store, case_id)).assigned_to is None
        response = await client.post(f"/api/cases/{case_id}/steps/verify_assessment", json=VERIFIED,
                                     headers=sw)
        assert response.status_code == 200, response.text
        assert store.get_case(case_id).assigned_to == "demo-social-worker"
        # The person's case was opened by the person, not by "operations".
        from carebudget.web.timeline_words import trail_lines

        opened_line = [ln for ln in trail_lines(store.case_trail(case_id)) if ln["what"] == "case opened"]
        assert [(ln["actor"], ln["role"]) for ln in opened_line] == [("demo-person", "person")]
        assert case_id in {r.case_id for r in store.person_cases("demo-person", role="person")}


async def test_a_case_cannot_be_given_to_someone_who_is_not_a_social_worker(
    live: dict[str, Any],
) -> None:
    async with api(live["app"]) as client:
        sw = await token(client, "demo-social-worker")
        response = await client.post("/api/cases", json={**START, "assigned_to": "demo-approver"}, headers=sw)
        assert response.status_code == 422
        assert response.json()["field"] == "assigned_to"
        assert "not a social worker" in response.json()["message"]


async def test_a_step_out_of_turn_is_refused_with_the_workflows_reason(
    live: dict[str, Any],
) -> None:
    async with api(live["app"]) as client:
        sw, approver = (
            await token(client, "demo-social-worker"),
            await token(client, "demo-approver"),
        )
        case_id = (await client.post("/api/cases", json=START, headers=sw)).json()["case_id"]
        await wait_for_stage(client, case_id, "assessment", sw)
        response = await client.post(
            f"/api/cases/{case_id}/steps/approve", json={}, headers=approver
        )
        assert response.status_code == 409
        assert "approve is taken at sign_off" in response.json()["message"]


async def test_someone_elses_case_is_refused_to_a_person_and_the_attempt_is_in_the_ledger(
    live: dict[str, Any],
) -> None:
    app = live["app"]
    app.state.store.create_user(
        "other-person",
        "Other Person",
        "person",
        __import__("carebudget.web.auth", fromlist=["hash_password"]).hash_password(DEMO_PASSWORD),
        actor="test",
    )
    async with api(app) as client:
        sw, other = await token(client, "demo-social-worker"), await token(client, "other-person")
        case_id = (await client.post("/api/cases", json=START, headers=sw)).json()["case_id"]
        await wait_for_stage(client, case_id, "assessment", sw)
        response = await client.get(f"/api/cases/{case_id}", headers=other)
        assert response.status_code == 403
        last = app.state.store.case_trail(case_id, role="compliance")[-1]
        assert (last.actor, last.action) == ("other-person", "access_refused")


async def test_an_unknown_case_is_not_found(live: dict[str, Any]) -> None:
    async with api(live["app"]) as client:
        response = await client.get(
            "/api/cases/NO-SUCH-CASE", headers=await token(client, "demo-operations")
        )
        assert response.status_code == 404


async def test_a_bad_start_is_refused_naming_the_field_and_opens_nothing(
    live: dict[str, Any],
) -> None:
    async with api(live["app"]) as client:
        sw = await token(client, "demo-social-worker")
        before = (await client.get("/api/cases", headers=sw)).json()["total"]
        response = await client.post(
            "/api/cases", json={**START, "council": "atlantis"}, headers=sw
        )
        assert response.status_code == 422 and "atlantis" in response.json()["message"]
        response = await client.post("/api/cases", json={"council": "demo"}, headers=sw)
        assert response.status_code == 422
        assert (await client.get("/api/cases", headers=sw)).json()["total"] == before


@asynccontextmanager
async def page_session(app: Any, username: str) -> AsyncIterator[httpx.AsyncClient]:
    async with api(app) as client:
        response = await client.post(
            "/sign-in", data={"username": username, "password": DEMO_PASSWORD,
                              "csrf_token": await _csrf(client)}
        )
        assert response.status_code == 303
        client.headers["X-CSRF-Token"] = await _csrf(client)
        yield client


async def _csrf(client: httpx.AsyncClient) -> str:
    found = CSRF.search((await client.get("/sign-in")).text)
    assert found
    return found.group(1)


@pytest.fixture(scope="module")
async def open_case(live: dict[str, Any]) -> str:
    async with api(live["app"]) as client:
        sw = await token(client, "demo-social-worker")
        case_id = (await client.post("/api/cases", json=START, headers=sw)).json()["case_id"]
        await wait_for_stage(client, case_id, "assessment", sw)
        return str(case_id)


CASE_PAGE_ROLES = ("person", "social_worker", "approver", "appeals_officer")
ALL = (
    "person",
    "social_worker",
    "approver",
    "appeals_officer",
    "operations",
    "compliance",
    "policy_admin",
    "admin",
)


@pytest.mark.parametrize("role", ALL)
async def test_the_case_page_admits_the_people_in_a_case_and_refuses_the_rest(
    live: dict[str, Any], open_case: str, role: str
) -> None:
    async with page_session(live["app"], f"demo-{role.replace('_', '-')}") as client:
        response = await client.get(f"/cases/{open_case}")
    assert response.status_code == (200 if role in CASE_PAGE_ROLES else 403)


@pytest.mark.parametrize("role", CASE_PAGE_ROLES)
async def test_only_the_person_is_offered_the_self_assessment(
    live: dict[str, Any], open_case: str, role: str
) -> None:
    async with page_session(live["app"], f"demo-{role.replace('_', '-')}") as client:
        page = (await client.get(f"/cases/{open_case}")).text
    assert ("Send my answers" in page) == (role == "person")
    assert ("Verify and decide" in page) == (role == "social_worker")


@pytest.mark.parametrize(
    "role", ("social_worker", "approver", "appeals_officer", "operations", "compliance")
)
async def test_a_step_posted_by_a_role_that_does_not_take_it_is_refused(
    live: dict[str, Any], open_case: str, role: str
) -> None:
    async with page_session(live["app"], f"demo-{role.replace('_', '-')}") as client:
        response = await client.post(f"/cases/{open_case}/steps/self_assess", data={})
    assert response.status_code == 403


async def test_a_self_assessment_without_the_wellbeing_answer_is_shown_beside_the_question(
    live: dict[str, Any], open_case: str
) -> None:
    async with page_session(live["app"], "demo-person") as client:
        response = await client.post(
            f"/cases/{open_case}/steps/self_assess", data={"now.nutrition": "needs_assistance"}
        )
        assert response.status_code == 400
        assert "Choose whether the effect on wellbeing is significant" in response.text
        state = (await client.get(f"/cases/{open_case}")).text
    assert "Send my answers" in state  # nothing changed: still waiting for the answers


@pytest.mark.parametrize(
    "role,path",
    [
        ("social_worker", "/cases"),
        ("approver", "/cases?stage=sign_off"),
        ("appeals_officer", "/cases?stage=appeal"),
        ("person", "/my-case"),
        ("social_worker", "/cases/new"),
        ("person", "/cases/new"),
    ],
)
async def test_each_worker_has_a_start_page(live: dict[str, Any], role: str, path: str) -> None:
    async with page_session(live["app"], f"demo-{role.replace('_', '-')}") as client:
        response = await client.get(path, follow_redirects=True)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "role,path",
    [
        ("operations", "/cases"),
        ("person", "/cases"),
        ("approver", "/my-case"),
        ("approver", "/cases/new"),
        ("compliance", "/cases/new"),
    ],
)
async def test_the_case_work_pages_refuse_other_roles(
    live: dict[str, Any], role: str, path: str
) -> None:
    async with page_session(live["app"], f"demo-{role.replace('_', '-')}") as client:
        response = await client.get(path)
    assert response.status_code == 403


async def test_a_case_started_with_bad_details_says_what_is_wrong_beside_each_field(
    live: dict[str, Any],
) -> None:
    async with page_session(live["app"], "demo-social-worker") as client:
        response = await client.post(
            "/cases/new",
            data={"council": "demo", "name": "", "date_of_birth": "soon", "setting": "castle"},
        )
    assert response.status_code == 400
    for field in ("f-name-error", "f-date-of-birth-error", "f-setting-error"):
        assert f'id="{field}"' in response.text


async def _case_at_sign_off(client: httpx.AsyncClient) -> tuple[str, dict[str, dict[str, str]]]:
    who = {
        name: await token(client, f"demo-{name}")
        for name in ("social-worker", "person", "approver", "approver-2")
    }
    case_id = (await client.post("/api/cases", json=START, headers=who["social-worker"])).json()[
        "case_id"
    ]
    await wait_for_stage(client, case_id, "assessment", who["social-worker"])
    for name, headers, payload in (
        ("self_assess", who["person"], {"needs": NEEDS, "predicted_needs": PREDICTED}),
        ("verify_assessment", who["social-worker"], VERIFIED),
        ("submit_plan", who["social-worker"], PLAN),
    ):
        response = await client.post(
            f"/api/cases/{case_id}/steps/{name}", json=payload, headers=headers
        )
        assert response.status_code == 200, response.text
    return case_id, who


async def test_changes_asked_for_then_approved_give_the_plans_budget(live: dict[str, Any]) -> None:
    async with api(live["app"]) as client:
        case_id, who = await _case_at_sign_off(client)
        changes = await client.post(
            f"/api/cases/{case_id}/steps/request_changes",
            json={"reasons": "Name the meals provider"},
            headers=who["approver"],
        )
        assert changes.json()["stage"] == "support_planning"
        await client.post(
            f"/api/cases/{case_id}/steps/submit_plan", json=PLAN, headers=who["social-worker"]
        )
        approved = await client.post(
            f"/api/cases/{case_id}/steps/approve",
            json={"note": "Meets the needs"},
            headers=who["approver-2"],
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["personal_budget"]["weekly_cost"] == "252.35"


async def test_an_accepted_counter_proposal_gives_the_lower_budget(live: dict[str, Any]) -> None:
    async with api(live["app"]) as client:
        case_id, who = await _case_at_sign_off(client)
        await client.post(
            f"/api/cases/{case_id}/steps/counter_propose", json=COUNTER, headers=who["approver"]
        )
        accepted = await client.post(
            f"/api/cases/{case_id}/steps/accept_counter_proposal",
            json={"note": "Agreed"},
            headers=who["person"],
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["stage"] == "active_budget"
        assert accepted.json()["personal_budget"]["weekly_cost"] == "156.95"


async def test_a_counter_proposal_that_leaves_a_need_unmet_is_refused_and_nothing_changes(
    live: dict[str, Any],
) -> None:
    async with api(live["app"]) as client:
        case_id, who = await _case_at_sign_off(client)
        short = {
            "proposal": {
                "weekly_amount": "200.00",
                "justifications": COUNTER["proposal"]["justifications"][:2],
            }
        }
        response = await client.post(
            f"/api/cases/{case_id}/steps/counter_propose", json=short, headers=who["approver"]
        )
        assert response.status_code == 409
        assert (
            "home safely" in response.json()["message"]
            or "home_safety" in response.json()["message"]
        )
        state = (await client.get(f"/api/cases/{case_id}", headers=who["approver"])).json()
        assert state["stage"] == "sign_off" and state["counter_proposal"] is None


async def test_needs_met_only_under_the_prevention_policy_move_the_case_on_in_plain_words(
    live: dict[str, Any],
) -> None:
    """Care Act 2014 s19(1) and s2: not eligible now (reg 2(1)), but the demo council's prevention
    policy meets the needs predicted over the next 12 months, so the case goes on to planning."""
    one_now = {**NEEDS, "outcomes": {"nutrition": ["needs_assistance"]}}
    two_predicted = {**NEEDS, "outcomes": {"personal_hygiene": ["needs_assistance"],
                                           "toilet_needs": ["needs_assistance"]}}
    async with api(live["app"]) as client:
        sw, person = await token(client, "demo-social-worker"), await token(client, "demo-person")
        case_id = (await client.post("/api/cases", json=START, headers=sw)).json()["case_id"]
        await wait_for_stage(client, case_id, "assessment", sw)
        for name, headers, payload in (
            ("self_assess", person, {"needs": one_now, "predicted_needs": two_predicted}),
            ("verify_assessment", sw, {**VERIFIED, "needs": one_now, "predicted_needs": two_predicted, "support": [
                {"outcome": o, "when": when, "support": [{"provision": "home_care_hour", "units": "3"}]}
                for o, when in (("nutrition", "current"), ("personal_hygiene", "predicted"),
                                ("toilet_needs", "predicted"))]}),
        ):
            response = await client.post(f"/api/cases/{case_id}/steps/{name}", json=payload, headers=headers)
            assert response.status_code == 200, response.text
        state = await wait_for_stage(client, case_id, "support_planning", sw)
    record = state["decisions"]["eligibility"]["eligibility"]
    assert (record["eligible"], record["needs_met"], record["basis"]) == (False, True, "predicted")
    async with page_session(live["app"], "demo-person") as pages:
        page = (await pages.get(f"/cases/{case_id}")).text
    assert "do not meet the national eligibility criteria today" in page
    assert "Under its prevention policy the council will meet them now" in page


async def test_a_care_home_case_without_the_admission_date_is_refused_naming_the_field(
    live: dict[str, Any],
) -> None:
    """SI 2014/2672 Sch 2 para 2: the charge cannot be decided without the day of admission."""
    care_home = {**START, "person": {**START["person"], "setting": "care_home"}}
    async with api(live["app"]) as client:
        sw = await token(client, "demo-social-worker")
        before = (await client.get("/api/cases", headers=sw)).json()["total"]
        response = await client.post("/api/cases", json=care_home, headers=sw)
        assert response.status_code == 422
        assert response.json()["field"] == "person.care_home_admission_date"
        assert (await client.get("/api/cases", headers=sw)).json()["total"] == before
    async with page_session(live["app"], "demo-social-worker") as pages:
        page = await pages.post("/cases/new", data={
            "council": "demo", "name": "Ena Khan", "date_of_birth": "1940-02-02", "setting": "care_home"})
    assert page.status_code == 400
    assert 'id="f-care-home-admission-date-error"' in page.text


async def test_identity_comes_from_sign_in_a_forged_opener_or_case_id_is_refused(live: dict[str, Any]) -> None:
    """Issue 11: a person could set opened_by (the ledger then named a social worker) or reuse
    another case's id; the service now gives ids and the opener is whoever is signed in."""
    async with api(live["app"]) as client:
        person, sw = await token(client, "demo-person"), await token(client, "demo-social-worker")
        before = (await client.get("/api/cases", headers=sw)).json()["total"]
        forged = await client.post("/api/cases", json={**START, "opened_by": "demo-social-worker"}, headers=person)
        assert (forged.status_code, forged.json()["field"]) == (422, "opened_by")
        reused = await client.post("/api/cases", json={**START, "case_id": "C-20260101-deadbeef"}, headers=person)
        assert (reused.status_code, reused.json()["field"]) == (422, "case_id")
        other = await client.post("/api/cases", json={**START, "person_user": "demo-someone-else"}, headers=person)
        assert (other.status_code, other.json()["field"]) == (422, "person_user")
        assert (await client.get("/api/cases", headers=sw)).json()["total"] == before
        own = await client.post("/api/cases", json=START, headers=person)
        assert own.status_code == 201, own.text
        state = await wait_for_stage(client, own.json()["case_id"], "assessment", sw)
    assert state["opened_by"] == "demo-person"
    assert state["timeline"][0]["actor"]["id"] == "demo-person"


async def test_operations_see_where_a_case_is_but_no_personal_details_and_staff_views_are_logged(
    live: dict[str, Any], open_case: str
) -> None:
    async with api(live["app"]) as client:
        ops, sw = await token(client, "demo-operations"), await token(client, "demo-social-worker")
        seen = (await client.get(f"/api/cases/{open_case}", headers=ops)).json()
        assert seen["stage"] and seen["case_id"] == open_case
        text = str(seen)
        assert START["person"]["name"] not in text and START["person"]["date_of_birth"] not in text
        assert "person" not in seen and "assessment" not in seen and "decisions" not in seen
        store = live["app"].state.store
        views_before = len([e for e in store.ledger_events("person.viewed") if e.case_id == open_case])
        full = (await client.get(f"/api/cases/{open_case}", headers=sw)).json()
        assert full["person"]["name"] == START["person"]["name"]
        views = [e for e in store.ledger_events("person.viewed") if e.case_id == open_case]
        assert len(views) == views_before + 1
        assert (views[-1].actor, views[-1].role) == ("demo-social-worker", "social_worker")


async def test_a_retried_start_with_the_same_idempotency_key_is_the_same_case(live: dict[str, Any]) -> None:
    async with api(live["app"]) as client:
        sw, other = await token(client, "demo-social-worker"), await token(client, "demo-person")
        key = {"Idempotency-Key": "intake-2026-12-01-0001"}
        first = await client.post("/api/cases", json=START, headers={**sw, **key})
        again = await client.post("/api/cases", json=START, headers={**sw, **key})
        assert first.status_code == again.status_code == 201
        assert first.json()["case_id"] == again.json()["case_id"]
        # Someone else using the same key gets a case of their own, never this one.
        theirs = await client.post("/api/cases", json={**START, "person_user": "demo-person"},
                                   headers={**other, **key})
        assert theirs.status_code == 201 and theirs.json()["case_id"] != first.json()["case_id"]
        bad = await client.post("/api/cases", json=START, headers={**sw, "Idempotency-Key": "no spaces allowed"})
        assert (bad.status_code, bad.json()["field"]) == (422, "Idempotency-Key")


async def test_unmet_needs_are_chosen_from_the_rate_card_and_anything_else_is_refused_in_plain_words(
    live: dict[str, Any],
) -> None:
    async with api(live["app"]) as client:
        case_id, who = await _case_at_sign_off(client)
        await client.post(f"/api/cases/{case_id}/steps/request_changes",
                          json={"reasons": "Record the unmet needs properly"}, headers=who["approver"])
        need = {"outcome": "home_safety", "provision": "respite_night", "units": "2", "words": "Respite at weekends"}
        for wrong, words in (
            ({**need, "provision": "helicopter_hour"}, "'helicopter_hour' is not on demo's rate card"),
            ({**need, "outcome": "gardening"}, "unmet_needs.0"),
            ({**need, "units": "-1"}, "greater than 0"),
            ({**need, "provision": "other", "words": " "}, "say what was wanted"),
            ("A day centre nearer home", "a plain note"),
        ):
            refused = await client.post(f"/api/cases/{case_id}/steps/submit_plan",
                                        json={**PLAN, "unmet_needs": [wrong]}, headers=who["social-worker"])
            assert refused.status_code in (409, 422) and words in refused.text, (wrong, refused.text)
        case = (await client.get(f"/api/cases/{case_id}", headers=who["social-worker"])).json()
        assert case["stage"] == "support_planning" and case["plan"]["version"] == 1
        wanted = [need, {"outcome": "community_facilities", "provision": "other", "units": None,
                         "words": "Transport to church"}]
        sent = await client.post(f"/api/cases/{case_id}/steps/submit_plan",
                                 json={**PLAN, "unmet_needs": wanted}, headers=who["social-worker"])
        assert sent.status_code == 200, sent.text
        assert sent.json()["plan"]["unmet_needs"] == wanted
    store = live["app"].state.store
    submitted = [e for e in store.case_trail(case_id, role="compliance") if e.action == "plan.submitted"]
    assert submitted[-1].payload["unmet_needs"] == wanted
    from sqlalchemy import text

    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT outcome, provision, units, words FROM report_unmet "
                                 "WHERE case_id = :c AND seq = :s ORDER BY n"),
                            {"c": case_id, "s": submitted[-1].seq}).all()
    assert [tuple(r) for r in rows] == [("home_safety", "respite_night", 200, "Respite at weekends"),
                                        ("community_facilities", "other", None, "Transport to church")]


async def test_the_plan_form_records_unmet_needs_from_the_rate_card_and_refuses_a_code_not_on_it(
    live: dict[str, Any],
) -> None:
    async with api(live["app"]) as client:
        case_id, who = await _case_at_sign_off(client)
        await client.post(f"/api/cases/{case_id}/steps/request_changes",
                          json={"reasons": "Add the unmet needs"}, headers=who["approver"])
    items = {"rows": "3", "unmet_rows": "2"}
    for i, item in enumerate(PLAN["plan"]["items"]):  # type: ignore[index]
        items.update({f"item-{i}-outcome": item["outcomes"][0], f"item-{i}-provision": item["provision"],
                      f"item-{i}-units": item["units"], f"item-{i}-unit_cost": item["unit_cost"]})
    need = {"unmet-0-outcome": "home_safety", "unmet-0-units": "2", "unmet-0-words": "Respite at weekends"}
    async with page_session(live["app"], "demo-social-worker") as client:
        page = (await client.get(f"/cases/{case_id}")).text
        assert 'name="unmet-0-provision"' in page and 'name="unmet-1-outcome"' in page
        more = await client.post(f"/cases/{case_id}/steps/submit_plan", data={**items, "add_unmet": "1"})
        assert 'name="unmet-2-words"' in more.text
        forged = await client.post(f"/cases/{case_id}/steps/submit_plan",
                                   data={**items, **need, "unmet-0-provision": "helicopter_hour"})
        assert forged.status_code == 400 and "is not on demo&#39;s rate card" in forged.text
        sent = await client.post(f"/cases/{case_id}/steps/submit_plan",
                                 data={**items, **need, "unmet-0-provision": "respite_night"})
        assert sent.status_code == 303, sent.text
        shown = (await client.get(f"/cases/{case_id}")).text
    assert "Unmet needs (for commissioning)" in shown and "respite night, 2 a week (Respite at weekends)" in shown


async def test_the_area_given_at_intake_is_one_of_the_councils_and_is_kept_on_the_case_list(
    live: dict[str, Any],
) -> None:
    store = live["app"].state.store
    async with api(live["app"]) as client:
        sw = await token(client, "demo-social-worker")
        before = (await client.get("/api/cases", headers=sw)).json()["total"]
        for wrong, words in (("Atlantis", "'Atlantis' is not one of demo's areas; choose one of Northgate"),
                             ("", "area"), ("x" * 61, "area")):
            refused = await client.post("/api/cases", json={**START, "area": wrong}, headers=sw)
            assert refused.status_code == 422 and words in refused.json()["message"], refused.text
        assert (await client.get("/api/cases", headers=sw)).json()["total"] == before
        opened = await client.post("/api/cases", json={**START, "area": "Riverside"}, headers=sw)
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
        assert (await on_case_list(store, case_id)).area == "Riverside"
        plain = (await client.post("/api/cases", json=START, headers=sw)).json()["case_id"]
        assert (await on_case_list(store, plain)).area is None  # reported as "not recorded"
    opening = next(e for e in store.case_trail(case_id, role="compliance") if e.action == "case.opened"
                   and "case" in e.payload)
    assert opening.payload["case"]["area"] == "Riverside"
    assert store.verify_chain(council="demo").ok
    async with page_session(live["app"], "demo-social-worker") as client:
        form = (await client.get("/cases/new")).text
        assert 'name="area"' in form and ">Old Town<" in form
        assert "<dt>Area</dt><dd>Riverside</dd>" in (await client.get(f"/cases/{case_id}")).text
        assert "<dt>Area</dt><dd>Not recorded</dd>" in (await client.get(f"/cases/{plain}")).text
        refused = await client.post("/cases/new", data={
            "council": "demo", "name": "Ada Lovelace", "date_of_birth": "1950-03-01", "setting": "home",
            "has_capacity": "yes", "asks_council_to_arrange": "yes", "area": "Atlantis"})
        assert refused.status_code == 400 and 'id="f-area-error"' in refused.text
