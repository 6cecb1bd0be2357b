"""Signing in and out of the pages (cookie session signed with the service's secret key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from carebudget.web.auth import (
    CurrentUser,
    NotSignedIn,
    authenticate,
    end_session,
    page_user,
    record_sign_in,
    start_session,
)
from carebudget.web.forms import parse
from carebudget.web.pages.common import home_for, redirect, render
from carebudget.web.security import client_address, too_many_attempts

router = APIRouter(include_in_schema=False)


class SignInForm(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=500)


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@router.get("/")
def home(request: Request) -> Response:
    try:
        user = page_user(request)
    except NotSignedIn:
        return redirect("/sign-in")
    return redirect(home_for(user.role))


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str | None = None) -> Response:
    return render(request, "sign_in.html", None, title="Sign in", next=_safe_next(next), values={})


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str | None, Form()] = None,
) -> Response:
    form, errors = parse(SignInForm, {"username": username.strip(), "password": password})
    user = None
    throttle, address = request.app.state.throttle, client_address(request)
    wait = throttle.attempt(username.strip(), address) if form is not None else 0
    if wait:
        exc = too_many_attempts(wait)
        return render(request, "sign_in.html", None, status_code=429, title="Sign in",
                      errors={"password": str(exc.detail)}, next=_safe_next(next),
                      values={"username": username})
    if form is not None:
        user = authenticate(request.app.state.store, form.username, form.password)
        if user is None:
            errors = {"password": "The username or password is not right"}
        else:
            throttle.succeeded(form.username, address)
    if user is None:
        errors = {
            k: ("Enter your username" if k == "username" else "Enter your password")
            if "required" in v or "at least" in v
            else v
            for k, v in errors.items()
        }
        return render(
            request,
            "sign_in.html",
            None,
            status_code=400,
            title="Sign in",
            errors=errors,
            next=_safe_next(next),
            values={"username": username},
        )
    start_session(request, user)
    record_sign_in(request.app.state.store, user, "web")
    return RedirectResponse(_safe_next(next) or home_for(user.role), status_code=303)


@router.post("/sign-out")
def sign_out(request: Request, user: Annotated[CurrentUser, Depends(page_user)]) -> Response:
    end_session(request)
    return redirect("/sign-in")
