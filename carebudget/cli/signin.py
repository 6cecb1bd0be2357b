"""`carebudget login` / `logout`: the command line acts as a signed-in user, through the web API.

Identity comes from sign-in only (issue 11): the token from POST /api/token is kept in a file
only its owner can read (0600), and every case command sends it. The service, not the command
line, says who is acting.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

console = Console()
errors = Console(stderr=True, soft_wrap=True)
TIMEOUT = 60.0  # seconds; a step may wait for its decisions
RUN_LOGIN = "run `carebudget login` to sign in"


@dataclass(frozen=True)
class Signed:
    """Who the command line acts as: the service's address and the bearer token."""

    url: str
    token: str
    username: str = ""
    role: str = ""


def token_path() -> Path:
    from carebudget.settings import get_settings

    configured = get_settings().token_file
    return configured if configured is not None else Path(typer.get_app_dir("carebudget")) / "token"


def _save(signed: Signed) -> Path:
    """Write the token so that only this account can read it (created 0600, never widened)."""
    path = token_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        json.dump({"url": signed.url, "token": signed.token, "username": signed.username,
                   "role": signed.role}, out)
    return path


def signed_in() -> Signed:
    """The token to act with: CAREBUDGET_TOKEN if set, else the one `carebudget login` saved."""
    from carebudget.settings import get_settings

    settings = get_settings()
    if settings.token:
        return Signed(settings.effective_api_url, settings.token)
    path = token_path()
    try:
        saved = json.loads(path.read_text())
        return Signed(settings.api_url or str(saved["url"]), str(saved["token"]),
                      str(saved.get("username", "")), str(saved.get("role", "")))
    except FileNotFoundError:
        errors.print(f"[red]You are not signed in: {RUN_LOGIN}.[/]")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        errors.print(f"[red]The saved sign-in in {path} cannot be read ({exc}): {RUN_LOGIN}.[/]")
    raise typer.Exit(2)


def _message(response: Any) -> str:
    try:
        detail: Any = response.json().get("detail", response.text)
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(detail, dict):
        field = f" ({detail['field']})" if detail.get("field") else ""
        return f"{detail.get('message', detail)}{field}"
    if isinstance(detail, list):  # FastAPI's validation errors
        return "; ".join(f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}" for d in detail)
    return str(detail)


def call(method: str, path: str, *, signed: Signed | None = None, **kwargs: Any) -> Any:
    """One API call as the signed-in user; a refusal is printed in plain words and exits non-zero."""
    import httpx

    signed = signed or signed_in()
    headers = {"Authorization": f"Bearer {signed.token}", **kwargs.pop("headers", {})}
    try:
        response = httpx.request(method, f"{signed.url}{path}", headers=headers, timeout=TIMEOUT, **kwargs)
    except httpx.HTTPError as exc:
        errors.print(f"[red]cannot reach the service at {signed.url}: {exc}. "
                     "Is `carebudget serve` running?[/]")
        raise typer.Exit(2) from None
    if response.status_code == 401:
        errors.print(f"[red]Your sign-in is not valid any more ({_message(response)}): {RUN_LOGIN}.[/]")
        raise typer.Exit(2)
    if response.status_code >= 400:
        word = {403: "not allowed", 404: "not found", 409: "refused", 422: "invalid input",
                429: "too many attempts", 503: "busy"}.get(response.status_code, "failed")
        errors.print(f"[red]{word}: {_message(response)}[/]")
        raise typer.Exit(1)
    return response.json() if response.content else None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            errors.print("[red]--password-stdin: no password on standard input[/]")
            raise typer.Exit(2)
        return password
    return str(typer.prompt("Password", hide_input=True))


def register(app: typer.Typer) -> None:
    @app.command("login")
    def login(
        username: str = typer.Option(None, "--username", "-u", help="Asked for when not given"),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from standard input (for scripts)"
        ),
        url: str = typer.Option(None, "--url", help="The service (default: CAREBUDGET_API_URL, "
                                "else the local `carebudget serve`)"),
    ) -> None:
        """Sign in to the service; later commands act as you until `carebudget logout`."""
        import httpx

        from carebudget.settings import get_settings

        base = (url or get_settings().effective_api_url).rstrip("/")
        name = username or str(typer.prompt("Username"))
        password = _read_password(password_stdin)
        try:
            response = httpx.post(f"{base}/api/token", json={"username": name, "password": password},
                                  timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            errors.print(f"[red]cannot reach the service at {base}: {exc}. "
                         "Is `carebudget serve` running?[/]")
            raise typer.Exit(2) from None
        if response.status_code != 200:
            errors.print(f"[red]not signed in: {_message(response)}[/]")
            raise typer.Exit(1)
        body = response.json()
        path = _save(Signed(base, body["access_token"], body["username"], body["role"]))
        console.print(f"signed in as [bold]{body['username']}[/] ({body['role']}) at {base}; "
                      f"the token is in {path} for {body['expires_in'] // 3600} hours")

    @app.command("logout")
    def logout() -> None:
        """Sign out: the service refuses the token from now on, and the saved copy is removed."""
        import httpx

        path = token_path()
        if not path.exists():
            console.print("not signed in")
            return
        try:
            signed = signed_in()
            response = httpx.delete(f"{signed.url}/api/token", timeout=TIMEOUT,
                                    headers={"Authorization": f"Bearer {signed.token}"})
            if response.status_code not in (204, 401):  # 401: already signed out or expired
                errors.print(f"[red]the service did not sign the token out: {_message(response)}[/]")
                raise typer.Exit(1)
        except httpx.HTTPError as exc:
            errors.print(f"[red]cannot reach the service to sign out ({exc}); the token stays "
                         f"valid until it expires, so it is kept in {path}[/]")
            raise typer.Exit(2) from None
        path.unlink()
        console.print("signed out")
