"""Reports: the council's view across the caseload (issue 14), for operations, compliance and policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from carebudget.reports import KINDS, ReportError, run
from carebudget.reports.base import councils
from carebudget.reports.export import stream_csv
from carebudget.web.auth import CurrentUser, require_roles
from carebudget.web.cases import rules_in_force
from carebudget.web.pages.common import render, render_error
from carebudget.web.report_chart import bars

router = APIRouter(include_in_schema=False)
READERS = ("operations", "compliance", "policy_admin")
reader = require_roles(*READERS, page=True)
# Where a reader opens a case a report names (policy officers have no case pages).
CASE_PAGES = {"operations": "/operations/cases/", "compliance": "/compliance/cases/"}


def own_councils(request: Request, user: Annotated[CurrentUser, Depends(reader)]) -> list[str]:
    """The councils whose reports the user reads: their own (national roles: every council)."""
    return [c for c in councils(request.app.state.store.engine) if user.council in (None, c)]


Councils = Annotated[list[str], Depends(own_councils)]


@router.get("/reports", response_class=HTMLResponse)
def reports_index(
    request: Request, user: Annotated[CurrentUser, Depends(reader)], known: Councils
) -> Response:
    return render(request, "reports.html", user, title="Reports", kinds=KINDS, councils=known)


@router.get("/reports/{kind}", response_class=HTMLResponse)
def report_page(
    request: Request, kind: str, user: Annotated[CurrentUser, Depends(reader)], known: Councils
) -> Response:
    q = request.query_params
    council = q.get("council") or (known[0] if known else user.council or "")
    if council not in known:  # another council's records are, to this user, no records at all
        return render_error(request, 400, f"council {council!r} has no records in this store: "
                                          "check the council code")
    try:
        report = run(request.app.state.store.engine, kind, council, q.get("from") or None, q.get("to") or None,
                     uplift=q.get("uplift") or None, annual_budget=q.get("budget") or None,
                     rules=rules_in_force(request))
    except ReportError as exc:
        return render_error(request, 400, str(exc))
    if q.get("format") == "csv":
        engine = request.app.state.store.engine
        return StreamingResponse(stream_csv(engine, report), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{kind}-{council}-{report.start}-{report.end}.csv"'})
    charts = {i: bars(s.rows, s.chart[0], s.chart[1], f"{s.title} ({s.columns[s.chart[1]]})", f"chart-{i}")
              for i, s in enumerate(report.sections) if s.chart and s.rows}
    return render(request, "report.html", user, title=f"{report.title}: {council}", report=report,
                  charts=charts, kinds=KINDS, councils=known, uplift=q.get("uplift") or "",
                  budget=q.get("budget") or "", case_pages=CASE_PAGES.get(user.role))
