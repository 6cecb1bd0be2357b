"""Server-rendered pages, one module per kind of work: sign-in, operations, cases, compliance, policy."""

from __future__ import annotations

from fastapi import FastAPI


def include(app: FastAPI) -> None:
    from carebudget.web.pages import admin, cases, compliance, operations, policy, signin

    for module in (signin, operations, cases, compliance, policy, admin):
        app.include_router(module.router)
