"""A case's letters on the web (Care Act 2014 s13(2), s26): listed with the case, served as HTML
and PDF to whoever may see the case. A person sees only their own case's letters; roles that may
not read personal data (operations) see that a letter was issued, never what it says."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from carebudget.letters.content import KINDS
from carebudget.letters.render import to_pdf
from carebudget.store.roles import can_read_personal
from carebudget.web import cases as case_access
from carebudget.web.auth import CurrentUser

LETTER_ID_MAX = 2**31 - 1
FORMATS = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}
log = logging.getLogger(__name__)


def rows(store: Any, case_id: str, prefix: str) -> list[dict[str, Any]]:
    """The case's letters, oldest first: kind, title, when, hashes and links under `prefix`."""
    return [{
        "id": m.id, "kind": m.kind, "title": KINDS.get(m.kind, m.kind), "created": m.created_at,
        "sha256": m.sha256, "pdf_sha256": m.pdf_sha256, "template": m.template,
        "template_sha256": m.template_sha256, "bundle": m.bundle,
        "links": {f: f"{prefix}/cases/{case_id}/letters/{m.id}.{f}" for f in FORMATS},
    } for m in store.case_letters(case_id)]


async def listing(request: Request, case_id: str, user: CurrentUser, prefix: str) -> list[dict[str, Any]]:
    await case_access.describe(request, case_id, user)  # the case's own checks, and its ledger rows
    return rows(request.app.state.store, case_id, prefix)


async def serve(request: Request, case_id: str, letter_file: str, user: CurrentUser) -> Response:
    """One letter as PDF or HTML (`12.pdf`, `12.html`)."""
    number, _, fmt = letter_file.partition(".")
    # The id is an INTEGER column (32-bit on PostgreSQL): a larger number names no letter.
    if not number.isdigit() or fmt not in FORMATS or not 1 <= int(number) <= LETTER_ID_MAX:
        raise HTTPException(404, "No such letter: a letter is named by its number, like 12.pdf or 12.html")
    await case_access.describe(request, case_id, user)
    if not can_read_personal(user.role):
        raise HTTPException(403, "Letters say what was decided about a person; your role sees only that they were sent")
    store = request.app.state.store
    letter = store.get_letter(case_id, int(number))
    if fmt == "pdf" and not letter.pdf:  # printed from the HTML as issued, the first time asked
        try:
            letter = await run_in_threadpool(store.letter_pdf, case_id, letter.id, to_pdf)
        except Exception as exc:  # noqa: BLE001 - WeasyPrint's own errors: say so, serve the HTML
            log.exception("printing letter %s of case %s failed", letter.id, case_id)
            raise HTTPException(503, f"The PDF of this letter could not be made just now ({type(exc).__name__}); "
                                f"the letter as issued is at {letter.id}.html") from None
    body = letter.pdf if fmt == "pdf" else letter.html.encode()
    name = f"{case_id}-{letter.kind}-{letter.id}.{fmt}"
    return Response(body, media_type=FORMATS[fmt], headers={
        "Content-Disposition": f'inline; filename="{name}"', "X-Letter-SHA256": letter.sha256,
        "Cache-Control": "no-store"})
