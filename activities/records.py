"""Written records (Care Act 2014 s13(2), s24(2), s25): every step, decision and refusal, in the store.

All of the workflows' store calls live here. Each write is idempotent on a key made of the case
id and the case's event number, so a retried activity or a replayed worker writes once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.models import CaseRecord

if TYPE_CHECKING:
    from carebudget.store import Store


def _permanent(exc: Exception) -> ApplicationError:
    return ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True)


def _keep_bundle(store: Store, decision: dict) -> None:
    """Store the content of the bundle the decision was made under, if this process still holds it
    (the rule files may have changed since the decision activity ran)."""
    from carebudget.policy.versions import registry_for
    from carebudget.settings import get_settings

    registry = registry_for(get_settings().rules_dir, store)
    bundle = registry.known_bundle(str(decision.get("rules", {}).get("bundle", "")))
    if bundle is not None:
        store.keep_bundle(bundle.hash, bundle.council, bundle.content, bundle.effective_from)


class Records:
    """The record activities, on one store (the settings' store unless one is given)."""

    def __init__(self, store: Store | None = None) -> None:
        self._store = store

    @property
    def store(self) -> Store:
        if self._store is None:
            from carebudget.store import get_store

            self._store = get_store()
        return self._store

    @activity.defn
    def record_step(self, record: CaseRecord) -> None:
        """The case-list row, the decision records and the ledger event of one step, in one
        transaction: a retry after a crash finds them all or writes them all."""
        from carebudget.store import (
            BundleMismatch,
            DuplicateEvent,
            InvalidInput,
            UnknownBundle,
            UnknownCase,
        )

        store = self.store
        try:
            for decision in record.decisions.values():
                _keep_bundle(store, decision)
            store.record_step(
                record.event_key, record.case_id, record.actor.id, record.actor.role.value,
                record.action, record.payload, record.personal, index=record.index,
                decisions=record.decisions,
            )
        except DuplicateEvent as exc:
            activity.logger.error("%s", exc)  # an alarm: the ledger holds it too
            raise _permanent(exc) from None
        except (InvalidInput, UnknownCase, BundleMismatch, UnknownBundle) as exc:
            raise _permanent(exc) from None

    @activity.defn
    def record_refusal(self, record: CaseRecord) -> None:
        """A refused step, for compliance: who tried what, and why it was refused."""
        from carebudget.store import DuplicateEvent, InvalidInput, UnknownCase

        store = self.store
        actor, role = record.actor.id, record.actor.role.value
        try:
            try:
                store.append_event(
                    record.event_key, record.case_id, actor, role, record.action, record.payload
                )
            except UnknownCase:  # refused before the case reached the case list
                store.append_event(
                    record.event_key, None, actor, role, record.action,
                    {**record.payload, "case_id": record.case_id},
                )
        except (DuplicateEvent, InvalidInput) as exc:
            raise _permanent(exc) from None
