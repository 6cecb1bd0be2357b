"""Written records (Care Act 2014 s13(2), s24(2), s25): every step, decision and refusal, in the store.

All of the workflows' store calls live here. Each write is idempotent on a key made of the case
id and the case's event number, so a retried activity or a replayed worker writes once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.letters import LETTER_ERROR
from workflows.models import STEP_ROLES, SYSTEM, CaseRecord, RecordResult, Role

if TYPE_CHECKING:
    from activities.letters import Letters
    from carebudget.rulebook import Registry
    from carebudget.store import Store
    from carebudget.store.letters import Draft as LetterDraft


def _permanent(exc: Exception) -> ApplicationError:
    return ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True)


def _roles(*steps: str) -> frozenset[str]:
    return frozenset(role.value for step in steps for role in STEP_ROLES[step])


# The steps whose ledger row each action is, so the roles that may be its actor (workflows/case.py).
ACTION_ROLES: dict[str, frozenset[str]] = {
    # s9: a case is opened by a social worker, or by the person asking for an assessment
    # (the workflow writes the opener's row under the service's role; the user's own role counts).
    "case.opened": frozenset({"social_worker", "person"}),
    "assessment.self_assessed": _roles("self_assess"),
    "assessment.verified": _roles("verify_assessment"),
    "eligibility.not_eligible": _roles("verify_assessment"),
    "plan.submitted": _roles("submit_plan"),
    "plan.approved": _roles("approve"),
    "plan.changes_requested": _roles("request_changes"),
    "counter_proposal.made": _roles("counter_propose"),
    "counter_proposal.refused": _roles("counter_propose"),
    "counter_proposal.accepted": _roles("accept_counter_proposal"),
    "appeal.made": _roles("appeal"),
    "appeal.uphold": _roles("decide_appeal"),
    "appeal.part_uphold": _roles("decide_appeal"),
    "appeal.dismiss": _roles("decide_appeal"),
    "budget.active": _roles("approve", "accept_counter_proposal", "decide_appeal"),
    "review.opened": _roles("request_review"),
    "review.completed": _roles("complete_review"),
    "savings.approved": _roles("use_savings"),
    "savings.refused": _roles("use_savings"),
    "reablement.recorded": _roles("record_reablement"),
}
# What the service itself writes when a deadline passes (s27 reviews, an unappealed counter-proposal).
SYSTEM_ACTIONS = frozenset({"deadline.missed", "budget.active", "review.opened"})


def actor_roles(record: CaseRecord) -> frozenset[str] | None:
    """The store roles the record's actor must hold; None for the service's own rows.

    Raises ActorRefused for an action no person takes or a role the action is not taken by."""
    from carebudget.store import ActorRefused

    actor = record.actor
    if actor == SYSTEM and record.action in SYSTEM_ACTIONS:
        return None
    allowed = ACTION_ROLES.get(record.action)
    if allowed is None:
        raise ActorRefused(f"{record.action} is not a step a person takes", "action")
    if record.action == "case.opened":
        return allowed
    if actor.role.value not in allowed or actor.role is Role.operations:
        raise ActorRefused(f"role {actor.role.value} may not take a step recorded as {record.action}; "
                           f"it is taken by {' or '.join(sorted(allowed))}", "actor")
    return frozenset({actor.role.value})  # the store's role must be the one the step claimed


def _keep_bundle(store: Store, decision: dict, registry: Registry | None) -> None:
    """Store the content of the bundle the decision was made under, if this process still holds it
    (the rule files may have changed since the decision activity ran)."""
    from carebudget.policy.versions import registry_for
    from carebudget.settings import get_settings

    registry = registry or registry_for(get_settings().rules_dir, store)
    bundle = registry.known_bundle(str(decision.get("rules", {}).get("bundle", "")))
    if bundle is not None:
        store.keep_bundle(bundle.hash, bundle.council, bundle.content, bundle.effective_from)


class Records:
    """The record activities, on one store (the settings' store unless one is given)."""

    def __init__(self, store: Store | None = None, letters: Letters | None = None) -> None:
        self._store = store
        self.letters = letters  # for a step's letters (CaseRecord.letters)

    @property
    def registry(self) -> Registry | None:
        """The worker's rules, which made the decisions being recorded (the settings' when None)."""
        return self.letters.registry if self.letters is not None else None

    @property
    def store(self) -> Store:
        if self._store is None:
            from carebudget.store import get_store

            self._store = get_store()
        return self._store

    @activity.defn
    def record_step(self, record: CaseRecord) -> RecordResult:
        """The case-list row, the decision records and the ledger event of one step, in one
        transaction: a retry after a crash finds them all or writes them all (the `earlier`
        records of the same step first, each the same way, keyed on its own). The step's letters,
        if it has any, are rendered first and stored in the record's transaction, each keyed like
        the record: a retry finds them issued. A letter that cannot be produced leaves the step
        recorded and is named in the result, with the reason."""
        from carebudget.store import (
            ActorRefused,
            BundleMismatch,
            DuplicateEvent,
            InvalidInput,
            UnknownBundle,
            UnknownCase,
        )

        store = self.store
        drafts, failed = self._draft_letters(record)
        try:
            for each in (*record.earlier, record):
                roles = actor_roles(each)
                for decision in each.decisions.values():
                    _keep_bundle(store, decision, self.registry)
                store.record_step(
                    each.event_key, each.case_id, each.actor.id, each.actor.role.value,
                    each.action, each.payload, each.personal, index=each.index,
                    decisions=each.decisions, actor_roles=roles,
                    letters=drafts if each is record else (),
                )
        except ActorRefused as exc:
            activity.logger.warning("step refused: %s", exc)
            raise _permanent(exc) from None
        except DuplicateEvent as exc:
            activity.logger.error("%s", exc)  # an alarm: the ledger holds it too
            raise _permanent(exc) from None
        except (InvalidInput, UnknownCase, BundleMismatch, UnknownBundle) as exc:
            raise _permanent(exc) from None
        if self.letters is not None:
            self.letters.notices_queued(*drafts)
        return RecordResult(letters_failed=failed)

    def _draft_letters(self, record: CaseRecord) -> tuple[list[LetterDraft], dict[str, str]]:
        """The step's letters rendered, to be stored with its record; those that cannot be
        produced are left out, with the reason (kind -> reason), and the step stands."""
        batch = record.letters
        if batch is None:
            return [], {}
        if self.letters is None:  # a worker built without letters: the step stands, the timeline says why
            return [], dict.fromkeys(batch.kinds, "this worker was started without the letter activities")
        drafts, failed = [], {}
        for kind in batch.kinds:
            try:
                drafts.append(self.letters.draft(f"{batch.key_prefix}letter.{kind}", kind, batch.on, batch.case))
            except ApplicationError as exc:
                if exc.type != LETTER_ERROR:
                    raise
                failed[kind] = exc.message
        return drafts, failed

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
