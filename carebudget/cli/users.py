"""`carebudget users`: who may sign in to the web service, and in which role."""

from __future__ import annotations

import getpass

import typer
from rich.table import Table

from carebudget.cli.output import make_console

users_app = typer.Typer(no_args_is_help=True, help="Users of the web service and their roles.")
console = make_console()


def _store():  # type: ignore[no-untyped-def]
    from carebudget.store import get_store

    return get_store()


def _councils() -> set[str]:
    from carebudget.policy.changes import NATIONAL
    from carebudget.rulebook import get_registry
    from carebudget.settings import get_settings

    return set(get_registry(get_settings().rules_dir).library.codes()) - {NATIONAL}


def _operator() -> str:
    """Who ran the command, for the ledger: the operating-system account."""
    return f"cli:{getpass.getuser()}"


@users_app.command("add")
def add(
    username: str = typer.Argument(..., help="Lower-case letters, digits, dots, - and _"),
    role: str = typer.Option(
        ...,
        "--role",
        help="person, social_worker, approver, appeals_officer, "
        "operations, compliance, policy_admin, national_admin or admin",
    ),
    name: str = typer.Option(
        None, "--name", help="Full name shown on pages (default: the username)"
    ),
    council: str = typer.Option(
        None, "--council", help="The council whose cases and policy the user works on (e.g. demo); "
        "required for every role but national_admin, which works for England as a whole",
    ),
    team: str = typer.Option(None, "--team", help="The team within the council (the fairness report compares teams)"),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="At least 10 characters; asked for when not given",
    ),
) -> None:
    """Add a user; the password is stored only as an argon2 hash."""
    from pydantic import ValidationError

    from carebudget.store import StoreError
    from carebudget.web.api import UserIn
    from carebudget.web.auth import hash_password
    from carebudget.web.forms import errors_by_field

    try:
        user = UserIn.model_validate(
            {"username": username, "display_name": name or username, "role": role, "password": password,
             "council": council, "team": team}
        )
    except ValidationError as exc:
        for field, message in errors_by_field(exc).items():
            console.print(f"[red]{field}[/red]: {message}")
        raise typer.Exit(2) from None
    from carebudget.store.roles import NATIONAL_ROLES

    if user.council is None and user.role not in NATIONAL_ROLES:
        console.print(f"[red]council[/red]: a {user.role} belongs to one council: give --council CODE")
        raise typer.Exit(2)
    if user.council is not None and user.council not in _councils():
        console.print(f"[red]council[/red]: no council {user.council!r}; councils are "
                      f"{', '.join(sorted(_councils()))}")
        raise typer.Exit(2)
    try:
        created = _store().create_user(
            user.username, user.display_name, user.role, hash_password(user.password), actor=_operator(),
            council=user.council, team=user.team,
        )
    except StoreError as exc:
        console.print(f"[red]refused[/red]: {exc.message}")
        raise typer.Exit(2) from None
    where = f"council {created.council}" if created.council else "England (national)"
    console.print(f"added [bold]{created.username}[/bold] as {created.role} of {where}")


@users_app.command("list")
def list_users() -> None:
    """Every user, role and whether they may sign in."""
    table = Table("username", "name", "role", "council", "team", "active")
    for user in _store().list_users():
        table.add_row(user.username, user.display_name, user.role, user.council or "(national)",
                      user.team or "", "yes" if user.active else "no")
    console.print(table)


@users_app.command("deactivate")
def deactivate(username: str) -> None:
    """Stop a user signing in (their past actions stay in the ledger)."""
    from carebudget.store import StoreError

    try:
        _store().update_user(username, active=False, actor=_operator())
    except StoreError as exc:
        console.print(f"[red]refused[/red]: {exc.message}")
        raise typer.Exit(2) from None
    console.print(f"deactivated {username}")


@users_app.command("team")
def set_team(
    username: str,
    team: str = typer.Argument(..., help='The team within the council; "" takes the user out of any team'),
) -> None:
    """Set a user's team (the fairness report compares teams)."""
    from carebudget.store import StoreError

    try:
        changed = _store().update_user(username, team=team, actor=_operator())
    except StoreError as exc:
        console.print(f"[red]refused[/red]: {exc.message}")
        raise typer.Exit(2) from None
    console.print(f"{username} is now in {changed.team}" if changed.team else f"{username} is in no team now")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
