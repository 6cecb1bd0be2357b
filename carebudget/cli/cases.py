"""`carebudget cases`: the operations case list, and rebuilding it from the ledger."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from carebudget.cli.audit import errors, store_or_exit
from carebudget.cli.output import make_console

cases_app = typer.Typer(no_args_is_help=True, help="Operations: the case list.")
console = make_console()


@cases_app.command("reindex")
def reindex() -> None:
    """Rebuild the case list from the ledger's case.opened / case.updated rows."""
    store = store_or_exit()
    with Progress(TextColumn("replaying ledger"), BarColumn(), MofNCompleteColumn(),
                  console=errors, transient=True) as progress:
        task = progress.add_task("reindex", total=None)
        count = store.reindex_cases(lambda done, total: progress.update(task, completed=done, total=total))
    console.print(f"[green]reindexed[/green]: {count} cases")


@cases_app.command("list")
def list_cases(
    stage: Annotated[list[str] | None, typer.Option("--stage", help="Only these stages (repeatable)")] = None,
    overdue: Annotated[bool | None, typer.Option("--overdue/--not-overdue", help="Only (not) overdue")] = None,
    council: Annotated[str | None, typer.Option("--council")] = None,
    page: Annotated[int, typer.Option("--page", min=1)] = 1,
    size: Annotated[int, typer.Option("--size", min=1, max=500)] = 50,
    role: Annotated[str, typer.Option("--role", help="Read as this role")] = "operations",
) -> None:
    """One page of the case list, soonest deadline first."""
    from carebudget.store import StoreError

    store = store_or_exit()
    filters = {"stage": stage or None, "overdue": overdue, "council": council}
    try:
        rows, total = store.list_cases({k: v for k, v in filters.items() if v is not None},
                                       {"number": page, "size": size}, role=role)
    except StoreError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    table = Table(title=f"cases {(page - 1) * size + 1}-{(page - 1) * size + len(rows)} of {total}")
    for column in ("case", "council", "stage", "opened", "due", "overdue", "assigned", "amounts", "name"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.case_id, r.council, r.stage, str(r.opened), str(r.due or ""),
                      "yes" if r.overdue else "", r.assigned_to or "",
                      ", ".join(f"{k} {v}" for k, v in r.amounts.items()), r.name or "")
    console.print(table)


@cases_app.command("reconcile")
def reconcile(
    grace: Annotated[float, typer.Option("--grace", min=0, help="Leave store rows younger than this "
                                         "many seconds (their step may still be completing)")] = 30,
    case: Annotated[list[str] | None, typer.Option("--case", help="Only this case (repeatable)")] = None,
) -> None:
    """Make the store agree with Temporal after a crash; each repair is written to the ledger."""
    from datetime import timedelta

    from carebudget.cli.case import _run
    from carebudget.service.reconcile import reconcile as run

    store = store_or_exit()
    repairs = _run(lambda client: run(client, store, timedelta(seconds=grace), case or None))
    table = Table("case", "what was done", title="reconciled")
    for r in repairs:
        if r.changed or r.skipped:
            done = [f"voided {', '.join(r.voided)}"] if r.voided else []
            done += [f"{k}: {a!r} -> {b!r}" for k, (a, b) in r.fields.items()]
            done += ["opened from the workflow"] if r.opened else []
            table.add_row(r.case_id, "; ".join(done) or f"skipped: {r.skipped}")
    if table.row_count:
        console.print(table)
    changed = sum(r.changed for r in repairs)
    console.print(f"{len(repairs)} cases read, {changed} repaired, "
                  f"{sum(bool(r.skipped) for r in repairs)} skipped")


def register(app: typer.Typer) -> None:
    app.add_typer(cases_app, name="cases")
