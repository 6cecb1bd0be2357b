"""Care Act 2014 s13(2), s13(5), s24(2), s26, s27: the letter each decision produces, and notices.

A step's letters are rendered by its record's activity (record_step) and stored in the record's
transaction; cases whose history predates `letters-with-record` call `issue_letter` after the
record. A letter is rendered from the council's templates as HTML (its PDF is printed when first
asked for), then stored with its sha256 on the ledger and the notices it causes, keyed by the
case's event key: a retried activity or a replayed worker finds the letter already issued and
writes nothing again. Notices are then sent in the background; any left unsent (mail server
down, a crash) are sent by the worker's relay.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.models import LetterIssued, LetterRequest, NoticeRequest

if TYPE_CHECKING:
    from carebudget.rulebook import Registry
    from carebudget.settings import Settings
    from carebudget.store import Store
    from carebudget.store.letters import Draft as LetterDraft

LETTER_ERROR = "LetterError"


class Letters:
    """The letter and notice activities, on one store and the worker's rules."""

    def __init__(self, registry: Registry, store: Store, settings: Settings | None = None) -> None:
        from carebudget.settings import get_settings

        self.registry, self.store = registry, store
        self.settings = settings or get_settings()

    @activity.defn
    def issue_letter(self, request: LetterRequest) -> LetterIssued:
        return self.issue(request.key, request.case_id, request.kind, request.on, request.case)

    def issue(self, key: str, case_id: str, kind: str, on: date, case: dict[str, Any]) -> LetterIssued:
        """One letter in a transaction of its own: ApplicationError of type LetterError, not
        retried, when the templates or the case cannot produce it."""
        from carebudget.store import StoreError

        draft = self.draft(key, kind, on, case)
        try:
            meta = self.store.issue_letter(
                key, case_id, kind, draft.html, None, draft.template, draft.template_sha256,
                draft.bundle, [dict(n) for n in draft.notices],
            )
        except StoreError as exc:
            raise ApplicationError(str(exc), type=LETTER_ERROR, non_retryable=True) from None
        self.notices_queued(draft)
        return LetterIssued(letter_id=meta.id, sha256=meta.sha256)

    def draft(self, key: str, kind: str, on: date, case: dict[str, Any]) -> LetterDraft:
        """The letter rendered from the council's templates, with its notices, ready to store
        (also called by record_step for a step's letters, stored with its record): LetterError
        when the templates or the case cannot produce it."""
        from carebudget.letters import letter_content, render_letter
        from carebudget.letters.content import LetterUnavailable
        from carebudget.letters.render import LetterTemplateError
        from carebudget.notices.outbox import letter_notices
        from carebudget.store import StoreError
        from carebudget.store.letters import Draft

        try:
            content = letter_content(kind, case, on)
            rendered = render_letter(content, self.registry.effective_root)
            draft = Draft(key, kind, rendered.html, rendered.template, rendered.template_sha256,
                          content.bundle, letter_notices(self.settings, key, kind, case))
            draft.check()
        except (LetterUnavailable, LetterTemplateError, StoreError) as exc:
            # The same template or case fails the same way again: say why, do not retry.
            raise ApplicationError(str(exc), type=LETTER_ERROR, non_retryable=True) from None
        return draft

    def notices_queued(self, *drafts: LetterDraft) -> None:
        """Send the notices of letters just stored, in the background."""
        from carebudget.notices.outbox import deliver_soon

        if any(d.notices for d in drafts):
            deliver_soon(self.store, self.settings)

    @activity.defn
    def issue_notice(self, request: NoticeRequest) -> None:
        """s27 review due, or a step overdue: the person (for a review) and the allocated worker."""
        from carebudget.letters.render import long_date
        from carebudget.notices.outbox import deliver_soon, notice_to
        from carebudget.store import StoreError

        settings, due = self.settings, long_date(request.due) if request.due else "now"
        notices = []
        try:
            worker = self.store.get_case(request.case_id).assigned_to
        except StoreError:
            worker = None
        if request.kind == "review_due":
            subject, body = ("Your care and support review is due",
                             f"It is time to review your care and support with you (due by {due}). "
                             "Your social worker will contact you; you can also get in touch.")
            if request.person_user:
                notices.append(notice_to(settings, request.key, request.kind, request.case_id,
                                            request.person_user, subject, body))
            if worker:
                notices.append(notice_to(settings, request.key, request.kind, request.case_id, worker,
                                            f"Review due: case {request.case_id}",
                                            f"The {request.due_for or 'review'} of case {request.case_id} is due by {due}."))
        elif worker:
            notices.append(notice_to(settings, request.key, request.kind, request.case_id, worker,
                                        f"Overdue: case {request.case_id}",
                                        f"The {request.due_for or 'next step'} of case {request.case_id} "
                                        f"was due by {due} and is overdue."))
        if notices:
            self.store.queue_notices(notices)
            deliver_soon(self.store, settings)
