"""`carebudget case start|show|list|act`: operations' view of cases in the running service."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from carebudget.cli.output import make_console

console = make_console()
errors = make_console(stderr=True, soft_wrap=True)
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
    console.print(f"[bold]{state['case_id']}[/]  council {state['council']}  "
                  f"stage [cyan]{state['stage']}[/]  due {state.get('due_at') or '-'}"
                  + ("  [red]OVERDUE[/]" if state.get("overdue") else ""))
    budget = state.get("personal_budget")
    if budget:
        console.print(f"Personal budget (s26): {budget['weekly_cost']}/wk = person pays "
                      f"{budget['person_charge']} + council pays {budget['council_share']}")
    table = Table("#", "at", "stage", "action", "by", "summary", title="Timeline")
    for event in state.get("timeline", []):
        actor = event["actor"]
        table.add_row(str(event["seq"]), event["at"][:19], event["stage"], event["action"],
                      f"{actor['id']} ({actor['role']})", event["summary"][:80])
    console.print(table)


def register(app: typer.Typer) -> None:
    case_app = typer.Typer(no_args_is_help=True, help="Cases in the running service.")
    app.add_typer(case_app, name="case")

    @case_app.command("start")
    def start(
        input: Annotated[Path, typer.Option("--input", help="JSON: council, person, ...")],
    ) -> None:
        """Open a case (intake, s9) from a JSON file; prints the case id."""
        from carebudget.service import cases

        payload = _read_json(input)
        case_id = _run(lambda client: cases.start_case(client, payload))
        console.print(case_id)

    @case_app.command("show")
    def show(case_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
        """A case's stage, due date, budget and timeline."""
        from carebudget.service import cases

        state = _run(lambda client: cases.describe(client, case_id))
        if as_json:
            console.print_json(json.dumps(state))
        else:
            _show(state)

    @case_app.command("list")
    def list_(
        stage: str | None = typer.Option(None, "--stage"),
        overdue: bool = typer.Option(False, "--overdue", help="only overdue cases"),
        council: str | None = typer.Option(None, "--council"),
    ) -> None:
        """Cases by stage, council and overdue, from Temporal visibility (no personal data)."""
        from carebudget.service import cases

        rows = _run(lambda client: cases.list_cases(
            client, stage=stage, overdue=True if overdue else None, council=council))
        table = Table("case", "council", "stage", "due", "overdue", "status")
        for row in rows:
            table.add_row(row["case_id"], row["council"] or "", row["stage"] or "",
                          (row["due_at"] or "-")[:10], "yes" if row["overdue"] else "",
                          row["status"] or "")
        console.print(table)
        console.print(f"{len(rows)} case(s)")

    @case_app.command("act")
    def act(
        case_id: str,
        step: str,
        as_: str = typer.Option(..., "--as", help="USER:ROLE, e.g. sw-amy:social_worker"),
        input: Annotated[
            Path | None, typer.Option("--input", help="JSON payload of the step")
        ] = None,
    ) -> None:
        """Take a step (an update of the case's workflow) as USER:ROLE."""
        from carebudget.service import cases

        user, sep, role = as_.partition(":")
        if not sep or not user or not role:
            raise typer.BadParameter("--as must be USER:ROLE, e.g. sw-amy:social_worker")
        payload = _read_json(input) if input else {}
        state = _run(lambda client: cases.act(client, case_id, step, user, role, payload))
        console.print(f"{step}: done; the case is at [cyan]{state['stage']}[/]")
