"""`carebudget audit`: verify the ledger, export a case's trail, replay a past decision."""

from __future__ import annotations

import csv
import json
import sys
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

audit_app = typer.Typer(no_args_is_help=True, help="Compliance: the tamper-evident ledger and decision replay.")
console = Console()
errors = Console(stderr=True)


class Format(str, Enum):
    json = "json"
    csv = "csv"


def store_or_exit():  # type: ignore[no-untyped-def]
    from carebudget.store import StoreError, get_store

    try:
        return get_store()
    except StoreError as exc:
        errors.print(f"[red]cannot open the store[/red]: {exc}")
        raise typer.Exit(2) from None


@audit_app.command("verify")
def verify() -> None:
    """Re-hash the whole ledger; name the first broken row and exit 1 if any row was altered."""
    store = store_or_exit()
    with Progress(TextColumn("verifying ledger"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=errors, transient=True) as progress:
        task = progress.add_task("verify", total=None)
        report = store.verify_chain(lambda done, total: progress.update(task, completed=done, total=total))
    if report.ok:
        console.print(f"[green]intact[/green]: {report.rows} rows, head {report.head_hash}")
        return
    broken = report.first_broken
    assert broken is not None
    console.print(f"[red]broken at row {broken.seq}[/red]: {broken.reason}")
    raise typer.Exit(1)


@audit_app.command("trail")
def trail(
    case_id: Annotated[str, typer.Argument(help="Case id")],
    format: Annotated[Format, typer.Option("--format", help="json or csv")] = Format.json,
    role: Annotated[str, typer.Option("--role", help="Read as this role (personal data only if it needs it)")] = "compliance",
) -> None:
    """Export every ledger row of a case, in order."""
    from carebudget.store import StoreError

    store = store_or_exit()
    try:
        store.get_case(case_id, role=role)
        entries = [e.model_dump(mode="json") for e in store.case_trail(case_id, role=role)]
    except StoreError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if format is Format.json:
        sys.stdout.write(json.dumps(entries, indent=2, ensure_ascii=False) + "\n")
        return
    fields = ["seq", "at", "event_key", "case_id", "actor", "role", "action", "payload", "personal",
              "prev_hash", "hash"]
    writer = csv.DictWriter(sys.stdout, fieldnames=fields)
    writer.writeheader()
    for entry in entries:
        writer.writerow({k: json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for k, v in entry.items()})


@audit_app.command("replay")
def replay(decision_id: Annotated[int, typer.Argument(help="Decision id")]) -> None:
    """Re-run a stored decision under its stored rule bundle; exit 1 unless identical."""
    from carebudget.store import StoreError

    store = store_or_exit()
    try:
        result = store.replay_decision(decision_id)
    except StoreError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if result.error:
        console.print(f"[red]could not re-run decision {decision_id}[/red]: {result.error}")
        raise typer.Exit(1)
    if result.identical:
        console.print(f"[green]identical[/green]: decision {decision_id} re-run under bundle {result.bundle_hash}")
        return
    table = Table(title=f"decision {decision_id}: differences under bundle {result.bundle_hash[:12]}")
    for column in ("field", "stored", "replayed"):
        table.add_column(column)
    for diff in result.differences:
        table.add_row(diff.path, json.dumps(diff.stored), json.dumps(diff.replayed))
    console.print(table)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
