"""What every page shares: templates, the navigation for the signed-in role, flash messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from carebudget.web.auth import ROLE_LABELS, CurrentUser
from carebudget.web.diff_view import table_change
from carebudget.web.forms import field_id

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
TEMPLATES.env.filters["fieldid"] = field_id
TEMPLATES.env.globals["role_labels"] = ROLE_LABELS
TEMPLATES.env.globals["table_change"] = table_change

NAV: dict[str, list[tuple[str, str]]] = {
    "person": [("Your cases", "/my-case"), ("Community pools", "/pools")],
    "social_worker": [("My cases", "/cases?mine=true"), ("All cases", "/cases"), ("Start a case", "/cases/new"),
                      ("Community pools", "/pools")],
    "approver": [("Sign-off", "/cases?stage=sign_off")],
    "appeals_officer": [("Appeals", "/cases?stage=appeal")],
    "operations": [("Operations", "/operations"), ("Reports", "/reports"), ("Notices", "/notices")],
    "compliance": [("Compliance", "/compliance"), ("Reports", "/reports")],
    "policy_admin": [("Policy", "/policy"), ("Try the rules", "/policy/try"), ("Reports", "/reports")],
    "national_admin": [("National rules", "/policy"), ("Try the rules", "/policy/try")],
    "admin": [("Users", "/admin/users"), ("Notices", "/notices")],
}


def home_for(role: str) -> str:
    return NAV.get(role, [("", "/")])[0][1]


def render(
    request: Request,
    template: str,
    user: CurrentUser | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    flash = request.session.pop("flash", None) if "session" in request.scope else None
    context.setdefault("errors", {})
    if "session" in request.scope:
        from carebudget.web.security import csrf_token

        context.setdefault("csrf_token", csrf_token(request))
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "nav": [{"label": label, "href": href} for label, href in NAV.get(user.role, [])]
            if user
            else [],
            "flash": flash,
            **context,
        },
        status_code=status_code,
    )


def flash(request: Request, message: str, kind: str = "success") -> None:
    request.session["flash"] = {"message": message, "kind": kind}


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def render_error(request: Request, status_code: int, message: str) -> HTMLResponse:
    titles = {
        400: "Check what you entered",
        403: "You cannot do this",
        404: "Page not found",
        409: "This has already been done",
        503: "Service not available",
    }
    user = None
    if "session" in request.scope and request.session.get("username"):
        user = CurrentUser(str(request.session["username"]), str(request.session.get("role", "")))
    return render(
        request,
        "error.html",
        user,
        status_code=status_code,
        title=titles.get(status_code, "Something went wrong"),
        message=message,
    )
