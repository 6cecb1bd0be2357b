"""Compliance: each decision's facts, rules, fired clauses and reasons (s13(2), s24(2), s25), the
ledger's integrity, replay of a past decision, and export."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from carebudget.store.errors import StoreError
from carebudget.store.models import DECISION_ID_MAX
from carebudget.web.api import trail_csv
from carebudget.web.auth import CurrentUser, require_roles
from carebudget.web.cases import own_council
from carebudget.web.pages.common import redirect, render
from carebudget.web.stages import stage_label

router = APIRouter(include_in_schema=False)
COMPLIANCE = ("compliance",)
CaseId = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.get("/compliance", response_class=HTMLResponse)
def compliance_home(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*COMPLIANCE, page=True))],
    q: str | None = None,
) -> Response:
    store = request.app.state.store
    errors = {}
    if q and q.strip():
        try:
            found = store.get_case(q.strip(), role=user.role)
            if own_council(user).get("council", found.council) == found.council:
                return redirect(f"/compliance/cases/{q.strip()}")
        except StoreError:  # unknown or malformed id
            pass
        errors["q"] = f"No case has the id {q.strip()!r}"
    rows, total = store.list_cases(own_council(user), {"number": 1, "size": 20}, role=user.role)
    return render(
        request,
        "compliance.html",
        user,
        title="Compliance",
        rows=rows,
        total=total,
        q=q or "",
        errors=errors,
        stage_label=stage_label,
        verify=None,
    )


@router.post("/compliance/verify", response_class=HTMLResponse)
def verify(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*COMPLIANCE, page=True))]
) -> Response:
    store = request.app.state.store
    rows, total = store.list_cases(own_council(user), {"number": 1, "size": 20}, role=user.role)
    return render(
        request,
        "compliance.html",
        user,
        title="Compliance",
        rows=rows,
        total=total,
        q="",
        stage_label=stage_label,
        verify=store.verify_chain(),
    )


def _trail(request: Request, case_id: str, user: CurrentUser) -> dict[str, Any]:
    store = request.app.state.store
    row = store.get_case(case_id, role=user.role)
    return {
        "row": row,
        "trail": store.case_trail(case_id, role=user.role),
        "decisions": store.case_decisions(case_id, role=user.role),
    }


@router.get("/compliance/cases/{case_id}", response_class=HTMLResponse)
def case_trail(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*COMPLIANCE, page=True))],
    case_id: CaseId,
    print: bool = False,
) -> Response:
    data = _trail(request, case_id, user)
    return render(
        request,
        "compliance_case.html",
        user,
        title=f"Decision trail for case {case_id}",
        printable=print,
        stage_label=stage_label,
        replay=None,
        **data,
    )


@router.get("/compliance/cases/{case_id}/trail.json")
def export_json(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*COMPLIANCE, page=True))],
    case_id: CaseId,
) -> Response:
    data = _trail(request, case_id, user)
    body = {
        "case": data["row"].model_dump(mode="json"),
        "trail": [e.model_dump(mode="json") for e in data["trail"]],
        "decisions": [d.model_dump(mode="json") for d in data["decisions"]],
    }
    return Response(
        json.dumps(body, indent=1),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{case_id}-trail.json"'},
    )


@router.get("/compliance/cases/{case_id}/trail.csv")
def export_csv(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*COMPLIANCE, page=True))],
    case_id: CaseId,
) -> Response:
    data = _trail(request, case_id, user)
    return Response(
        trail_csv([e.model_dump(mode="json") for e in data["trail"]]),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{case_id}-trail.csv"'},
    )


@router.post(
    "/compliance/cases/{case_id}/decisions/{decision_id}/replay", response_class=HTMLResponse
)
def replay(
    request: Request,
    decision_id: Annotated[int, Path(ge=1, le=DECISION_ID_MAX)],
    user: Annotated[CurrentUser, Depends(require_roles(*COMPLIANCE, page=True))],
    case_id: CaseId,
) -> Response:
    data = _trail(request, case_id, user)
    result = request.app.state.store.replay_decision(decision_id)
    return render(
        request,
        "compliance_case.html",
        user,
        title=f"Decision trail for case {case_id}",
        printable=False,
        stage_label=stage_label,
        replay=result,
        **data,
    )
