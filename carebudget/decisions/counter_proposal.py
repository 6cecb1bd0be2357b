"""Care Act 2014 s26 and CSSG 11.24: a lower amount than the plan only with a sufficient justification."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from carebudget.decisions.evaluate import Evaluation
from carebudget.decisions.inputs import CounterProposalFacts

WEEKS_IN_YEAR = 52


def counter_proposal(facts: CounterProposalFacts, ev: Evaluation) -> dict[str, Any]:
    justified: dict[str, Decimal] = {}
    for j in facts.proposal.justifications:
        justified[j.need.value] = justified.get(j.need.value, Decimal(0)) + j.weekly_cost
    by_need = [
        {
            "need": need.value,
            "justified_weekly": justified.get(need.value, Decimal(0)).quantize(Decimal("0.01")),
            "justified_annual": (justified.get(need.value, Decimal(0)) * WEEKS_IN_YEAR).quantize(Decimal("0.01")),
            "covered": need.value in justified,
        }
        for need in facts.predicted_needs
    ]
    return {
        "valid": not ev.failures,
        "failures": list(ev.failures),
        "plan_weekly_total": facts.plan.weekly_total,
        "proposed_weekly_amount": facts.proposal.weekly_amount,
        "proposed_annual_amount": (facts.proposal.weekly_amount * WEEKS_IN_YEAR).quantize(Decimal("0.01")),
        "justified_weekly_total": sum((j.weekly_cost for j in facts.proposal.justifications), Decimal(0)).quantize(Decimal("0.01")),
        "needs": by_need,
    }
