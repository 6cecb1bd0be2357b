"""Issue 15 in a real browser (chromium, a real Temporal server and worker): a budget holder finds a
community pool, joins it with a share of their budget, sees their share, what stays under their own
control and the emergency fund, asks for a draw that another member agrees to; then their budget
statement shows the banked savings they spend on a home adaptation and the reablement the council
paid for (free to them, SI 2014/2672 reg 3)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from carebudget.service import cases, pools
from carebudget.web.app import create_app
from carebudget.web.demo_users import ensure_demo_users
from tests.web.conftest import make_settings
from tests.web.live import chromium, needs_chromium, serve, shot, sign_in
from tests.web.pool_support import SW, budget_holder, ensure_person, opened
from tests.web.temporal_support import TemporalThread, with_queue

pytestmark = [pytest.mark.browser, needs_chromium]
T = TypeVar("T")


def on_temporal(address: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(client)` against the test's Temporal server from this (synchronous) test."""
    from temporalio.client import Client

    from carebudget.service.codec import data_converter

    async def main() -> T:
        return await work(await Client.connect(address, data_converter=data_converter()))

    return asyncio.run(main())


def test_a_member_joins_a_pool_sees_their_share_and_the_fund_and_the_statement_shows_savings_and_reablement(
    tmp_path: Path,
) -> None:
    settings = with_queue(make_settings(tmp_path))
    store_app = create_app(settings)
    store = store_app.state.store
    ensure_demo_users(store)
    ensure_person(store, "pool-member-2")
    temporal = TemporalThread(store, settings.task_queue)
    address = temporal.start()
    try:
        async def prepare(client: Any) -> tuple[list[dict[str, Any]], str]:
            holders = [await budget_holder(client, 95 + n, user, settings.task_queue)
                       for n, user in enumerate(("demo-person", "pool-member-2"))]
            pool_id = await pools.start_pool(client, {
                "council": "demo", "name": "Riverside lunch and walking club", "opened_by": SW[0],
                "purpose": "Shared support to get out, eat together and stay connected"}, settings.task_queue)
            await opened(client, pool_id)
            second = holders[1]
            share = (Decimal(second["personal_budget"]["weekly_cost"]) * Decimal("0.10")).quantize(Decimal("0.01"))
            await pools.act(client, pool_id, "join", "pool-member-2", "person",
                            {"case_id": second["case_id"], "weekly_share": f"{share:.2f}"})
            # A review that banks an underspend with outcomes met (savings that earn trust).
            case_id = holders[0]["case_id"]
            await cases.act(client, case_id, "request_review", "demo-person", "person",
                            {"reasons": "I have saved some of my budget"})
            await cases.act(client, case_id, "complete_review", *SW, {
                "underspend": holders[0]["personal_budget"]["council_share"], "outcomes_met": True})
            return holders, pool_id

        holders, pool_id = on_temporal(address, prepare)
        mine = holders[0]
        budget = Decimal(mine["personal_budget"]["weekly_cost"])
        share = (budget * Decimal("0.10")).quantize(Decimal("0.01"))
        app = create_app(settings.model_copy(update={"temporal_address": address}), store=store)
        with serve(app) as base, chromium() as browser:
            person = sign_in(browser, base, "demo-person")
            person.get_by_role("link", name="Community pools").click()
            assert "You are not in a community pool" in person.content()
            person.get_by_role("link", name="Find out more and join").click()
            person.get_by_label("Your weekly share (£)").fill(f"{budget:.2f}")
            person.get_by_role("button", name="Join the pool").click()
            assert "the council's policy allows 20%" in person.locator(".error-summary").inner_text()
            person.get_by_label("Your weekly share (£)").fill(f"{share:.2f}")
            person.get_by_role("button", name="Join the pool").click()
            assert "You joined the pool" in person.locator("[role=status]").inner_text()

            shared = person.locator("#your-share").inner_text()
            assert f"You pool £{share:.2f} a week of your £{budget:.2f} budget" in shared
            assert person.locator("#your-control").inner_text() == f"£{budget - share:.2f}"
            fund = Decimal(person.locator("#emergency-fund").inner_text().lstrip("£"))
            assert fund > 0
            members = person.locator("#members").inner_text()
            assert "You" in members and "Member 1" in members and holders[1]["case_id"] not in members

            draw = (fund / 2).quantize(Decimal("0.01"))
            person.get_by_label("Amount (£)").fill(f"{draw:.2f}")
            person.get_by_label("What it is needed for").fill("Taxi to hospital when the bus failed")
            person.get_by_label("Who it is for").select_option(label="You")
            person.get_by_role("button", name="Ask the members").click()
            assert "Waiting for the members" in person.locator("#draw-1").inner_text()

            other = sign_in(browser, base, "pool-member-2")
            other.goto(f"{base}/pools/{pool_id}")
            other.get_by_role("button", name="Agree to draw 1").click()
            assert "Approved on" in other.locator("#draw-1").inner_text()
            person.reload()
            assert person.locator("#emergency-fund").inner_text() == f"£{fund - draw:.2f}"
            shot(person, "person-community-pool")

            # Reablement recorded by the social worker on the case page, with its cost to the council.
            worker = sign_in(browser, base, "demo-social-worker")
            worker.goto(f"{base}/cases/{mine['case_id']}")
            worker.get_by_text("Record an episode of reablement or intermediate care").click()
            worker.get_by_label("Date it started").fill(str(mine["plan_started"]))
            worker.get_by_label("Weeks").fill("6")
            worker.get_by_label("Weekly cost to the council (£)").fill("240.00")
            worker.get_by_label("Provider").fill("Demo BC reablement team")
            worker.get_by_role("button", name="Record the reablement").click()
            assert "free to the person" in worker.locator("[role=status]").inner_text()
            # Staff of the council see every pool, its members by reference, and review it.
            worker.get_by_role("link", name="Community pools").click()
            worker.get_by_role("link", name="Riverside lunch and walking club").click()
            listed = worker.locator("#members").inner_text()
            assert mine["case_id"] in listed and holders[1]["case_id"] in listed
            worker.get_by_label("Were the members' outcomes met?").select_option("yes")
            worker.get_by_label("Planned spending (£)").fill("300")
            worker.get_by_label("Spent (£)").fill("270")
            worker.get_by_role("button", name="Record the review").click()
            assert "the pool earns a larger share" in worker.locator("#outcomes ~ table").first.inner_text()
            shot(worker, "social-worker-community-pool")

            # The person's statement: banked savings, spent on a home adaptation; reablement's cost.
            person.goto(f"{base}/cases/{mine['case_id']}")
            banked = Decimal(person.locator("#banked-balance").inner_text().lstrip("£"))
            assert banked > 0
            spend = (banked / 2).quantize(Decimal("0.01"))
            person.get_by_label("What the savings are for").select_option("home_adaptation")
            person.get_by_label("Amount (£)").fill(f"{spend:.2f}")
            person.get_by_label("What it will buy or pay for").fill("Grab rails in the bathroom")
            person.get_by_role("button", name="Ask to use the savings").click()
            assert person.locator("#banked-balance").inner_text() == f"£{banked - spend:.2f}"
            uses = person.locator("#savings-uses").inner_text()
            assert "A home adaptation: Grab rails in the bathroom" in uses and "Approved" in uses
            assert person.locator("#reablement-cost").inner_text() == "£1440.00"
            assert "SI 2014/2672 reg 3" in person.locator("main").inner_text()
            assert person.locator("#own-control").inner_text() == f"£{budget - share:.2f}"
            shot(person, "person-statement-savings-reablement")
    finally:
        temporal.stop()
