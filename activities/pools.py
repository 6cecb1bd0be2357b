"""Community fund holding (issue 15): the pool's activities, under the council's policy in force.

A member's share is checked against their own case (read from its workflow) so that what remains
meets their assessed needs at the council's rates (CSSG 11.24-11.25); every movement of money or
time is written to the ledger, on the member's own case trail where it is theirs.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.models import CaseState
from workflows.pool_models import (
    MemberCheck,
    MemberCheckRequest,
    PoolRecord,
    PoolTerms,
    PoolTermsRequest,
    PoolTermsResult,
    RewardRequest,
    RewardResult,
)

if TYPE_CHECKING:
    from carebudget.rulebook import Registry
    from carebudget.rulebook.bundle import Bundle
    from carebudget.store import Store


class PoolActivities:
    def __init__(self, registry: Registry, store: Store) -> None:
        self.registry, self.store = registry, store

    def _bundle(self, council: str, on: date) -> Bundle:
        from carebudget.rulebook import UnknownCouncil

        try:
            return self.registry.bundle(council, on)
        except UnknownCouncil as exc:
            raise ApplicationError(str(exc), type="PoolRefused", non_retryable=True) from None

    @activity.defn(name="pool_terms")
    def pool_terms(self, request: PoolTermsRequest) -> PoolTermsResult:
        from carebudget.decisions.pools import pool_terms

        found = pool_terms(self._bundle(request.council, request.on))
        if not found["available"]:
            return PoolTermsResult(available=False, reasons=found["reasons"])
        terms = PoolTerms.model_validate({k: v for k, v in found.items() if k not in ("available", "reasons")})
        return PoolTermsResult(available=True, terms=terms)

    @activity.defn(name="check_member_share")
    async def check_member_share(self, request: MemberCheckRequest) -> MemberCheck:
        """Read the member's case, then decide the share (the same sufficiency arithmetic as s26)."""
        from temporalio.service import RPCError

        from carebudget.decisions.pools import ShareRequest, decide_share

        try:
            case = await activity.client().get_workflow_handle(request.case_id).query(
                "describe", result_type=CaseState)
        except RPCError:
            return MemberCheck(approved=False, reasons=[f"there is no case {request.case_id}"])
        budget = case.personal_budget
        if case.council != request.council or budget is None or case.stage.value not in ("active_budget", "review"):
            return MemberCheck(approved=False, person_user=case.person_user or "", reasons=[
                f"case {request.case_id} has no personal budget in force with council {request.council}"])
        committed = sum((c.weekly_share for c in case.pool_commitments if c.left is None), start=0)
        share = ShareRequest(
            share=request.weekly_share, weekly_budget=budget.weekly_cost, already_committed=committed,
            needs=case.assessment.support if case.assessment else [], rewarded=request.rewarded,
            members=request.members,
        )
        found = decide_share(self._bundle(request.council, request.on), share)
        return MemberCheck(approved=found["approved"], reasons=found["reasons"],
                           person_user=case.person_user or "")

    @activity.defn(name="pool_reward")
    def pool_reward(self, request: RewardRequest) -> RewardResult:
        from carebudget.decisions.pools import PoolReview, decide_reward

        found = decide_reward(self._bundle(request.council, request.on), PoolReview(
            outcomes_met=request.outcomes_met, planned=request.planned, spent=request.spent))
        return RewardResult(rewarded=found["rewarded"], reasons=found["reasons"])

    @activity.defn(name="record_pool_event")
    def record_pool_event(self, record: PoolRecord) -> None:
        """On the ledger, idempotent on the key: on the member's case trail where it is theirs."""
        from carebudget.store import DuplicateEvent, InvalidInput, UnknownCase

        actor, role = record.actor.id, record.actor.role.value
        try:
            try:
                self.store.append_event(record.event_key, record.case_id, actor, role, record.action,
                                        dict(record.payload), chain=None if record.case_id else record.council)
            except UnknownCase:
                self.store.append_event(record.event_key, None, actor, role, record.action,
                                        {**record.payload, "case_id": record.case_id}, chain=record.council)
        except (DuplicateEvent, InvalidInput) as exc:
            raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from None
