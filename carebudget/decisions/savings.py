"""Care Act 2014 s27 and s31-33 (direct payments): using banked savings, and the review a saver earns.

Pure: the council's policy parameters (`savings.*`) and the facts in, a decision with reasons out.
A council with no such policy in force refuses every use and grants no lighter review.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.parameters import MissingParameter

Purpose = Literal["emergency", "home_adaptation", "equipment", "micro_enterprise"]
YEAR_DAYS = 365  # s27, CSSG 13.32: a review, and a look at the money, at least every 12 months


class SavingsUse(BaseModel):
    """A request to spend banked savings (as an emergency fund, or a capital purchase)."""

    model_config = ConfigDict(extra="forbid")
    purpose: Purpose
    amount: Decimal = Field(gt=0, max_digits=9, decimal_places=2)
    description: str = Field(min_length=1, max_length=2000)
    balance: Decimal = Field(ge=0, max_digits=9, decimal_places=2)


class SaverHistory(BaseModel):
    """The person's completed reviews, newest last: whether each banked savings with outcomes met."""

    model_config = ConfigDict(extra="forbid")
    reviews: list[bool] = Field(default_factory=list)


def policy_value(bundle: Bundle, name: str) -> Any:
    """A council policy parameter, or None where the council has none in force."""
    try:
        return bundle.param(name)
    except MissingParameter:
        return None


def decide_savings_use(bundle: Bundle, request: SavingsUse) -> dict[str, Any]:
    """Approved, or refused with every reason that applies."""
    reasons: list[str] = []
    purposes = policy_value(bundle, "savings.purposes") or []
    most = policy_value(bundle, "savings.single_use_max")
    if request.amount > request.balance:
        reasons.append(f"the amount {request.amount:.2f} is more than the banked balance {request.balance:.2f}")
    if request.purpose not in purposes:
        allowed = ", ".join(purposes) or "nothing (the council has no policy for using savings)"
        reasons.append(f"the council's policy lets banked savings be used for {allowed}, not {request.purpose}")
    if most is not None and request.amount > Decimal(str(most)):
        reasons.append(f"a single use may spend at most {Decimal(str(most)):.2f} without a full review")
    if len(request.description.split()) < 3:
        reasons.append("say what the money is for, in a few words, so the plan can record it")
    approved = not reasons
    if approved:
        reasons.append(f"{request.purpose.replace('_', ' ')} of {request.amount:.2f} is within the council's "
                       "policy and the banked balance")
    return {"approved": approved, "amount": f"{request.amount:.2f}", "purpose": request.purpose,
            "reasons": reasons, "balance_after": f"{request.balance - (request.amount if approved else 0):.2f}"}


def decide_review_depth(bundle: Bundle, history: SaverHistory) -> dict[str, Any]:
    """Whether the next yearly review is light-touch, and how often the direct payment is checked.

    Earned by consecutive reviews with savings banked and outcomes met; the review still comes
    within 12 months (s27, CSSG 13.32), and checks never less often than yearly."""
    needed = policy_value(bundle, "savings.light_touch_after_saving_reviews")
    streak = 0
    for saved in reversed(history.reviews):
        if not saved:
            break
        streak += 1
    earned = needed is not None and int(needed) > 0 and streak >= int(needed)
    checks = policy_value(bundle, "savings.saver_direct_payment_check_days" if earned
                          else "savings.direct_payment_check_days")
    check_days = min(int(checks), YEAR_DAYS) if checks is not None else None
    if earned:
        reason = (f"{streak} review(s) in a row with savings and outcomes met: the next yearly review is "
                  "light-touch, still within 12 months")
    elif needed is None:
        reason = "the council's policy grants no lighter review for savings"
    else:
        reason = f"a lighter review is earned after {needed} review(s) in a row with savings and outcomes met"
    return {"light_touch": earned, "streak": streak, "direct_payment_check_days": check_days,
            "reasons": [reason]}
