"""Allocating a case to a social worker (operations) or taking it on (a social worker): the
caseload that s9 assessments and s25 plans are done from. Each change is a ledger row."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from carebudget.web.auth import CurrentUser, require_roles
from carebudget.web.caseload import ALLOCATORS, AllocationRefused, allocate
from carebudget.web.pages.common import flash, redirect

router = APIRouter(include_in_schema=False)
CaseId = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.post("/cases/{case_id}/allocate", response_class=HTMLResponse)
async def allocate_case(
    request: Request,
    case_id: CaseId,
    user: Annotated[CurrentUser, Depends(require_roles(*ALLOCATORS, page=True))],
) -> Response:
    form = await request.form()
    worker = str(form.get("assigned_to") or "") if user.role == "operations" else user.username
    back = f"/operations/cases/{quote(case_id)}" if user.role == "operations" else f"/cases/{quote(case_id)}"
    try:
        who = allocate(request.app.state.store, case_id, worker, user)
    except AllocationRefused as exc:
        if user.role == "operations":  # shown beside the worker field on the operations page
            request.session["allocation_error"] = str(exc)
        else:
            flash(request, f"The case was not taken: {exc}", "error")
        return redirect(back)
    flash(request, "You hold this case now." if who == user.username else f"The case is now with {who}.")
    return redirect(back)
