"""Operations: where every case is, what is overdue, and each case's timeline (s9 to s27 stages)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, ValidationError

from carebudget.store.errors import StoreError
from carebudget.web.auth import CurrentUser, require_roles
from carebudget.web.cases import case_filters
from carebudget.web.forms import blank_to_none, errors_by_field
from carebudget.web.pages.common import redirect, render
from carebudget.web.stages import STAGES, stage_label

router = APIRouter(include_in_schema=False)
OPERATIONS = ("operations",)
CASE_PAGE_READERS = ("operations", "compliance")


class ListFilters(BaseModel):
    stage: str | None = Field(None, max_length=40)
    council: str | None = Field(None, max_length=40, pattern=r"^[a-z0-9_-]+$")
    assigned_to: str | None = Field(None, max_length=60)
    overdue: bool | None = None
    due_before: date | None = None
    q: str | None = Field(None, max_length=80)
    page: int = Field(1, ge=1, le=1_000_000)
    size: int = Field(50, ge=10, le=200)


def temporal_link(settings: Any, case_id: str) -> str:
    from carebudget.web.stages import workflow_id

    return (
        f"{settings.temporal_ui_url}/namespaces/{quote(settings.temporal_namespace)}"
        f"/workflows/{quote(workflow_id(case_id))}"
    )


def stage_counts(store: Any, base: dict[str, Any], role: str) -> list[dict[str, Any]]:
    counts = []
    for stage in STAGES:
        _, total = store.list_cases({**base, "stage": stage}, {"number": 1, "size": 1}, role=role)
        counts.append({"stage": stage, "label": stage_label(stage), "count": total})
    return counts


@router.get("/operations", response_class=HTMLResponse)
def operations_list(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*OPERATIONS, page=True))]
) -> Response:
    raw = blank_to_none(dict(request.query_params))
    if raw.get("overdue") == "any":
        raw["overdue"] = None
    store = request.app.state.store
    try:
        filters = ListFilters.model_validate(raw)
        errors: dict[str, str] = {}
    except ValidationError as exc:
        filters, errors = ListFilters.model_validate({}), errors_by_field(exc)
    if filters.q:
        found = [r for r in [_find(store, filters.q.strip(), user.role)] if r is not None]
        if len(found) == 1:
            return redirect(f"/operations/cases/{quote(found[0].case_id)}")
        errors["q"] = f"No case has the id {filters.q.strip()!r}"
    try:
        query = case_filters(filters, user)
    except HTTPException as exc:  # both "not overdue" and a due date
        errors["due_before"] = (
            str(exc.detail["message"]) if isinstance(exc.detail, dict) else str(exc.detail)
        )
        query = {}
    rows, total = store.list_cases(
        query, {"number": filters.page, "size": filters.size}, role=user.role
    )
    overdue_total = store.list_cases(
        {**{k: v for k, v in query.items() if k != "today"}, "overdue": True},
        {"number": 1, "size": 1},
        role=user.role,
    )[1]
    base = {k: v for k, v in query.items() if k != "stage"}
    keep = {k: v for k, v in filters.model_dump(exclude={"page", "q"}).items() if v is not None}
    pages = max(1, -(-total // filters.size))
    return render(
        request,
        "operations.html",
        user,
        title="Operations: cases",
        filters=filters,
        rows=rows,
        total=total,
        page=filters.page,
        pages=pages,
        overdue_total=overdue_total,
        counts=stage_counts(store, base, user.role),
        stages=[(s, stage_label(s)) for s in STAGES],
        stage_label=stage_label,
        errors=errors,
        today=date.today(),
        page_link=lambda n: "/operations?" + urlencode({**keep, "page": n}),
        stage_link=lambda s: (
            "/operations?"
            + urlencode({**{k: v for k, v in keep.items() if k != "stage"}, "stage": s})
        ),
    )


def _find(store: Any, case_id: str, role: str) -> Any:
    try:
        return store.get_case(case_id, role=role)
    except StoreError:  # unknown or malformed id: "no case" to the user
        return None


@router.get("/operations/cases/{case_id}", response_class=HTMLResponse)
def operations_case(
    request: Request,
    case_id: str,
    user: Annotated[CurrentUser, Depends(require_roles(*CASE_PAGE_READERS, page=True))],
) -> Response:
    store = request.app.state.store
    row = store.get_case(case_id, role=user.role)
    trail = store.case_trail(case_id, role=user.role)
    return render(
        request,
        "operations_case.html",
        user,
        title=f"Case {case_id}",
        row=row,
        trail=trail,
        stage_label=stage_label,
        temporal_url=temporal_link(request.app.state.settings, case_id),
        today=date.today(),
    )
