"""The `carebudget` command line: each module below adds its commands to one Typer app."""

from __future__ import annotations

import importlib
import logging
import os
import sys

import typer

app = typer.Typer(no_args_is_help=True, help="Care Act 2014 personal budgets: rules, cases, audit.")

# Each module defines `register(app)`; ownership: decide/rules = decision core (issue 2),
# serve/case/demo = workflows (issue 3), audit/cases = store (issue 4), users = web (issue 5).
_MODULES = ("decide", "rules", "serve", "signin", "case", "demo", "audit", "cases", "users", "keys", "report")

for _name in _MODULES:
    importlib.import_module(f"carebudget.cli.{_name}").register(app)


def main() -> None:
    """Run the command, then leave without the interpreter's teardown: the Temporal SDK's native
    threads can crash it at exit (SIGABRT/SIGSEGV, about 1 run in 10) after the command has done
    its work and printed its result, which would turn a finished demo into a failed one."""
    code: int = 0
    try:
        app()
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            code = 1
        else:
            code = int(exc.code or 0)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
