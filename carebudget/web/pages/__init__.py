"""Server-rendered pages, one module per kind of work: sign-in, operations, cases, compliance, policy."""

from __future__ import annotations

from fastapi import Depends, FastAPI


def include(app: FastAPI) -> None:
    from carebudget.web.pages import (
        admin,
        caseload,
        cases,
        compliance,
        letters,
        operations,
        policy,
        pools,
        reports,
        signin,
    )
    from carebudget.web.security import check_csrf

    # Every state-changing page request (sign-in included) carries the session's CSRF token.
    for module in (signin, operations, cases, caseload, compliance, policy, admin, reports, pools,
                   letters):
        app.include_router(module.router, dependencies=[Depends(check_csrf)])
