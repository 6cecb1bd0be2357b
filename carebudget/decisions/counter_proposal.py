"""Care Act 2014 s26 and CSSG 11.24-11.25: a lower amount than the plan only if it is sufficient.

The record shows, need by need, what the assessed support costs at the council's local rates,
what the justification pays for it, and whether the need is covered; each failure the rules
found, with its code; and the floor, the lowest sufficient amount at the council's rates.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from carebudget.decisions.evaluate import Evaluation
from carebudget.decisions.inputs import CounterProposalFacts
from carebudget.decisions.sufficiency import Sufficiency
from carebudget.rulebook.rate_card import RateCard

WEEKS_IN_YEAR = 52
TWO_PLACES = Decimal("0.01")


def counter_proposal(facts: CounterProposalFacts, costed: Sufficiency, card: RateCard, ev: Evaluation) -> dict[str, Any]:
    failed = {f["outcome"] for f in ev.failure_details}
    needs = [
        {
            "outcome": c.outcome,
            "when": c.when,
            "assessed_cost": c.assessed_cost,
            "justified_cost": c.justified_cost,
            "covered": c.outcome not in failed,
            "support": [
                {"provision": u.provision, "label": u.label, "units": str(u.units), "rate": u.rate.quantize(TWO_PLACES),
                 "cost": u.cost, "priced_by": "social worker" if u.other else "council rate card"}
                for u in c.support
            ],
        }
        for c in costed.needs
        if c.when is not None
    ]
    used = {j.provision for j in facts.proposal.justifications} | {
        u.provision for c in costed.needs for u in c.support
    }
    return {
        "valid": not ev.failures,
        "floor": costed.floor,
        "needs": needs,
        "failures": list(ev.failure_details),
        "plan_weekly_total": facts.plan.weekly_total,
        "proposed_weekly_amount": facts.proposal.weekly_amount,
        "proposed_annual_amount": (facts.proposal.weekly_amount * WEEKS_IN_YEAR).quantize(TWO_PLACES),
        "justified_weekly_total": costed.justified_total,
        "rates": [
            {"provision": p.id, "label": p.label, "unit": p.unit, "rate": p.rate.quantize(TWO_PLACES)}
            for p in card.provisions
            if p.id in used
        ],
    }


def explain(record: dict[str, Any]) -> list[str]:
    if record["valid"]:
        return [(
            f"The lower amount of £{record['proposed_weekly_amount']} a week is sufficient: every assessed need, "
            "now and predicted over the next 12 months, is met at no less than the council's local rates "
            f"for the assessed units; the lowest sufficient amount at those rates is £{record['floor']} "
            "(Care Act 2014 s26; CSSG 11.24-11.25)."
        )]
    return [f["message"] for f in record["failures"]] + [
        f"The lowest amount that meets the assessed needs at the council's local rates is £{record['floor']} a week."
    ]
