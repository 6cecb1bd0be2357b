"""`carebudget rules`: validate, test, diff and what-if for council policy officers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from carebudget.cli.decide import parse_day
from carebudget.cli.output import make_console

rules_app = typer.Typer(no_args_is_help=True, help="Council rule files: validate, test, diff, what-if.")
console = make_console()
RulesDir = Annotated[Path | None, typer.Option("--rules-dir", help="Defaults to CAREBUDGET_RULES_DIR")]


def _library(root: Path | None):
    from carebudget.rulebook.library import load_library
    from carebudget.rulebook.yamlsource import RuleFileError
    from carebudget.settings import get_settings

    try:
        return load_library(Path(root) if root else get_settings().rules_dir)
    except RuleFileError as exc:
        console.print(f"[red]invalid[/red] {exc}")
        raise typer.Exit(2) from None


@rules_app.command("validate")
def validate(rules_dir: RulesDir = None) -> None:
    """Parse and check every rule, parameter and rule-test file; exit 2 naming file, line and reason."""
    from carebudget.decisions.indicative_budget import check_bands
    from carebudget.policy.ruletests import discover
    from carebudget.rulebook.yamlsource import RuleFileError

    library = _library(rules_dir)
    problems = []
    for code in library.codes():
        bands = library.parameters(code).get("ras.bands")
        for value in (bands.values if bands else ()):
            problems += [f"{bands.path}: {p}" for p in check_bands(value.value)]
    try:
        tests = discover(library)
    except RuleFileError as exc:
        problems.append(str(exc))
        tests = []
    for problem in problems:
        console.print(f"[red]invalid[/red] {problem}")
    if problems:
        raise typer.Exit(2)
    rules = sum(len(f.rules) for c in library.codes() for layer in library.layers(c)[-1:] for f in layer.rule_files)
    console.print(f"[green]valid[/green]: {len(library.codes())} rule sets ({', '.join(library.codes())}), {rules} rules, {len(tests)} rule tests")


@rules_app.command("test")
def test(
    council: Annotated[str | None, typer.Argument(help="Council code (default: all, national included)")] = None,
    rules_dir: RulesDir = None,
) -> None:
    """Run the YAML rule tests kept next to the rules."""
    from carebudget.policy.ruletests import discover, run_test

    library = _library(rules_dir)
    tests = discover(library, council)
    failed = 0
    for t in tests:
        result = run_test(library, t)
        mark = "[green]pass[/green]" if result.passed else "[red]FAIL[/red]"
        console.print(f"{mark} \\[{t.council}] {t.name}")
        for problem in result.problems:
            console.print(f"     {problem}  ({t.path}:{t.line})")
        failed += not result.passed
    console.print(f"{len(tests) - failed} passed, {failed} failed")
    if failed or not tests:
        raise typer.Exit(1)


@rules_app.command("diff")
def diff(
    council: Annotated[str, typer.Option("--council")],
    first: Annotated[str, typer.Option("--from", help="YYYY-MM-DD")],
    second: Annotated[str, typer.Option("--to", help="YYYY-MM-DD")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    rules_dir: RulesDir = None,
) -> None:
    """What changed in a council's rules and amounts between two dates."""
    from carebudget.rulebook.diff import diff_bundles
    from carebudget.rulebook.library import UnknownCouncil

    library = _library(rules_dir)
    try:
        result = diff_bundles(library, council, parse_day(first, "from"), parse_day(second, "to"))
    except UnknownCouncil as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    console.print(f"{council}: bundle {result['from']['bundle'][:12]} ({first}) -> {result['to']['bundle'][:12]} ({second})")
    if result["same"]:
        console.print("No change.")
        return
    table = Table("parameter", "from", "to", "since", "reference")
    for p in result["parameters"]:
        table.add_row(p["parameter"], str(p["from"])[:40], str(p["to"])[:40], str(p["since"]), str(p["reference"])[:50])
    console.print(table)
    rules = Table("rule", "change", "reference")
    for r in result["rules"]:
        rules.add_row(r["rule"], r["change"], r["reference"])
    console.print(rules)


@rules_app.command("whatif")
def whatif(
    council: Annotated[str, typer.Option("--council")],
    candidate: Annotated[Path, typer.Option("--candidate", help="A folder shaped like rules/councils/<code>")],
    cases: Annotated[Path, typer.Option("--cases", help="JSON list or JSON lines of {id, date, input}")],
    on: Annotated[str | None, typer.Option("--date", help="Date for cases without one (default today)")] = None,
    rules_dir: RulesDir = None,
) -> None:
    """Decide every case under the rules in force and under the candidate: who gains, who loses."""
    from carebudget.policy.whatif import candidate_library, load_cases, run_whatif
    from carebudget.rulebook.library import UnknownCouncil
    from carebudget.rulebook.yamlsource import RuleFileError

    library = _library(rules_dir)
    try:
        proposed = candidate_library(library, council, candidate)
        items = load_cases(cases)
    except (RuleFileError, UnknownCouncil, ValueError, OSError) as exc:
        console.print(f"[red]refused[/red] {exc}")
        raise typer.Exit(2) from None
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("deciding cases", total=len(items))
        report = run_whatif(library, proposed, council, items, parse_day(on) if on else date.today(),
                            lambda n: progress.advance(task, n))
    summary = report.summary()
    table = Table("cases", "gain", "lose", "unchanged", "errors", "total weekly change")
    table.add_row(*(str(summary[k]) for k in ("cases", "gain", "lose", "unchanged", "errors")), f"£{summary['total_weekly_change']}")
    console.print(table)
    biggest = sorted(report.gainers + report.losers, key=lambda c: abs(c.delta), reverse=True)[:10]
    if biggest:
        detail = Table("case", "before", "after", "change")
        for c in biggest:
            detail.add_row(c.case_id, f"£{c.before:.2f}", f"£{c.after:.2f}", f"{c.delta:+.2f}")
        console.print(detail)
    for c in report.errors[:5]:
        console.print(f"[yellow]case {c.case_id}[/yellow]: {c.error}")


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
