"""The words a rule file may use: the case facts each stage sees and the outputs a rule may set.

Facts are flat (durable_rules messages hold at most 255 fields) and named after the law:
the ten outcomes of SI 2015/313 reg 2(2), the four ways of being unable of reg 2(3), the carer
outcomes of reg 3(2)(b). Money facts are pounds; counts are whole numbers.
"""

from __future__ import annotations

from carebudget.law import CarerOutcome, Outcome, Way

OUTCOMES: tuple[str, ...] = tuple(o.value for o in Outcome)
CARER_OUTCOMES: tuple[str, ...] = tuple(o.value for o in CarerOutcome)
WAYS: tuple[str, ...] = tuple(w.value for w in Way)
# SI 2015/313 reg 3(3): a carer is unable to achieve an outcome in three ways only. "Takes
# significantly longer" (reg 2(3)(d)) is for adults, not carers.
CARER_WAYS: tuple[str, ...] = (
    Way.needs_assistance.value, Way.significant_pain_distress_anxiety.value, Way.endangers_health_safety.value,
)

BOOL, NUMBER = "bool", "number"
SETTINGS = ("home", "care_home")

# Stages run in this order for a decision; each sees its own facts plus the outputs set so far.
STAGES: tuple[str, ...] = ("assess", "charge", "counter_proposal")


def _needs_facts(prefix: str) -> dict[str, object]:
    facts: dict[str, object] = {
        f"{prefix}given": BOOL,
        f"{prefix}needs_arise_from_impairment_or_illness": BOOL,
        f"{prefix}wellbeing_impact_significant": BOOL,
        f"{prefix}unable_outcome_count": NUMBER,
    }
    for outcome in OUTCOMES:
        facts[f"{prefix}unable_{outcome}"] = BOOL
        for way in WAYS:
            facts[f"{prefix}{outcome}__{way}"] = BOOL
    for way in WAYS:
        facts[f"{prefix}ways_{way}"] = NUMBER
    return facts


_PERSON: dict[str, object] = {
    "age_years": NUMBER,
    "setting": SETTINGS,
    "has_capacity": BOOL,
    "has_authorised_person": BOOL,
    "asks_council_to_arrange": BOOL,
    "weeks_since_admission": NUMBER,
}

_CARER: dict[str, object] = {
    "carer_given": BOOL,
    "carer_needs_arise_from_providing_necessary_care": BOOL,
    "carer_health_at_risk": BOOL,
    "carer_wellbeing_impact_significant": BOOL,
    "carer_unable_outcome_count": NUMBER,
    "carer_outcomes_only_takes_longer_count": NUMBER,
    **{f"carer_unable_{o}": BOOL for o in CARER_OUTCOMES},
}

_FINANCES: dict[str, object] = {
    "finances_given": BOOL,
    "capital": NUMBER,
    "main_home_value": NUMBER,
    "weekly_income": NUMBER,
    "weekly_cost": NUMBER,
}

STAGE_FACTS: dict[str, dict[str, object]] = {
    "assess": {**_PERSON, **_needs_facts(""), **_needs_facts("predicted_"), **_CARER, **_FINANCES},
    "charge": {
        **_PERSON,
        **_FINANCES,
        "capital_assessable": NUMBER,
        "main_home_disregarded": BOOL,
    },
    # Each need costed at the council's local rates (carebudget.decisions.sufficiency).
    "counter_proposal": {
        "plan_weekly_total": NUMBER,
        "proposal_weekly_amount": NUMBER,
        "justified_weekly_total": NUMBER,
        "sufficiency_floor": NUMBER,
        **{f"need_assessed_{o}": BOOL for o in OUTCOMES},
        **{f"need_predicted_{o}": BOOL for o in OUTCOMES},
        **{f"justified_{o}": BOOL for o in OUTCOMES},
        **{f"provisions_not_on_rate_card_{o}": NUMBER for o in OUTCOMES},
        **{f"provisions_unable_to_meet_{o}": NUMBER for o in OUTCOMES},
        **{f"local_rate_shortfall_{o}": NUMBER for o in OUTCOMES},
        **{f"assessed_units_not_justified_{o}": NUMBER for o in OUTCOMES},
        **{f"shortest_reason_words_{o}": NUMBER for o in OUTCOMES},
    },
}

ROUTES = ("means_tested", "full_cost", "self_funder")

# What `then: set:` may write, with its type or allowed values.
OUTPUTS: dict[str, object] = {
    "eligibility.eligible": BOOL,
    "eligibility.needs_met": BOOL,
    "eligibility.basis": ("current", "predicted"),
    "eligibility.conditions.impairment_or_illness": BOOL,
    "eligibility.conditions.unable_two_or_more_outcomes": BOOL,
    "eligibility.conditions.significant_wellbeing_impact": BOOL,
    "eligibility.predicted_eligible": BOOL,
    "carer_eligibility.eligible": BOOL,
    "carer_eligibility.conditions.needs_from_necessary_care": BOOL,
    "carer_eligibility.conditions.health_or_outcomes_affected": BOOL,
    "carer_eligibility.conditions.significant_wellbeing_impact": BOOL,
    "charge.main_home_disregarded": BOOL,
    "charge.route": ROUTES,
    "charge.council_arranges": BOOL,
}
POINTS_OUTPUT = "indicative_budget.points"

# Outputs of the assess stage that the charge stage reads as facts.
CARRIED_FORWARD = {"charge.main_home_disregarded": "main_home_disregarded"}
