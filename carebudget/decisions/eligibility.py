"""Care Act 2014 s13 and SI 2015/313 regs 2 and 3: who is eligible, with written reasons."""

from __future__ import annotations

from typing import Any

from carebudget.decisions.evaluate import Evaluation
from carebudget.decisions.facts import carer_unable_outcomes
from carebudget.decisions.inputs import CaseFacts

# s13(5): where no need is eligible, written advice and information on meeting, reducing,
# preventing or delaying needs.
ADVICE_NOT_ELIGIBLE = (
    "None of the needs meet the eligibility criteria. The council must give written advice and "
    "information about what can be done to meet or reduce the needs and to prevent or delay "
    "further needs developing (Care Act 2014 s13(5)); it may still meet needs under s19."
)
ADVICE_MET_UNDER_PREVENTION_POLICY = (
    "None of the needs meet the eligibility criteria now, so the council gives written advice and "
    "information about meeting, reducing, preventing or delaying needs (Care Act 2014 s13(5)). "
    "It will meet the needs predicted over the next 12 months under its prevention policy "
    "({policy}), using its power to meet needs that are not eligible (s19(1)) and its duty to "
    "prevent or delay needs (s2); charging applies as under s18 (s14)."
)

BASES = ("current", "predicted", "none")


def adult_eligibility(case: CaseFacts, ev: Evaluation) -> dict[str, Any]:
    """`eligible` is the statutory test of reg 2(1) on current needs; `needs_met` is whether the
    council will meet needs, on that basis or under its prevention policy (s19(1), s2)."""
    assert case.needs is not None
    eligible = bool(ev.get("eligibility.eligible", False))
    needs_met = eligible or bool(ev.get("eligibility.needs_met", False))
    basis = "current" if eligible else (ev.get("eligibility.basis") or "none") if needs_met else "none"
    result: dict[str, Any] = {
        "eligible": eligible,
        "needs_met": needs_met,
        "basis": basis,
        "unable_outcomes": sorted(o._value_ for o, ways in case.needs.outcomes.items() if ways),
        "conditions": {
            "impairment_or_illness": bool(ev.get("eligibility.conditions.impairment_or_illness", False)),
            "unable_two_or_more_outcomes": bool(ev.get("eligibility.conditions.unable_two_or_more_outcomes", False)),
            "significant_wellbeing_impact": bool(ev.get("eligibility.conditions.significant_wellbeing_impact", False)),
        },
    }
    if case.predicted_needs is not None:
        result["predicted_unable_outcomes"] = sorted(
            o._value_ for o, ways in case.predicted_needs.outcomes.items() if ways
        )
        result["predicted_eligible"] = bool(ev.get("eligibility.predicted_eligible", False))
    return result


def advice(record: dict[str, Any], prevention_policy: str) -> str:
    """The s13(5) advice for a person none of whose needs are eligible now."""
    if record["needs_met"]:
        return ADVICE_MET_UNDER_PREVENTION_POLICY.format(policy=prevention_policy)
    return ADVICE_NOT_ELIGIBLE


def carer_eligibility(case: CaseFacts, ev: Evaluation) -> dict[str, Any]:
    assert case.carer is not None
    counted, only_takes_longer = carer_unable_outcomes(case)
    result: dict[str, Any] = {
        "eligible": bool(ev.get("carer_eligibility.eligible", False)),
        "unable_outcomes": counted,
        "conditions": {
            "needs_from_necessary_care": bool(ev.get("carer_eligibility.conditions.needs_from_necessary_care", False)),
            "health_or_outcomes_affected": bool(ev.get("carer_eligibility.conditions.health_or_outcomes_affected", False)),
            "significant_wellbeing_impact": bool(ev.get("carer_eligibility.conditions.significant_wellbeing_impact", False)),
        },
    }
    if only_takes_longer:
        # SI 2015/313 reg 3(3): these were marked only as taking significantly longer.
        result["outcomes_not_counted"] = only_takes_longer
    return result
