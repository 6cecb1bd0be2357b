"""`carebudget decide`: one decision record as JSON, the contract other parts build on."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import typer

from carebudget.decisions.inputs import KINDS


def fail(error: dict[str, Any], code: int = 2) -> None:
    typer.echo(json.dumps(error, indent=2), err=False)
    raise typer.Exit(code)


def read_json_input(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        fail({"error": "invalid input", "field": "input", "message": f"cannot read {source}: {exc.strerror}"})
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail({"error": "invalid input", "field": "input",
              "message": f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"})


def parse_day(value: str, field: str = "date") -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail({"error": "invalid input", "field": field, "message": f"{field} must be YYYY-MM-DD, got {value!r}"})
        raise


def register(app: typer.Typer) -> None:
    @app.command("decide")
    def decide_command(
        kind: str = typer.Argument(..., help=f"One of: {', '.join(KINDS)}"),
        council: str = typer.Option(..., "--council", help="Council code; 'england' for national rules only"),
        on: str = typer.Option(..., "--date", help="Decision date YYYY-MM-DD: chooses the rules in force"),
        source: str = typer.Option(..., "--input", help="JSON file with the case facts, or - for stdin"),
    ) -> None:
        """Print one JSON decision record. Invalid input: exit 2 with a JSON error naming the field."""
        from carebudget.decisions import DecisionError
        from carebudget.policy.decide import decide

        if kind not in KINDS:
            fail({"error": "invalid input", "field": "kind", "message": f"unknown kind {kind!r}; one of {', '.join(KINDS)}"})
        day = parse_day(on)
        payload = read_json_input(source)
        try:
            record = decide(kind, council, day, payload)
        except DecisionError as exc:
            fail(exc.to_json())
        typer.echo(json.dumps(record, indent=2, ensure_ascii=False))
