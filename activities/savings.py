"""Issue 15, the case side: using banked savings, a saver's review, and reablement costs
(Care Act 2014 s27, s31-33; SI 2014/2672 reg 3), decided under the council's policy in force."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.models import (
    PolicyDecision,
    ReablementRequest,
    ReviewDepthRequest,
    SavingsDecisionRequest,
)

if TYPE_CHECKING:
    from carebudget.rulebook import Registry
    from carebudget.rulebook.bundle import Bundle


class SavingsPolicies:
    """The savings and reablement activities, reading one registry's rules (the worker's)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def _bundle(self, council: str, on: date) -> Bundle:
        from carebudget.rulebook import UnknownCouncil

        try:
            return self.registry.bundle(council, on)
        except UnknownCouncil as exc:
            raise ApplicationError(str(exc), type="PolicyError", non_retryable=True) from None

    @activity.defn(name="savings_use")
    def savings_use(self, request: SavingsDecisionRequest) -> PolicyDecision:
        from carebudget.decisions.savings import SavingsUse, decide_savings_use

        use = SavingsUse(purpose=request.request.purpose, amount=request.request.amount,
                         description=request.request.description, balance=request.balance)
        found = decide_savings_use(self._bundle(request.council, request.on), use)
        return PolicyDecision(approved=found["approved"], reasons=found["reasons"])

    @activity.defn(name="review_depth")
    def review_depth(self, request: ReviewDepthRequest) -> PolicyDecision:
        from carebudget.decisions.savings import SaverHistory, decide_review_depth

        found = decide_review_depth(self._bundle(request.council, request.on),
                                    SaverHistory(reviews=request.reviews))
        return PolicyDecision(light_touch=found["light_touch"],
                              direct_payment_check_days=found["direct_payment_check_days"],
                              reasons=found["reasons"])

    @activity.defn(name="reablement_cost")
    def reablement_cost(self, request: ReablementRequest) -> PolicyDecision:
        from carebudget.decisions.reablement import Episode, cost_episode
        from carebudget.rulebook import MissingParameter

        try:
            found = cost_episode(self._bundle(request.council, request.on),
                                 Episode(weeks=request.weeks, weekly_cost=request.weekly_cost))
        except MissingParameter as exc:
            raise ApplicationError(str(exc), type="PolicyError", non_retryable=True) from None
        return PolicyDecision(cost=found["cost"], free_weeks=found["free_weeks"],
                              chargeable_weeks=found["chargeable_weeks"], reasons=found["reasons"])
