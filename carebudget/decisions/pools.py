"""Community fund holding (issue 15): a member's share, the emergency fund, and a pool's reward.

A budget holder may pool a share of their personal budget (s26) with others, keeping control of
the rest; their own needs must still be met at the council's rates, so what remains is checked
against the cheapest sufficient support for their assessed needs (CSSG 11.24-11.25, the same
sufficiency arithmetic as a counter-proposal). Pure: policy parameters (`pools.*`) and facts in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from carebudget.decisions.inputs import AssessedNeed, pennies
from carebudget.decisions.savings import policy_value
from carebudget.decisions.sufficiency import UnknownProvision, cheapest, price_support
from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.rate_card import parse_rate_card

RATE_CARD = "rates.card"


class ShareRequest(BaseModel):
    """A member's proposed weekly share, their personal budget, and their assessed support."""

    model_config = ConfigDict(extra="forbid")
    share: Decimal = Field(gt=0, max_digits=9, decimal_places=2)
    weekly_budget: Decimal = Field(ge=0, max_digits=9, decimal_places=2)
    already_committed: Decimal = Field(Decimal(0), ge=0, max_digits=9, decimal_places=2)
    needs: list[AssessedNeed] = Field(default_factory=list)
    rewarded: bool = False
    members: int = Field(0, ge=0)


class PoolReview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcomes_met: bool
    planned: Decimal = Field(ge=0, max_digits=9, decimal_places=2)
    spent: Decimal = Field(ge=0, max_digits=9, decimal_places=2)


def needs_floor(bundle: Bundle, needs: list[AssessedNeed]) -> Decimal:
    """The least the assessed support can cost a week at the council's rates (substitutes allowed)."""
    card = parse_rate_card(bundle.param(RATE_CARD))
    total = Decimal(0)
    for need in needs:
        total += sum((cheapest(u, need.outcome.value, card) for u in price_support(need, card)), Decimal(0))
    return pennies(total)


def floor_by_need(bundle: Bundle, needs: list[AssessedNeed]) -> list[tuple[str, Decimal]]:
    """Each assessed need and the least its support can cost a week at the council's rates: what a
    member's own budget must keep for it, whatever they pool (CSSG 11.24-11.25)."""
    return [(need.outcome.value, needs_floor(bundle, [need])) for need in needs]


def decide_share(bundle: Bundle, request: ShareRequest) -> dict[str, Any]:
    """Whether a member may commit this share, with every reason that applies."""
    reasons: list[str] = []
    most_share = policy_value(bundle, "pools.rewarded_max_share" if request.rewarded else "pools.max_share")
    most_members = policy_value(bundle, "pools.max_members")
    if most_share is None or most_members is None:
        return {"approved": False, "reasons": ["the council has no community pool policy in force"]}
    if request.rewarded:
        most_members = int(most_members) + int(policy_value(bundle, "pools.reward_extra_members") or 0)
    limit = pennies(request.weekly_budget * Decimal(str(most_share)))
    committed = request.already_committed + request.share
    if committed > limit:
        reasons.append(f"{committed:.2f} a week would be committed to pools; the council's policy allows "
                       f"{Decimal(str(most_share)):.0%} of the {request.weekly_budget:.2f} budget ({limit:.2f})")
    if request.members >= int(most_members):
        reasons.append(f"the pool already has {request.members} members, the most the policy allows")
    try:
        floor = needs_floor(bundle, request.needs)
    except UnknownProvision as exc:
        return {"approved": False, "reasons": [f"the assessed support cannot be priced: {exc}"]}
    remaining = request.weekly_budget - committed
    if not request.needs:
        reasons.append("the member's assessed support is not recorded, so sufficiency cannot be checked")
    elif remaining < floor:
        reasons.append(f"{remaining:.2f} a week would remain, less than the {floor:.2f} the assessed needs "
                       "cost at the council's rates (CSSG 11.24-11.25): the member's own needs must stay met")
    approved = not reasons
    if approved:
        reasons.append(f"{remaining:.2f} a week remains for the member's own needs, at least the "
                       f"{floor:.2f} they cost at the council's rates")
    return {"approved": approved, "share": f"{request.share:.2f}", "remaining": f"{remaining:.2f}",
            "floor": f"{floor:.2f}", "reasons": reasons}


def pool_terms(bundle: Bundle) -> dict[str, Any]:
    """The pool's rules from the council's policy in force: fund share, quorum, notice, time value."""
    names = ("emergency_fund_share", "draw_quorum", "leave_notice_days", "time_hour_value",
             "review_interval_days", "rewarded_review_interval_days")
    values = {n: policy_value(bundle, f"pools.{n}") for n in names}
    missing = [n for n, v in values.items() if v is None]
    if missing:
        return {"available": False, "reasons": [f"the council has no pool policy for {', '.join(missing)}"]}
    return {"available": True, **{n: str(v) for n, v in values.items()}, "reasons": []}


def decide_reward(bundle: Bundle, review: PoolReview) -> dict[str, Any]:
    """A pool that met its members' outcomes for less than planned earns the council's reward."""
    needed = policy_value(bundle, "pools.reward_saving_share")
    saved = review.planned - review.spent
    share = saved / review.planned if review.planned > 0 else Decimal(0)
    if needed is None:
        return {"rewarded": False, "saved": f"{saved:.2f}", "reasons": ["the council's policy grants no reward"]}
    earned = review.outcomes_met and share >= Decimal(str(needed))
    if earned:
        reasons = [f"outcomes met for {share:.0%} less than planned: the pool earns a larger share, "
                   f"{policy_value(bundle, 'pools.reward_extra_members')} more members and a lighter review"]
    elif not review.outcomes_met:
        reasons = ["the members' outcomes were not all met, so no reward is earned"]
    else:
        reasons = [f"spending was {share:.0%} below plan; the reward needs {Decimal(str(needed)):.0%}"]
    return {"rewarded": earned, "saved": f"{saved:.2f}", "reasons": reasons}
