"""User administration: who may sign in, and in which role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from carebudget.store.errors import InvalidInput
from carebudget.store.roles import NATIONAL_ROLES, ROLES
from carebudget.store.users import check_team
from carebudget.web.api import UserIn, council_problem
from carebudget.web.auth import ROLE_LABELS, CurrentUser, hash_password, require_roles
from carebudget.web.forms import errors_by_field
from carebudget.web.pages.common import flash, redirect, render

router = APIRouter(include_in_schema=False)
ADMIN = ("admin",)


def _page(request: Request, user: CurrentUser, status_code: int = 200, **extra: object) -> Response:
    extra.setdefault("values", {"council": user.council or ""})
    return render(
        request,
        "admin_users.html",
        user,
        status_code=status_code,
        title="Users",
        users=request.app.state.store.list_users(),
        roles=[(r, ROLE_LABELS[r]) for r in ROLES],
        **extra,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*ADMIN, page=True))]
) -> Response:
    return _page(request, user)


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*ADMIN, page=True))],
    username: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    council: Annotated[str, Form()] = "",
    team: Annotated[str, Form()] = "",
) -> Response:
    values = {"username": username, "display_name": display_name, "role": role, "council": council, "team": team}
    try:
        # Left empty: the administrator's own council (none for a national role).
        chosen = council.strip() or (None if role in NATIONAL_ROLES else user.council)
        form = UserIn.model_validate({**values, "password": password, "council": chosen,
                                      "team": team.strip() or None})
    except ValidationError as exc:
        return _page(request, user, status_code=400, values=values, errors=errors_by_field(exc))
    problem = council_problem(user, form.role, form.council)
    if problem:
        return _page(request, user, status_code=400, values=values, errors={"council": problem})
    store = request.app.state.store
    if store.get_user(form.username) is not None:
        return _page(
            request,
            user,
            status_code=400,
            values=values,
            errors={"username": "That username is taken; choose another"},
        )
    try:
        check_team(form.team)
        if form.team and form.role in NATIONAL_ROLES:
            raise InvalidInput("A national rules officer works for England as a whole: leave the team empty", "team")
    except InvalidInput as exc:
        return _page(request, user, status_code=400, values=values, errors={"team": exc.message})
    store.create_user(
        form.username,
        form.display_name,
        form.role,
        hash_password(form.password),
        actor=user.username,
        council=form.council,
        team=form.team,
    )
    flash(request, f"Added {form.username} as {ROLE_LABELS[form.role]}.")
    return redirect("/admin/users")


@router.post("/admin/users/{username}/team", response_class=HTMLResponse)
def set_team(
    request: Request,
    username: str,
    user: Annotated[CurrentUser, Depends(require_roles(*ADMIN, page=True))],
    team: Annotated[str, Form()] = "",
) -> Response:
    """The council administrator sets (or, left empty, clears) a user's team: fairness by team."""
    store = request.app.state.store
    found = store.get_user(username)
    if found is None or not (user.council is None or found.council == user.council):
        return _page(request, user, status_code=404, errors={"form": f"No user {username!r} in your council"})
    try:
        changed = store.update_user(username, team=team, actor=user.username)
    except InvalidInput as exc:
        return _page(request, user, status_code=400, errors={f"team-{username}": exc.message})
    flash(request, f"{username} is now in {changed.team}." if changed.team else f"{username} is in no team now.")
    return redirect("/admin/users")


@router.post("/admin/users/{username}/active", response_class=HTMLResponse)
def set_active(
    request: Request,
    username: str,
    active: Annotated[bool, Form()],
    user: Annotated[CurrentUser, Depends(require_roles(*ADMIN, page=True))],
) -> Response:
    if username == user.username and not active:
        flash(request, "You cannot deactivate yourself.", "warn")
        return redirect("/admin/users")
    request.app.state.store.update_user(username, active=active, actor=user.username)
    flash(request, f"{username} is now {'active' if active else 'deactivated'}.")
    return redirect("/admin/users")
