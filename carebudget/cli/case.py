"""`carebudget case start|show|list|act`: cases in the running service, as the signed-in user.

Every case command goes through the web API with the token from `carebudget login`, so the
service records who acted (issue 11). `_run` talks to Temporal directly, for what works on the
service itself rather than as a person (the demo, reconciliation, pool reports)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import typer
from rich.console import Console
from rich.table import Table

from carebudget.cli.signin import call

console = Console()
errors = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path} must hold a JSON object")
    return data


def _run(work: Callable[[Any], Awaitable[T]]) -> T:
    """Connect to Temporal (from settings) and run `work(client)`; service errors exit non-zero."""
    from carebudget.service import cases
    from carebudget.settings import get_settings

    async def main() -> T:
        settings = get_settings()
        try:
            client = await asyncio.wait_for(cases.get_client(settings), timeout=10)
        except (OSError, RuntimeError, TimeoutError) as exc:
            errors.print(f"[red]cannot reach Temporal at {settings.effective_temporal_address}: "
                          f"{exc}. Is `carebudget serve` running?[/]")
            raise typer.Exit(2) from None
        return await work(client)

    try:
        return asyncio.run(main())
    except cases.CaseNotFound as exc:
        errors.print(f"[red]{exc.reason}[/]")
        raise typer.Exit(1) from None
    except cases.CaseServiceError as exc:
        field = f" ({exc.field})" if exc.field else ""
        errors.print(f"[red]refused{field}: {exc.reason}[/]")
        raise typer.Exit(1) from None


def _show(state: dict[str, Any]) -> None:
    console.print(f"[bold]{state['case_id']}[/]  council {state.get('council')}  "
                  f"stage [cyan]{state['stage']}[/]  due {state.get('due_at') or '-'}"
                  + ("  [red]OVERDUE[/]" if state.get("overdue") else ""))
    budget = state.get("personal_budget")
    if budget:
        console.print(f"Personal budget (s26): {budget['weekly_cost']}/wk = person pays "
                      f"{budget['person_charge']} + council pays {budget['council_share']}")
    table = Table("#", "at", "stage", "action", "by", "summary", title="Timeline")
    for event in state.get("timeline", []):
        actor = event.get("actor") or {}
        by = f"{actor['id']} ({actor.get('role')})" if actor.get("id") else str(actor.get("role") or "")
        table.add_row(str(event["seq"]), str(event["at"])[:19], str(event["stage"]), event["action"],
                      by, str(event.get("summary") or "")[:80])
    console.print(table)


def register(app: typer.Typer) -> None:
    case_app = typer.Typer(no_args_is_help=True, help="Cases in the running service, as the "
                           "signed-in user (`carebudget login` first).")
    app.add_typer(case_app, name="case")

    @case_app.command("start")
    def start(
        input: Annotated[Path, typer.Option("--input", help="JSON: council, person, ...")],
    ) -> None:
        """Open a case (intake, s9) from a JSON file; prints the case id. You are its opener."""
        payload = _read_json(input)
        # A retried start with the same key is the same case (the service makes the id).
        key = {"Idempotency-Key": uuid.uuid4().hex}
        console.print(call("POST", "/api/cases", json=payload, headers=key)["case_id"])

    @case_app.command("show")
    def show(case_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
        """A case's stage, due date, budget and timeline (what your role may see of it)."""
        state = call("GET", f"/api/cases/{quote(case_id, safe='')}")
        if as_json:
            console.print_json(json.dumps(state))
        else:
            _show(state)

    @case_app.command("list")
    def list_(
        stage: str | None = typer.Option(None, "--stage"),
        overdue: bool = typer.Option(False, "--overdue", help="only overdue cases"),
        council: str | None = typer.Option(None, "--council"),
        page: int = typer.Option(1, "--page", min=1),
        size: int = typer.Option(50, "--size", min=1, max=500),
    ) -> None:
        """Your council's cases by stage and overdue, soonest deadline first."""
        query: dict[str, Any] = {"page": page, "size": size}
        query |= {k: v for k, v in (("stage", stage), ("council", council)) if v}
        if overdue:
            query["overdue"] = "true"
        body = call("GET", "/api/cases", params=query)
        table = Table("case", "council", "stage", "due", "overdue", "assigned")
        for row in body["cases"]:
            table.add_row(row["case_id"], row.get("council") or "", row.get("stage") or "",
                          str(row.get("due") or "-"), "yes" if row.get("overdue") else "",
                          row.get("assigned_to") or "")
        console.print(table)
        console.print(f"{len(body['cases'])} of {body['total']} case(s)")

    @case_app.command("act")
    def act(
        case_id: str,
        step: str,
        input: Annotated[
            Path | None, typer.Option("--input", help="JSON payload of the step")
        ] = None,
    ) -> None:
        """Take a step (an update of the case's workflow) as the signed-in user."""
        payload = _read_json(input) if input else {}
        state = call("POST", f"/api/cases/{quote(case_id, safe='')}/steps/{quote(step, safe='')}",
                     json=payload)
        console.print(f"{step}: done; the case is at [cyan]{state['stage']}[/]")
