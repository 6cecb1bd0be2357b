"""`carebudget audit`: verify the ledger, export a case's trail, replay a past decision."""

from __future__ import annotations

import csv
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from carebudget.cli.output import make_console

audit_app = typer.Typer(no_args_is_help=True, help="Compliance: the tamper-evident ledger and decision replay.")
console = make_console()
errors = make_console(stderr=True)


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
def verify(
    council: Annotated[str | None, typer.Option(
        "--council", help="Check only this council's chain (or 'national', 'service'); default: every chain")] = None,
    anchor: Annotated[Path | None, typer.Option(
        "--anchor", help="An anchor file from `audit anchor`: check nothing was cut or rewritten since")] = None,
) -> None:
    """Re-hash the ledger's chains; name the first broken row and exit 1 if anything was altered."""
    from carebudget.store import StoreError

    store = store_or_exit()
    try:
        document = None if anchor is None else read_anchor(anchor)
        with Progress(TextColumn("verifying ledger"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=errors, transient=True) as progress:
            task = progress.add_task("verify", total=None)
            report = store.verify_chain(lambda done, total: progress.update(task, completed=done, total=total),
                                        council=council, anchor=document)
    except StoreError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    checked = f"; {report.anchors_checked} anchored rows still in place" if report.anchors_checked else ""
    if report.ok:
        chains = ", ".join(f"{h.chain} ({h.rows})" for h in report.chains) or "no chains yet"
        console.print(f"[green]intact[/green]: {report.rows} rows, head {report.head_hash}; chains: {chains}{checked}",
                      soft_wrap=True)
        return
    broken = report.first_broken
    assert broken is not None
    where = f"row {broken.seq} of the {broken.chain!r} chain" if broken.seq else f"the {broken.chain!r} chain"
    console.print(f"[red]broken at {where}[/red]: {broken.reason}", soft_wrap=True)  # one greppable line
    raise typer.Exit(1)


@audit_app.command("anchor")
def anchor(
    out: Annotated[Path, typer.Option("--out", help="Where to write the anchor (JSON); keep it outside this service")],
    council: Annotated[str | None, typer.Option("--council", help="Only this council's chain")] = None,
) -> None:
    """Verify, then sign each chain's head as a checkpoint and write them to an anchor file."""
    from carebudget.store import StoreError

    store = store_or_exit()
    try:
        report = store.verify_chain(council=council)
        if not report.ok:
            broken = report.first_broken
            assert broken is not None
            console.print(f"[red]not anchoring a broken ledger[/red]: {broken.reason}")
            raise typer.Exit(1)
        document = store.export_anchor(council)
    except StoreError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    out.write_text(json.dumps(document, indent=2) + "\n")
    for point in document["anchors"]:
        console.print(f"anchored {point['chain']}: row {point['seq']}, hash {point['hash']}")
    console.print(f"written to {out}: keep it where this service's database administrators cannot change it")


def read_anchor(path: Path) -> object:
    from carebudget.store import InvalidInput

    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise InvalidInput(f"cannot read the anchor file {path}: {exc.strerror}", "anchor") from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"the anchor file {path} is not JSON", "anchor") from None


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
    fields = ["chain", "seq", "at", "event_key", "case_id", "actor", "role", "action", "payload", "personal",
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
