"""Case facts flattened into the words the rule files use (see carebudget.rulebook.vocabulary)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from carebudget.decisions.inputs import CaseFacts, CounterProposalFacts, Needs, WellbeingImpact
from carebudget.decisions.sufficiency import Sufficiency
from carebudget.rulebook.vocabulary import CARER_OUTCOMES, CARER_WAYS, OUTCOMES, WAYS


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _template(prefix: str) -> dict[str, Any]:
    facts: dict[str, Any] = {
        f"{prefix}given": False,
        f"{prefix}needs_arise_from_impairment_or_illness": False,
        f"{prefix}wellbeing_impact_significant": False,
        f"{prefix}unable_outcome_count": 0,
    }
    for outcome in OUTCOMES:
        facts[f"{prefix}unable_{outcome}"] = False
        facts.update({f"{prefix}{outcome}__{way}": False for way in WAYS})
    facts.update({f"{prefix}ways_{way}": 0 for way in WAYS})
    return facts


# Every fact name is made once; a case's facts start from a copy of "nothing unmet".
_TEMPLATES = {prefix: _template(prefix) for prefix in ("", "predicted_")}
# The fact names each outcome and way set, looked up by the members' `_value_` (an Enum's
# `.value` and its hash are each a Python call, and a case has dozens; `_value_` is a plain
# attribute, the str itself).
_NAMES = {
    prefix: {
        outcome: (f"{prefix}unable_{outcome}",
                  {way: (f"{prefix}{outcome}__{way}", f"{prefix}ways_{way}") for way in WAYS})
        for outcome in OUTCOMES
    }
    for prefix in _TEMPLATES
}
_CARER_NAMES = tuple((outcome, f"carer_unable_{outcome}") for outcome in CARER_OUTCOMES)


# Both sets of needs "nothing unmet", in one dict a case's facts start from as a copy.
_NEEDS_TEMPLATE = {**_TEMPLATES[""], **_TEMPLATES["predicted_"]}


def _needs(prefix: str, needs: Needs | None, facts: dict[str, Any]) -> None:
    """Set the facts of one set of needs (current or predicted) over the template's defaults."""
    if needs is None:
        return
    facts[f"{prefix}given"] = True
    facts[f"{prefix}needs_arise_from_impairment_or_illness"] = needs.arise_from_impairment_or_illness
    facts[f"{prefix}wellbeing_impact_significant"] = needs.wellbeing_impact is WellbeingImpact.significant
    names = _NAMES[prefix]
    unable = 0
    for outcome, ways in needs.outcomes.items():
        if not ways:
            continue
        unable += 1
        unable_name, way_names = names[outcome._value_]
        facts[unable_name] = True
        for way in ways:
            way_fact, count_fact = way_names[way._value_]
            facts[way_fact] = True
            facts[count_fact] += 1
    facts[f"{prefix}unable_outcome_count"] = unable


def money(value: Decimal) -> float:
    """Money as the engine compares it: pounds, exact to the penny for the comparisons rules make."""
    return float(value)


# The facts of a case that gives nothing (no person, needs, carer, finances or care cost), every
# name in the order the facts have always had; a case's facts start from a copy (one C-level copy
# of a dict the right size, where building it up resized the dict several times).
_NOTHING: dict[str, Any] = {
    "age_years": 0, "setting": "home", "has_capacity": True, "has_authorised_person": False,
    "asks_council_to_arrange": True, "weeks_since_admission": -1.0,
    **_NEEDS_TEMPLATE,
    "carer_given": False,
    "carer_needs_arise_from_providing_necessary_care": False,
    "carer_health_at_risk": False,
    "carer_wellbeing_impact_significant": False,
    "carer_unable_outcome_count": 0,
    "carer_outcomes_only_takes_longer_count": 0,
    **{name: False for _, name in _CARER_NAMES},
    "finances_given": False, "capital": 0.0, "main_home_value": 0.0, "weekly_income": 0.0, "weekly_cost": 0.0,
}


def assess_facts(case: CaseFacts, on: date) -> dict[str, Any]:
    facts = _NOTHING.copy()
    person = case.person
    if person is not None:
        born = person.date_of_birth
        facts["age_years"] = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        facts["setting"] = person.setting._value_
        facts["has_capacity"] = person.has_capacity
        facts["has_authorised_person"] = person.has_authorised_person
        facts["asks_council_to_arrange"] = person.asks_council_to_arrange
        facts["weeks_since_admission"] = weeks_since_admission(case, on)
    _needs("", case.needs, facts)
    _needs("predicted_", case.predicted_needs, facts)
    carer = case.carer
    if carer is not None:
        carer_outcomes, only_longer = carer_unable_outcomes(case)
        facts["carer_given"] = True
        facts["carer_needs_arise_from_providing_necessary_care"] = bool(carer.needs_arise_from_providing_necessary_care)
        facts["carer_health_at_risk"] = bool(carer.health_at_risk)
        facts["carer_wellbeing_impact_significant"] = carer.wellbeing_impact._value_ == "significant"
        facts["carer_unable_outcome_count"] = len(carer_outcomes)
        facts["carer_outcomes_only_takes_longer_count"] = len(only_longer)
        for outcome, name in _CARER_NAMES:
            facts[name] = outcome in carer_outcomes
    # Money as the engine compares it (`money`): float pounds, exact to the penny for the
    # comparisons rules make.
    finances = case.finances
    if finances is not None:
        facts["finances_given"] = True
        facts["capital"] = float(finances.capital)
        facts["main_home_value"] = float(finances.main_home_value)
        facts["weekly_income"] = float(finances.weekly_income)
    care = case.care
    if care is not None:
        facts["weekly_cost"] = float(care.weekly_cost)
    return facts


def carer_unable_outcomes(case: CaseFacts) -> tuple[list[str], list[str]]:
    """The carer's outcomes they are unable to achieve in one of the three ways of reg 3(3), and
    those marked only as taking significantly longer, which for a carer do not count."""
    counted: list[str] = []
    not_counted: list[str] = []
    for outcome, ways in (case.carer.outcomes.items() if case.carer else ()):
        if any(way._value_ in CARER_WAYS for way in ways):
            counted.append(outcome._value_)
        elif ways:
            not_counted.append(outcome._value_)
    return sorted(counted), sorted(not_counted)


def weeks_since_admission(case: CaseFacts, on: date) -> float:
    """Weeks since first permanent admission, counting the admission day as day one; -1 if none."""
    person = case.person
    if person is None or person.setting._value_ != "care_home" or person.care_home_admission_date is None:
        return -1.0
    days = (on - person.care_home_admission_date).days
    return days / 7 if days >= 0 else -1.0


def counter_proposal_facts(facts: CounterProposalFacts, costed: Sufficiency) -> dict[str, Any]:
    """Each need's costing at the council's local rates, as the counter-proposal rules read it."""
    out: dict[str, Any] = {
        "plan_weekly_total": money(facts.plan.weekly_total),
        "proposal_weekly_amount": money(facts.proposal.weekly_amount),
        "justified_weekly_total": money(costed.justified_total),
        "sufficiency_floor": money(costed.floor),
    }
    by_outcome = {c.outcome: c for c in costed.needs}
    for outcome in OUTCOMES:
        c = by_outcome.get(outcome)
        out[f"need_assessed_{outcome}"] = bool(c and c.when is not None)
        out[f"need_predicted_{outcome}"] = bool(c and c.when == "predicted")
        out[f"justified_{outcome}"] = bool(c and c.justifications)
        out[f"provisions_not_on_rate_card_{outcome}"] = c.not_on_rate_card if c else 0
        out[f"provisions_unable_to_meet_{outcome}"] = c.unable_to_meet if c else 0
        out[f"local_rate_shortfall_{outcome}"] = float(c.local_rate_shortfall) if c else 0.0
        out[f"assessed_units_not_justified_{outcome}"] = float(c.units_not_justified) if c else 0.0
        out[f"shortest_reason_words_{outcome}"] = c.shortest_reason_words if c else 0
    return out
