"""Operations: where every case is, what is overdue, and each case's timeline (s9 to s27 stages)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, ValidationError

from carebudget.store.errors import StoreError
from carebudget.web import finding
from carebudget.web.auth import CurrentUser, require_roles
from carebudget.web.caseload import social_workers
from carebudget.web.cases import case_filters, own_council
from carebudget.web.forms import blank_to_none, errors_by_field
from carebudget.web.pages.common import redirect, render
from carebudget.web.stages import STAGES, stage_label
from carebudget.web.timeline_words import trail_lines

router = APIRouter(include_in_schema=False)
OPERATIONS = ("operations",)
CASE_PAGE_READERS = ("operations", "compliance")
PAGE_SIZES = (10, 25, 50, 100, 200)


class ListFilters(BaseModel):
    stage: str | None = Field(None, max_length=40)
    council: str | None = Field(None, max_length=40, pattern=r"^[a-z0-9_-]+$")
    assigned_to: str | None = Field(None, max_length=60)
    overdue: bool | None = None
    due_before: date | None = None
    q: str | None = Field(None, max_length=80)
    page: int = Field(1, ge=1, le=1_000_000)
    size: int = Field(50, ge=1, le=200)


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
    search: dict[str, Any] | str = {}
    if filters.q:
        found = _find(store, filters.q.strip(), user)
        if found is not None:
            return redirect(f"/operations/cases/{quote(found.case_id)}")
        # Operations do not see names (UK GDPR art 5(1)(c)): the start of a reference only.
        search = finding.search_filters(filters.q, names=False)
        if isinstance(search, str):
            errors["q"] = search
    try:
        query = case_filters(filters, user)
    except HTTPException as exc:  # both "not overdue" and a due date, or another council
        field = exc.detail.get("field", "due_before") if isinstance(exc.detail, dict) else "due_before"
        errors[field] = (
            str(exc.detail["message"]) if isinstance(exc.detail, dict) else str(exc.detail)
        )
        query = own_council(user)
    if filters.q and isinstance(search, dict):
        query.update(search)
    rows, total = store.list_cases(
        query, {"number": filters.page, "size": filters.size}, role=user.role
    )
    pages = max(1, -(-total // filters.size))
    if filters.page > pages:  # past the end: show the last page, and say so
        errors["page"] = f"There are only {pages} page{'s' if pages > 1 else ''}; this is the last"
        filters.page = pages
        rows, total = store.list_cases(query, {"number": pages, "size": filters.size}, role=user.role)
    if filters.q and "q" in errors:  # a search that cannot run shows nothing, not everything
        rows, total = [], 0
    elif filters.q and not total:
        errors["q"] = f"No case reference starts with {filters.q.strip()!r}"
    overdue_total = store.list_cases(
        {**{k: v for k, v in query.items() if k != "today"}, "overdue": True},
        {"number": 1, "size": 1},
        role=user.role,
    )[1]
    base = {k: v for k, v in query.items() if k != "stage"}
    keep = {k: v for k, v in filters.model_dump(exclude={"page"}).items() if v is not None}
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
        sizes=[(str(n), f"{n} a page") for n in PAGE_SIZES],
        page_link=lambda n: "/operations?" + urlencode({**keep, "page": n}),
        stage_link=lambda s: (
            "/operations?"
            + urlencode({**{k: v for k, v in keep.items() if k != "stage"}, "stage": s})
        ),
    )


def _find(store: Any, case_id: str, user: CurrentUser) -> Any:
    try:
        found = store.get_case(case_id, role=user.role)
    except StoreError:  # unknown or malformed id: "no case" to the user
        return None
    return found if own_council(user).get("council", found.council) == found.council else None


@router.get("/operations/cases/{case_id}", response_class=HTMLResponse)
def operations_case(
    request: Request,
    case_id: str,
    user: Annotated[CurrentUser, Depends(require_roles(*CASE_PAGE_READERS, page=True))],
) -> Response:
    store = request.app.state.store
    row = store.get_case(case_id, role=user.role)
    trail = store.case_trail(case_id, role=user.role)
    problem = request.session.pop("allocation_error", None)
    return render(
        request,
        "operations_case.html",
        user,
        errors={"assigned_to": problem} if problem else {},
        workers=social_workers(store, user.council),
        title=f"Case {case_id}",
        row=row,
        lines=trail_lines(trail),
        stage_label=stage_label,
        temporal_url=temporal_link(request.app.state.settings, case_id),
        today=date.today(),
    )
