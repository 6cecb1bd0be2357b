"""Letters from the case pages, and the notices sent (the outbox and, in development, the mail
the local SMTP sink received) for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from carebudget.web import letters
from carebudget.web.auth import CASE_READERS, STAFF, CurrentUser, require_roles
from carebudget.web.pages.common import render

router = APIRouter(include_in_schema=False)
CaseId = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")]
LetterFile = Annotated[str, Path(min_length=3, max_length=30, pattern=r"^[0-9]+\.(pdf|html)$")]


@router.get("/cases/{case_id}/letters/{letter_file}")
async def letter(
    request: Request, case_id: CaseId, letter_file: LetterFile,
    user: Annotated[CurrentUser, Depends(require_roles(*CASE_READERS, page=True))],
) -> Response:
    return await letters.serve(request, case_id, letter_file, user)


@router.get("/notices", response_class=HTMLResponse)
def notices(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*STAFF, page=True))],
) -> Response:
    from carebudget.notices import sink

    settings = request.app.state.settings
    kept = sink.messages(sink.mail_dir(settings.data_dir)) if settings.is_development else []
    return render(request, "notices.html", user, title="Notices",
                  outbox=request.app.state.store.list_notices(), kept=kept,
                  development=settings.is_development)
