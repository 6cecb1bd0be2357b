"""Issue 15 on the command line: `carebudget report pools` and the demo's pool, savings and
reablement story (community fund holding; s27 and s31-33; SI 2014/2672 reg 3)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

from rich.table import Table

from carebudget.cli.output import make_console

console = make_console()
PENNY = Decimal("0.01")


def pools_report(council: str, fmt: str) -> None:
    """The council's pools, live from their workflows: members, balances, outcomes."""
    import typer

    from carebudget.cli.case import _run
    from carebudget.service import pools
    from carebudget.service.cases import CaseServiceError

    try:
        found = _run(lambda client: pools.list_pools(client, council))
    except CaseServiceError as exc:
        console.print(f"[red]{exc.reason}[/red]")
        raise typer.Exit(2) from None
    rows = [pools.summary(p) for p in found]
    if fmt == "json":
        print(json.dumps({"kind": "pools", "council": council, "pools": rows}, indent=2))
        return
    table = Table("pool", "name", "members", "pooled /wk", "emergency fund", "time value", "outcomes met",
                  "rewarded", title=f"Community pools: council {council}")
    for row in rows:
        table.add_row(row["pool_id"], row["name"], str(len(row["members"])), row["weekly_pooled"],
                      row["emergency_fund"], row["time_value"], str(row["outcomes_met"]), str(row["rewarded"]))
    console.print(table)


async def _until_open(client: Any, pool_id: str) -> None:
    from carebudget.service import pools

    for _ in range(200):
        if (await pools.describe(client, pool_id))["terms"] is not None:
            return
        await asyncio.sleep(0.05)


async def run_pool_demo(client: Any, results: list[dict[str, Any]]) -> dict[str, Any]:
    """A pool of up to three budget holders (a draw by the members' decision, family time, a review),
    a purchase from banked savings, and a reablement episode, on cases the demo already drove."""
    from carebudget.service import cases, examples, pools

    sw = examples.SOCIAL_WORKER
    active = [s for s in results if s["stage"] == "active_budget" and s.get("personal_budget")]
    story: dict[str, Any] = {"pool": None, "purchase": None, "reablement": None}
    if not active:
        return story
    case = active[0]
    case = await cases.act(client, case["case_id"], "record_reablement", *sw, {
        "started": case["plan_started"], "weeks": 6, "weekly_cost": "240.00",
        "provider": "Demo BC reablement team"})
    story["reablement"] = {"case_id": case["case_id"], **case["reablement"][-1]}
    saver = next((s for s in active if Decimal(s["banked_underspend"]) > 0), None)
    paying = next((s for s in active if Decimal(s["personal_budget"]["council_share"]) > 0), None)
    if saver is None and paying is not None:  # a review that banks the first week's unused share
        await cases.act(client, paying["case_id"], "request_review", paying["person_user"], "person",
                        {"reasons": "I have saved some of my budget"})
        saver = await cases.act(client, paying["case_id"], "complete_review", *sw, {
            "underspend": paying["personal_budget"]["council_share"], "outcomes_met": True,
            "notes": "Outcomes met; some visits not needed"})
    if saver is not None:
        amount = (Decimal(saver["banked_underspend"]) / 2).quantize(PENNY)
        state = await cases.act(client, saver["case_id"], "use_savings", saver["person_user"], "person", {
            "purpose": "home_adaptation", "amount": f"{amount:.2f}",
            "description": "Grab rails and a lever tap in the bathroom"})
        story["purchase"] = {"case_id": saver["case_id"], **state["savings_uses"][-1],
                             "balance": state["banked_underspend"]}
    pool_id = await pools.start_pool(client, {
        "council": active[0]["council"], "name": "Riverside lunch and walking club",
        "purpose": "Shared support to get out, eat together and stay connected", "opened_by": sw[0]})
    await _until_open(client, pool_id)
    joined = []
    for member in active[:3]:
        share = (Decimal(member["personal_budget"]["weekly_cost"]) * Decimal("0.10")).quantize(PENNY)
        try:
            await pools.act(client, pool_id, "join", member["person_user"], "person",
                            {"case_id": member["case_id"], "weekly_share": f"{share:.2f}"})
            joined.append(member)
        except cases.CaseRefused as exc:  # the member's own needs come first: shown, not hidden
            console.print(f"[yellow]{member['case_id']} not pooled[/yellow]: {exc.reason}")
    pool = await pools.describe(client, pool_id)
    if len(joined) >= 2 and Decimal(pool["fund_balance"]) > 0:
        draw = (Decimal(pool["fund_balance"]) / 2).quantize(PENNY)
        await pools.act(client, pool_id, "propose_draw", joined[0]["person_user"], "person",
                        {"amount": f"{draw:.2f}", "reason": "Taxi to hospital when the bus failed",
                         "for_case": joined[0]["case_id"]})
        for member in joined[1:]:
            pool = await pools.act(client, pool_id, "vote", member["person_user"], "person",
                                   {"draw": 1, "agree": True})
            if pool["draws"][0]["status"] != "open":
                break
    if joined:
        await pools.act(client, pool_id, "give_time", joined[0]["person_user"], "person",
                        {"kind": "family", "giver": "A daughter", "hours": "3"})
        pool = await pools.act(client, pool_id, "review_pool", *sw,
                               {"outcomes_met": True, "planned": "300.00", "spent": "270.00"})
    story["pool"] = pools.summary(pool)
    return story


def print_story(story: dict[str, Any]) -> None:
    pool, purchase, episode = story["pool"], story["purchase"], story["reablement"]
    if pool:
        console.print(f"Pool {pool['pool_id']} ({pool['name']}): {len(pool['members'])} members, "
                      f"{pool['weekly_pooled']}/wk pooled, emergency fund {pool['emergency_fund']}, "
                      f"draws {[d['status'] for d in pool['draws']]}, rewarded {pool['rewarded']}")
    if purchase:
        outcome = "approved" if purchase["approved"] else "refused"
        console.print(f"Banked savings on {purchase['case_id']}: {purchase['request']['purpose']} "
                      f"{purchase['request']['amount']} {outcome}; balance now {purchase['balance']}")
    if episode:
        console.print(f"Reablement on {episode['case_id']}: {episode['episode']['weeks']} weeks cost the "
                      f"council {episode['cost']} ({episode['free_weeks']} free, SI 2014/2672 reg 3)")
