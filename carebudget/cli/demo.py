"""`carebudget demo --cases N`: generated cases through every stage against the running service."""

from __future__ import annotations

import asyncio
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

console = Console()


async def run_demo(client: Any, count: int, concurrency: int = 8, store: Any = None) -> list[dict[str, Any]]:
    """Drive `count` cases: approvals, changes, counter-proposals, appeals, reviews, refusals.

    Every step is taken by a user of the store (the example staff and each case's person, created
    here when missing, unable to sign in): the service records no step by someone who is not."""
    from carebudget.service import cases, examples

    if store is None:
        from carebudget.store import get_store

        store = get_store()
    seed = int(asyncio.get_running_loop().time()) % 1000
    scripts = [examples.make_case(n, seed=seed) for n in range(count)]
    examples.ensure_users(store, scripts)
    limit = asyncio.Semaphore(concurrency)
    results: list[dict[str, Any]] = []
    with Progress(console=console) as progress:
        task = progress.add_task("Cases", total=count)

        async def one(n: int) -> None:
            script = scripts[n]
            async with limit:
                state = await examples.drive(client, script)
                if script.path == "approve" and n % 2 == 0:  # s27: a review on request
                    person = script.start["person_user"]
                    await cases.act(client, state["case_id"], "request_review", person, "person",
                                    {"reasons": "My needs have changed"})
                    # An underspend cannot exceed what was paid: the first week's council share.
                    unused = state["personal_budget"]["council_share"]
                    state = await cases.act(
                        client, state["case_id"], "complete_review", *examples.SOCIAL_WORKER,
                        {"underspend": unused, "outcomes_met": True,
                         "notes": "Care working; some visits unused"},
                    )
            results.append({"path": script.path, **state})
            progress.advance(task)

        await asyncio.gather(*(one(n) for n in range(count)))
    return results


def _table(results: list[dict[str, Any]]) -> Table:
    table = Table("case", "path", "stage", "budget /wk", "person pays", "council pays", "banked",
                  title="carebudget demo")
    for state in sorted(results, key=lambda s: s["case_id"]):
        budget = state.get("personal_budget") or {}
        table.add_row(state["case_id"], state["path"], state["stage"],
                      budget.get("weekly_cost", "-"), budget.get("person_charge", "-"),
                      budget.get("council_share", "-"), state.get("banked_underspend", "0"))
    return table


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(cases: int = typer.Option(10, "--cases", min=1, max=10_000)) -> None:
        """Drive N generated cases through every stage against the running service."""
        from carebudget.cli.case import _run
        from carebudget.cli.pools import print_story, run_pool_demo

        async def everything(client: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
            results = await run_demo(client, cases)
            return results, await run_pool_demo(client, results)

        results, story = _run(everything)
        console.print(_table(results))
        print_story(story)  # issue 15: a pool, a banked-savings purchase, a reablement episode
        stages: dict[str, int] = {}
        for state in results:
            stages[state["stage"]] = stages.get(state["stage"], 0) + 1
        console.print("By stage: " + ", ".join(f"{k} {v}" for k, v in sorted(stages.items())))
