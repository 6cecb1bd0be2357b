"""Care Act 2014 s13 and SI 2015/313 regs 2 and 3: who is eligible, with written reasons."""

from __future__ import annotations

from typing import Any

from carebudget.decisions.evaluate import Evaluation
from carebudget.decisions.inputs import CaseFacts

# s13(5): where no need is eligible, written advice and information on meeting, reducing,
# preventing or delaying needs.
ADVICE_NOT_ELIGIBLE = (
    "None of the needs meet the eligibility criteria. The council must give written advice and "
    "information about what can be done to meet or reduce the needs and to prevent or delay "
    "further needs developing (Care Act 2014 s13(5)); it may still meet needs under s19."
)


def adult_eligibility(case: CaseFacts, ev: Evaluation) -> dict[str, Any]:
    assert case.needs is not None
    eligible = bool(ev.get("eligibility.eligible", False))
    result: dict[str, Any] = {
        "eligible": eligible,
        "basis": ev.get("eligibility.basis") if eligible else None,
        "unable_outcomes": sorted(o.value for o, ways in case.needs.outcomes.items() if ways),
        "conditions": {
            "impairment_or_illness": bool(ev.get("eligibility.conditions.impairment_or_illness", False)),
            "unable_two_or_more_outcomes": bool(ev.get("eligibility.conditions.unable_two_or_more_outcomes", False)),
            "significant_wellbeing_impact": bool(ev.get("eligibility.conditions.significant_wellbeing_impact", False)),
        },
    }
    if case.predicted_needs is not None:
        result["predicted_unable_outcomes"] = sorted(
            o.value for o, ways in case.predicted_needs.outcomes.items() if ways
        )
        result["predicted_eligible"] = bool(ev.get("eligibility.predicted_eligible", False))
    if not eligible:
        result["advice"] = ADVICE_NOT_ELIGIBLE
    return result


def carer_eligibility(case: CaseFacts, ev: Evaluation) -> dict[str, Any]:
    assert case.carer is not None
    return {
        "eligible": bool(ev.get("carer_eligibility.eligible", False)),
        "unable_outcomes": sorted(o.value for o, ways in case.carer.outcomes.items() if ways),
        "conditions": {
            "needs_from_necessary_care": bool(ev.get("carer_eligibility.conditions.needs_from_necessary_care", False)),
            "health_or_outcomes_affected": bool(ev.get("carer_eligibility.conditions.health_or_outcomes_affected", False)),
            "significant_wellbeing_impact": bool(ev.get("carer_eligibility.conditions.significant_wellbeing_impact", False)),
        },
    }
