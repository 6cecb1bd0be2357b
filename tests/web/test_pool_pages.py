"""Issue 15 on the pages, against a real Temporal server and worker: a social worker opens a
community pool; budget holders join with a share (too large a share, or no number, is refused in
plain words), ask for a draw on the emergency fund and decide it; one gives notice; the pool is
reviewed. A person sees only their own pool; every form needs its CSRF token. On the case pages,
the social worker records reablement and a review with outcomes met, and the person uses banked
savings; the statement shows the banked balance, the pooled share and the reablement cost."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from carebudget.service import cases, pools
from carebudget.web.app import create_app
from carebudget.web.demo_users import DEMO_PASSWORD, ensure_demo_users
from tests.web.conftest import CSRF, make_settings
from tests.web.pool_support import budget_holder, ensure_person, opened
from tests.web.temporal_support import case_worker, temporal_dev_server, with_queue

MEMBERS = ("demo-person", "pool-member-2", "pool-member-3")


@pytest.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    settings = with_queue(make_settings(tmp_path_factory.mktemp("poolpages")))
    async with temporal_dev_server() as env:
        app = create_app(settings, temporal_client=env.client)
        store = app.state.store
        ensure_demo_users(store)
        for username in (*MEMBERS[1:], "pool-outsider"):
            ensure_person(store, username)
        async with case_worker(env.client, store, settings.task_queue):
            holders = [await budget_holder(env.client, 90 + n, user, settings.task_queue)
                       for n, user in enumerate(MEMBERS)]
            yield {"app": app, "client": env.client, "holders": holders}


class Page:
    """One signed-in browser session, through the app's own forms (CSRF field included)."""

    def __init__(self, app: Any) -> None:
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web")
        self.token = ""

    async def sign_in(self, username: str) -> Page:
        found = CSRF.search((await self.http.get("/sign-in")).text)
        assert found
        response = await self.http.post("/sign-in", data={"username": username, "password": DEMO_PASSWORD,
                                                            "csrf_token": found.group(1)})
        assert response.status_code == 303, response.text
        self.token = CSRF.search((await self.http.get("/sign-in")).text).group(1)  # type: ignore[union-attr]
        return self

    async def get(self, url: str) -> httpx.Response:
        return await self.http.get(url)

    async def post(self, url: str, data: dict[str, str], csrf: bool = True) -> httpx.Response:
        return await self.http.post(url, data={**data, **({"csrf_token": self.token} if csrf else {})})


def text(response: httpx.Response) -> str:
    """The page's words, without markup, for plain-words checks."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)).replace("&#39;", "'")


async def test_members_join_draw_by_decision_give_notice_and_see_only_their_own_pool(live: dict[str, Any]) -> None:
    app, client, holders = live["app"], live["client"], live["holders"]
    sw = await Page(app).sign_in("demo-social-worker")
    people = [await Page(app).sign_in(u) for u in MEMBERS]
    outsider = await Page(app).sign_in("pool-outsider")

    # Opening a pool: without the form's token nothing happens; a missing name is named.
    refused = await sw.post("/pools/new", {"name": "Lunch club", "purpose": "Eat together"}, csrf=False)
    assert refused.status_code == 403 and "did not come from a page of this service" in text(refused)
    missing = await sw.post("/pools/new", {"name": "", "purpose": "Eat together", "council": "demo"})
    assert missing.status_code == 400 and "Give the pool a name" in text(missing)
    created = await sw.post("/pools/new", {"name": "Riverside lunch club", "council": "demo",
                                           "purpose": "Shared support to get out and eat together"})
    assert created.status_code == 303, text(created)
    pool_id = created.headers["location"].rsplit("/", 1)[-1]
    await opened(client, pool_id)

    # A budget holder finds the pool and joins it with a share of their own budget.
    first, budget = holders[0], Decimal(holders[0]["personal_budget"]["weekly_cost"])
    listing = await people[0].get("/pools")
    assert "Pools you could join" in text(listing) and f"/pools/{pool_id}/join" in listing.text
    join = f"/pools/{pool_id}/join"
    bad = await people[0].post(join, {"case_id": first["case_id"], "weekly_share": "lots"})
    assert bad.status_code == 400 and "Enter the weekly share as a number of pounds" in text(bad)
    greedy = await people[0].post(join, {"case_id": first["case_id"], "weekly_share": f"{budget / 2:.2f}"})
    assert greedy.status_code == 400 and "the council's policy allows 20%" in text(greedy)
    shares = [(Decimal(h["personal_budget"]["weekly_cost"]) * Decimal("0.10")).quantize(Decimal("0.01"))
              for h in holders]
    joined = await people[0].post(join, {"case_id": first["case_id"], "weekly_share": f"{shares[0]:.2f}"})
    assert joined.status_code == 303, text(joined)
    # The second joins through their social worker; the third themselves.
    added = await sw.post(join, {"case_id": holders[1]["case_id"], "weekly_share": f"{shares[1]:.2f}"})
    assert added.status_code == 303, text(added)
    assert (await people[2].post(join, {"case_id": holders[2]["case_id"],
                                        "weekly_share": f"{shares[2]:.2f}"})).status_code == 303

    page = await people[0].get(f"/pools/{pool_id}")
    words = text(page)
    assert page.status_code == 200
    assert f"You pool £{shares[0]:.2f} a week of your £{budget:.2f} budget" in words
    assert f"£{budget - shares[0]:.2f} a week stays under your own control" in words
    assert "Member 2" in words and holders[1]["case_id"] not in page.text  # others by number only

    # Only members see the pool; staff of the council see all of it.
    foreign = await outsider.get(f"/pools/{pool_id}")
    assert foreign.status_code == 403 and "only the community pools you are a member of" in text(foreign)
    assert (await outsider.get(join)).status_code == 403
    staff = await sw.get(f"/pools/{pool_id}")
    assert staff.status_code == 200 and all(h["case_id"] in staff.text for h in holders)
    assert pool_id in (await sw.get("/pools")).text

    # A draw on the emergency fund, decided by the members.
    fund = Decimal((await pools.describe(client, pool_id))["fund_balance"])
    too_much = await people[0].post(f"/pools/{pool_id}/draws", {"amount": f"{fund + 1:.2f}", "reason": "Taxi",
                                                                 "for_member": "1"})
    assert too_much.status_code == 400 and "more than the emergency fund holds" in text(too_much)
    no_reason = await people[0].post(f"/pools/{pool_id}/draws", {"amount": "1.00", "reason": "", "for_member": "1"})
    assert no_reason.status_code == 400 and "Say what the money is needed for" in text(no_reason)
    draw = (fund / 2).quantize(Decimal("0.01"))
    asked = await people[0].post(f"/pools/{pool_id}/draws", {
        "amount": f"{draw:.2f}", "reason": "Taxi to hospital when the bus failed", "for_member": "1"})
    assert asked.status_code == 303, text(asked)
    assert "Agree to draw 1" in (await people[1].get(f"/pools/{pool_id}")).text
    assert (await people[1].post(f"/pools/{pool_id}/draws/1/vote", {"agree": "yes"})).status_code == 303
    late = await people[2].post(f"/pools/{pool_id}/draws/1/vote", {"agree": "no"})
    assert late.status_code == 400 and "draw 1 was approved already" in text(late)
    assert (await outsider.post(f"/pools/{pool_id}/draws/1/vote", {"agree": "yes"})).status_code == 403
    page = await people[0].get(f"/pools/{pool_id}")
    assert "Approved on" in text(page) and "2 for, 0 against" in text(page)
    assert f"£{fund - draw:.2f}" in text(page)

    # The third member gives notice; the pool is reviewed and earns its reward.
    assert (await people[2].post(f"/pools/{pool_id}/leave", {})).status_code == 303
    again = await people[2].post(f"/pools/{pool_id}/leave", {})
    assert again.status_code == 400 and "notice was given already" in text(again)
    assert "Notice given: leaves on" in text(await people[2].get(f"/pools/{pool_id}"))
    unanswered = await sw.post(f"/pools/{pool_id}/review", {"outcomes_met": "", "planned": "300", "spent": "x"})
    assert unanswered.status_code == 400
    assert "Choose whether the members' outcomes were met" in text(unanswered)
    assert "Enter what was spent as a number of pounds" in text(unanswered)
    assert (await people[0].post(f"/pools/{pool_id}/review", {"outcomes_met": "yes", "planned": "300",
                                                              "spent": "270"})).status_code == 403
    reviewed = await sw.post(f"/pools/{pool_id}/review", {"outcomes_met": "yes", "planned": "300.00",
                                                          "spent": "270.00", "notes": "Going well"})
    assert reviewed.status_code == 303, text(reviewed)
    assert "the pool earns a larger share" in text(await people[1].get(f"/pools/{pool_id}"))

    # The member's own statement shows what is pooled and what stays theirs, need by need.
    statement_page = await people[0].get(f"/cases/{first['case_id']}")
    statement = text(statement_page)
    kept = re.search(r'id="needs-kept".*?</table>', statement_page.text, re.S)
    assert kept and len(re.findall(r'<td class="num">£\d+\.\d\d</td>', kept.group(0))) == len(
        first["assessment"]["support"])
    assert "Shared with a community pool" in statement
    assert f"You pool £{shares[0]:.2f} a week of this budget; £{budget - shares[0]:.2f} a week stays under your own control" in statement
    assert "What your own budget keeps for each need, at the council's rates" in statement
    assert "covers all of it" in statement
    state = await cases.describe(client, first["case_id"])
    assert state["pool_commitments"][0]["pool_id"] == pool_id
    await people[0].http.aclose()


async def test_reablement_review_with_outcomes_and_a_savings_purchase_show_on_the_statement(
    live: dict[str, Any],
) -> None:
    app, client, holder = live["app"], live["client"], live["holders"][1]
    case_id, share = holder["case_id"], Decimal(holder["personal_budget"]["council_share"])
    assert share > 0
    sw = await Page(app).sign_in("demo-social-worker")
    person = await Page(app).sign_in(MEMBERS[1])
    steps = f"/cases/{case_id}/steps"

    wrong = await sw.post(f"{steps}/record_reablement", {"service": "reablement", "started": "last week",
                                                         "weeks": "sixty", "weekly_cost": "-5"})
    assert wrong.status_code == 400
    for message in ("Enter the date it started as a real date", "whole number from 1 to 52",
                    "Enter the weekly cost to the council as zero or more pounds"):
        assert message in text(wrong)
    assert (await person.post(f"{steps}/record_reablement", {"started": holder["plan_started"], "weeks": "6",
                                                             "weekly_cost": "240"})).status_code == 403
    done = await sw.post(f"{steps}/record_reablement", {"service": "reablement", "started": holder["plan_started"],
                                                        "weeks": "8", "weekly_cost": "240.00",
                                                        "provider": "Reablement team"})
    assert done.status_code == 303, text(done)

    # A review with an underspend and outcomes met banks a share of it.
    assert (await person.post(f"{steps}/request_review", {"reasons": "I have saved some of my budget"})).status_code == 303
    await _stage(client, case_id, "review")
    odd = await sw.post(f"{steps}/complete_review", {"outcome": "no_change", "underspend": "10",
                                                     "outcomes_met": "maybe"})
    assert odd.status_code == 400 and "Choose whether the person's outcomes were met" in text(odd)
    too_much = await sw.post(f"{steps}/complete_review", {"outcome": "no_change", "underspend": "50000",
                                                          "outcomes_met": "yes"})
    assert too_much.status_code == 400 and "an underspend cannot exceed what was paid in" in text(too_much)
    completed = await sw.post(f"{steps}/complete_review", {"outcome": "no_change", "underspend": f"{share:.2f}",
                                                           "outcomes_met": "yes", "notes": "Outcomes met"})
    assert completed.status_code == 303, text(completed)
    state = await _stage(client, case_id, "active_budget")
    banked = Decimal(state["banked_underspend"])
    assert banked > 0 and state["reviews"][-1]["outcomes_met"] is True

    # The person asks to use the savings: too much is refused beside the field, then approved.
    over = await person.post(f"{steps}/use_savings", {"purpose": "home_adaptation", "amount": f"{banked + 1:.2f}",
                                                      "description": "Grab rails"})
    assert over.status_code == 400 and f"Enter at most £{banked:.2f}, the savings banked" in text(over)
    blank = await person.post(f"{steps}/use_savings", {"purpose": "", "amount": "1", "description": ""})
    assert blank.status_code == 400 and "Choose what the savings are for" in text(blank)
    spend = (banked / 2).quantize(Decimal("0.01"))
    used = await person.post(f"{steps}/use_savings", {"purpose": "home_adaptation", "amount": f"{spend:.2f}",
                                                      "description": "Grab rails in the bathroom"})
    assert used.status_code == 303, text(used)

    page = await person.get(f"/cases/{case_id}")
    words = text(page)
    assert f"You have £{banked - spend:.2f} banked" in words
    assert "A home adaptation: Grab rails in the bathroom" in words and "Approved" in words
    assert "SI 2014/2672 reg 3" in words and "£1920.00 in all" in words  # 8 weeks at 240
    assert "6 week(s); 2 week(s) may be charged" in words
    assert 'name="csrf_token"' in page.text and "Ask to use the savings" in page.text


async def _stage(client: Any, case_id: str, stage: str) -> dict[str, Any]:
    for _ in range(400):
        state = await cases.describe(client, case_id)
        if state["stage"] == stage and state.get("pending_step") is None:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"{case_id} never reached {stage}")


async def test_pool_pages_admit_only_their_roles_and_every_form_carries_its_token(live: dict[str, Any]) -> None:
    from carebudget.store.roles import ROLES
    from carebudget.web.demo_users import demo_username
    from carebudget.web.pages.pools import POOL_PAGE

    app, client = live["app"], live["client"]
    pool_id = await pools.start_pool(client, {"council": "demo", "name": "Allotment group", "opened_by": "demo-social-worker",
                                              "purpose": "Growing food together"}, app.state.settings.task_queue)
    await opened(client, pool_id)
    holder = live["holders"][0]
    member = await Page(app).sign_in(MEMBERS[0])
    assert (await member.post(f"/pools/{pool_id}/join", {"case_id": holder["case_id"],
                                                         "weekly_share": "1.00"})).status_code == 303
    for role in ROLES:
        page = await Page(app).sign_in(demo_username(role))
        listing = await page.get("/pools")
        if role in POOL_PAGE:
            assert listing.status_code == 200, (role, text(listing))
        else:
            assert listing.status_code == 403 and "may not do this" in text(listing), role
    sw = await Page(app).sign_in("demo-social-worker")
    # Every form on the pool pages posts the session's token; a post without it changes nothing.
    for page, url in ((sw, "/pools"), (sw, f"/pools/{pool_id}"), (member, f"/pools/{pool_id}"),
                      (member, "/pools")):
        html = (await page.get(url)).text
        forms = re.findall(r'<form method="post".*?</form>', html, re.S)
        assert forms and all('name="csrf_token"' in f for f in forms), url
    before = await pools.describe(client, pool_id)
    for url, data in ((f"/pools/{pool_id}/join", {"case_id": live["holders"][1]["case_id"], "weekly_share": "1"}),
                      (f"/pools/{pool_id}/leave", {"member": "1"}),
                      (f"/pools/{pool_id}/review", {"outcomes_met": "yes", "planned": "1", "spent": "1"}),
                      (f"/pools/{pool_id}/time", {"kind": "family", "giver": "Sam", "hours": "2"})):
        refused = await sw.post(url, data, csrf=False)
        assert refused.status_code == 403 and "did not come from a page of this service" in text(refused), url
    for url, data in ((f"/pools/{pool_id}/draws", {"amount": "0.01", "reason": "x", "for_member": "1"}),
                      (f"/pools/{pool_id}/leave", {})):
        assert (await member.post(url, data, csrf=False)).status_code == 403
    after = await pools.describe(client, pool_id)
    assert (after["members"], after["draws"], after["time"], after["reviews"]) == (
        before["members"], before["draws"], before["time"], before["reviews"])
    # A pool that does not exist, or a malformed reference, is said so in plain words.
    missing = await sw.get("/pools/P-20990101-nothere")
    assert missing.status_code == 404 and "No pool P-20990101-nothere found" in text(missing)
    odd = await sw.get("/pools/bad%20id%3Cscript%3E")
    assert odd.status_code == 400 and "Check what you entered" in text(odd)
    hours = await sw.post(f"/pools/{pool_id}/time", {"kind": "family", "giver": "Sam", "hours": "1e9"})
    assert hours.status_code == 400 and "at most 168" in text(hours)
    vote_on_nothing = await member.post(f"/pools/{pool_id}/draws/7/vote", {"agree": "yes"})
    assert vote_on_nothing.status_code == 400 and "draw 7 has not been proposed" in text(vote_on_nothing)


def test_pool_pages_say_plainly_when_temporal_cannot_be_reached(tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    from tests.web.conftest import sign_in
    from tests.web.live import free_port

    settings = make_settings(tmp_path).model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    app = create_app(settings)
    ensure_demo_users(app.state.store)
    with TestClient(app) as browser:
        assert sign_in(browser, "demo-social-worker").status_code == 303
        for url in ("/pools", "/pools/P-20260101-abcdef12"):
            response = browser.get(url)
            assert response.status_code == 503, (url, response.text[:300])
            assert "Service not available" in response.text
