"""`carebudget report KIND --council C`: the council's view across the caseload (issue 14)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer
from rich.table import Table

from carebudget.cli.audit import errors, store_or_exit
from carebudget.cli.output import make_console

console = make_console()


class Output(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def report(
    kind: Annotated[str, typer.Argument(help="unmet-need, finance, fairness, timeliness, cld or pools")],
    council: Annotated[str, typer.Option("--council", help="The council's code")],
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (default: a year before --to)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default: today)")] = None,
    fmt: Annotated[Output, typer.Option("--format")] = Output.table,
    uplift: Annotated[str | None, typer.Option("--uplift", help="finance: yearly uplift, percent (default 3)")] = None,
    annual_budget: Annotated[str | None, typer.Option(
        "--annual-budget", help="finance: the council's annual budget for care, pounds")] = None,
) -> None:
    """One report of a council's caseload, stating the rules bundles and dates it covers."""
    if kind == "pools":  # issue 15: community pools, live from their workflows
        from carebudget.cli.pools import pools_report

        pools_report(council, fmt.value)
        return
    from carebudget.reports import ReportError, run
    from carebudget.reports.export import stream_csv, to_json

    store = store_or_exit()
    try:
        from carebudget.policy.versions import registry_for
        from carebudget.settings import get_settings

        result = run(store.engine, kind, council, start, end, uplift=uplift, annual_budget=annual_budget,
                     rules=registry_for(get_settings().rules_dir, store))
    except ReportError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if fmt is Output.json:
        print(to_json(result))
        return
    if fmt is Output.csv:
        for piece in stream_csv(store.engine, result):
            print(piece, end="")
        return
    console.print(f"[bold]{result.title}[/bold]: council {result.council}, {result.start} to {result.end} "
                  f"(as at {result.today})")
    console.print("rules bundles: " + (", ".join(b["bundle"][:12] for b in result.bundles) or "none in range"))
    for section in result.sections:
        table = Table(title=section.title, caption=section.note or None)
        for column in section.columns:
            table.add_column(column)
        for row in section.rows:
            table.add_row(*[str(v) if v is not None else "–" for v in row])
        console.print(table)
    for line in result.not_held:
        console.print(f"[yellow]not held[/yellow]: {line}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
