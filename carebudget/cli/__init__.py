"""The `carebudget` command line: each module below adds its commands to one Typer app."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(no_args_is_help=True, help="Care Act 2014 personal budgets: rules, cases, audit.")

# Each module defines `register(app)`; ownership: decide/rules = decision core (issue 2),
# serve/case/demo = workflows (issue 3), audit/cases = store (issue 4), users = web (issue 5).
_MODULES = ("decide", "rules", "serve", "signin", "case", "demo", "audit", "cases", "users", "keys", "report")

for _name in _MODULES:
    importlib.import_module(f"carebudget.cli.{_name}").register(app)


def main() -> None:
    app()
