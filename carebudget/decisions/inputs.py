"""The decision contract's input: the facts of a case, validated at the boundary (extra fields refused)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The law's vocabulary lives at the bottom (carebudget.law); the inputs are written in it.
from carebudget.law import (
    CarerOutcome,
    Money,
    Outcome,
    Premium,
    Setting,
    Way,
    WellbeingImpact,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_VALUE = attrgetter("_value_")


def _distinct_ways(outcomes: dict[Any, list[Way]]) -> None:
    # Compared by `_value_`, the str itself, read in C: hashing an Enum member is a Python call
    # (Enum.__hash__), and this runs for every outcome of every case.
    for ways in outcomes.values():
        if len(ways) > 1 and len(set(map(_VALUE, ways))) != len(ways):
            raise ValueError("each way of being unable may be listed once per outcome")


class Person(Strict):
    date_of_birth: date
    setting: Setting
    care_home_admission_date: date | None = None
    has_capacity: bool = True
    has_authorised_person: bool = False
    asks_council_to_arrange: bool = True

    @field_validator("date_of_birth")
    @classmethod
    def _not_in_future(cls, v: date) -> date:
        if v.year < 1880:
            raise ValueError("date of birth is implausibly early")
        return v


class Needs(Strict):
    arise_from_impairment_or_illness: bool
    wellbeing_impact: WellbeingImpact
    outcomes: dict[Outcome, list[Way]] = Field(default_factory=dict)

    @field_validator("outcomes")
    @classmethod
    def _ways_distinct(cls, v: dict[Outcome, list[Way]]) -> dict[Outcome, list[Way]]:
        _distinct_ways(v)
        return v


class Carer(Strict):
    needs_arise_from_providing_necessary_care: bool = True
    health_at_risk: bool
    wellbeing_impact: WellbeingImpact
    outcomes: dict[CarerOutcome, list[Way]] = Field(default_factory=dict)

    @field_validator("outcomes")
    @classmethod
    def _ways_distinct(cls, v: dict[CarerOutcome, list[Way]]) -> dict[CarerOutcome, list[Way]]:
        _distinct_ways(v)
        return v


class Finances(Strict):
    capital: Money
    weekly_income: Money
    housing_costs: Money = Decimal(0)
    disability_related_expenditure: Money = Decimal(0)
    premiums: list[Premium] = Field(default_factory=list)
    main_home_value: Money = Decimal(0)


class Care(Strict):
    weekly_cost: Money


class CaseFacts(Strict):
    """Input of every decision kind except `counter-proposal`."""

    person: Person | None = None
    needs: Needs | None = None
    predicted_needs: Needs | None = None
    carer: Carer | None = None
    finances: Finances | None = None
    care: Care | None = None


class PlanItem(Strict):
    """An item of a plan as first written (free text): kept so saved cases read back."""

    need: Outcome
    provision: str = Field(min_length=1)
    weekly_cost: Money


class Plan(Strict):
    weekly_total: Money
    items: list[PlanItem] = Field(default_factory=list)


class Justification(Strict):
    """A justification as first written (free text): kept so saved cases read back."""

    need: Outcome
    provision: str
    weekly_cost: Money
    reason: str


class Proposal(Strict):
    weekly_amount: Money
    justifications: list[Justification] = Field(default_factory=list)


# --- the priced, need-by-need forms (issue 9): the council's rate card prices every line -------

OTHER_PROVISION = "other"  # support the rate card does not list: priced by hand, always flagged

# Units of support a week: hours, sessions, nights, weeks or items, to two places.
Units = Annotated[Decimal, Field(gt=0, le=1000, max_digits=8, decimal_places=2)]
ProvisionId = Annotated[str, Field(min_length=1, max_length=64)]


class SupportItem(Strict):
    """Support a need requires each week: units of a rate-card provision, or `other` priced by hand."""

    provision: ProvisionId
    units: Units
    unit_cost: Money | None = None
    description: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _other_is_priced_and_described(self) -> SupportItem:
        if self.provision == OTHER_PROVISION:
            if self.unit_cost is None or not (self.description or "").strip():
                raise ValueError("support of provision 'other' needs a description and a unit_cost")
        elif self.unit_cost is not None:
            raise ValueError(f"unit_cost: {self.provision} is priced by the council's rate card")
        return self


class AssessedNeed(Strict):
    """One outcome the person is unable to achieve now, or predicted to be within 12 months."""

    outcome: Outcome
    when: Literal["current", "predicted"]
    support: list[SupportItem] = Field(min_length=1)


class PricedPlanItem(Strict):
    """A plan item: the outcome(s) it meets, the provision, units a week and the unit cost."""

    outcomes: list[Outcome] = Field(min_length=1)
    provision: ProvisionId
    units: Units
    unit_cost: Money
    description: str | None = Field(None, max_length=500)

    @property
    def weekly_cost(self) -> Decimal:
        return pennies(self.units * self.unit_cost)


class PricedPlan(Strict):
    weekly_total: Money
    items: list[PricedPlanItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _total_is_sum_of_items(self) -> PricedPlan:
        total = sum((i.weekly_cost for i in self.items), Decimal(0))
        if self.items and total != self.weekly_total:
            raise ValueError(f"weekly_total: {self.weekly_total:.2f} is not the sum of the items ({total:.2f})")
        return self


class CostedJustification(Strict):
    """How the lower amount meets one need: the provision, units a week, unit cost and why."""

    outcome: Outcome
    provision: ProvisionId
    units: Annotated[Decimal, Field(ge=0, le=1000, max_digits=8, decimal_places=2)]
    unit_cost: Money
    reason: str = Field(max_length=2000)

    @property
    def weekly_cost(self) -> Decimal:
        return pennies(self.units * self.unit_cost)


class CostedProposal(Strict):
    weekly_amount: Money
    justifications: list[CostedJustification] = Field(default_factory=list)


class CounterProposalFacts(Strict):
    """Input of `counter-proposal`: the assessed support per need, the priced plan, the lower proposal."""

    needs: list[AssessedNeed] = Field(min_length=1)
    plan: PricedPlan
    proposal: CostedProposal

    @field_validator("needs")
    @classmethod
    def _one_entry_per_outcome(cls, v: list[AssessedNeed]) -> list[AssessedNeed]:
        outcomes = [n.outcome.value for n in v]
        twice = sorted({o for o in outcomes if outcomes.count(o) > 1})
        if twice:
            raise ValueError(f"each outcome is listed once; listed twice: {', '.join(twice)}")
        return v


# --- the input as a decision record holds it --------------------------------------------------
# What `model_dump(mode="json", exclude_none=True)` gives for CaseFacts, written out: fields in
# declaration order, None left out, money with two places, enums and dates as strings. pydantic's
# serializer called back into Python for every Money field and enum value (about 114K
# instructions a decision); these build the same dicts directly.
# tests/decisions/test_record_input.py holds the two equal, and fails when a field is added here
# without being added below.


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _person_json(p: Person) -> dict[str, Any]:
    out: dict[str, Any] = {"date_of_birth": p.date_of_birth.isoformat(), "setting": p.setting._value_}
    if p.care_home_admission_date is not None:
        out["care_home_admission_date"] = p.care_home_admission_date.isoformat()
    out["has_capacity"] = p.has_capacity
    out["has_authorised_person"] = p.has_authorised_person
    out["asks_council_to_arrange"] = p.asks_council_to_arrange
    return out


def _outcomes_json(outcomes: dict[Any, list[Way]]) -> dict[str, list[str]]:
    return {outcome._value_: [way._value_ for way in ways] for outcome, ways in outcomes.items()}


def _needs_json(n: Needs) -> dict[str, Any]:
    return {"arise_from_impairment_or_illness": n.arise_from_impairment_or_illness,
            "wellbeing_impact": n.wellbeing_impact._value_, "outcomes": _outcomes_json(n.outcomes)}


def _carer_json(c: Carer) -> dict[str, Any]:
    return {"needs_arise_from_providing_necessary_care": c.needs_arise_from_providing_necessary_care,
            "health_at_risk": c.health_at_risk, "wellbeing_impact": c.wellbeing_impact._value_,
            "outcomes": _outcomes_json(c.outcomes)}


def _finances_json(f: Finances) -> dict[str, Any]:
    return {"capital": _money(f.capital), "weekly_income": _money(f.weekly_income),
            "housing_costs": _money(f.housing_costs),
            "disability_related_expenditure": _money(f.disability_related_expenditure),
            "premiums": [p._value_ for p in f.premiums], "main_home_value": _money(f.main_home_value)}


def case_facts_json(facts: CaseFacts) -> dict[str, Any]:
    """The validated input as the record keeps it (`model_dump(mode="json", exclude_none=True)`)."""
    out: dict[str, Any] = {}
    if facts.person is not None:
        out["person"] = _person_json(facts.person)
    if facts.needs is not None:
        out["needs"] = _needs_json(facts.needs)
    if facts.predicted_needs is not None:
        out["predicted_needs"] = _needs_json(facts.predicted_needs)
    if facts.carer is not None:
        out["carer"] = _carer_json(facts.carer)
    if facts.finances is not None:
        out["finances"] = _finances_json(facts.finances)
    if facts.care is not None:
        out["care"] = {"weekly_cost": _money(facts.care.weekly_cost)}
    return out


# The fields each writer above knows, for the test that catches a field added to a model only.
CASE_FACTS_JSON_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {
    CaseFacts: ("person", "needs", "predicted_needs", "carer", "finances", "care"),
    Person: ("date_of_birth", "setting", "care_home_admission_date", "has_capacity", "has_authorised_person",
             "asks_council_to_arrange"),
    Needs: ("arise_from_impairment_or_illness", "wellbeing_impact", "outcomes"),
    Carer: ("needs_arise_from_providing_necessary_care", "health_at_risk", "wellbeing_impact", "outcomes"),
    Finances: ("capital", "weekly_income", "housing_costs", "disability_related_expenditure", "premiums",
               "main_home_value"),
    Care: ("weekly_cost",),
}


def pennies(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


Kind = Literal[
    "eligibility", "carer-eligibility", "charge", "indicative-budget", "assessment", "counter-proposal"
]
KINDS: tuple[str, ...] = (
    "eligibility", "carer-eligibility", "charge", "indicative-budget", "assessment", "counter-proposal"
)

# The parts each kind reads (parts it does not read are still validated when given).
REQUIRED_PARTS: dict[str, tuple[str, ...]] = {
    "eligibility": ("person", "needs"),
    "carer-eligibility": ("person", "carer"),
    "charge": ("person", "finances", "care"),
    "indicative-budget": ("person", "needs"),
    "assessment": ("person", "needs", "finances", "care"),
}
