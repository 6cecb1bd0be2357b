"""Care Act 2014 s27 and s31-33: what the council has paid since the last review (pure).

An underspend cannot exceed what was paid in: the council's weekly share, paid weekly in advance,
for each week begun since the budget started or the last review was completed (issue 15).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from workflows.models import CaseState


def payments_since_last_review(state: CaseState, on: date) -> Decimal:
    budget = state.personal_budget
    if budget is None:
        return Decimal("0.00")
    starts = [d for d in [state.plan_started, budget.starts] if d is not None]
    starts += [r.completed for r in state.reviews if r.completed is not None]
    since = max(starts)
    weeks_begun = max(0, (on - since).days) // 7 + 1
    return budget.council_share * weeks_begun


def saving_reviews(state: CaseState) -> list[bool]:
    """Completed reviews, oldest first: True where savings were banked with outcomes met."""
    return [r.banked > 0 and r.outcomes_met is True for r in state.reviews if r.completed is not None]
