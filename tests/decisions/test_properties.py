"""Properties that must hold for every case (hypothesis), decided by the real engine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carebudget.policy.decide import decide
from carebudget.rulebook.vocabulary import OUTCOMES, WAYS

ON = date(2025, 9, 1)
ways = st.lists(st.sampled_from(WAYS), unique=True, min_size=1)
outcome_maps = st.dictionaries(st.sampled_from(OUTCOMES), ways)
money = st.decimals(min_value=0, max_value=5000, places=2)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def needs(outcomes: dict) -> dict:
    return {"arise_from_impairment_or_illness": True, "wellbeing_impact": "significant", "outcomes": outcomes}


def budget(outcomes: dict, predicted: dict | None = None) -> dict:
    case = {"person": {"date_of_birth": "1970-01-01", "setting": "home"}, "needs": needs(outcomes)}
    if predicted is not None:
        case["predicted_needs"] = needs(predicted)
    return decide("indicative-budget", "demo", ON, case)["indicative_budget"]


@FAST
@given(outcome_maps, st.sampled_from(OUTCOMES), ways)
def test_more_unmet_outcomes_never_lower_the_points_or_the_range(base, extra_outcome, extra_ways) -> None:
    more = {**base, extra_outcome: sorted(set(base.get(extra_outcome, [])) | set(extra_ways))}
    before, after = budget(base), budget(more)
    assert after["points"] >= before["points"]
    assert Decimal(after["weekly_low"]) >= Decimal(before["weekly_low"])
    assert Decimal(after["weekly_high"]) >= Decimal(before["weekly_high"])


@FAST
@given(outcome_maps, outcome_maps)
def test_more_predicted_needs_never_lower_the_points(current, predicted) -> None:
    assert budget(current, predicted)["points"] >= budget(current)["points"]


@FAST
@given(
    capital=money.map(lambda d: d * 10), income=money, cost=money, housing=st.decimals(0, 200, places=2),
    dre=st.decimals(0, 100, places=2), born=st.dates(date(1930, 1, 1), date(2005, 1, 1)),
    setting=st.sampled_from(["home", "care_home"]),
)
def test_the_charge_never_exceeds_the_cost_nor_takes_income_below_the_floor(capital, income, cost, housing, dre, born, setting) -> None:
    person = {"date_of_birth": born.isoformat(), "setting": setting}
    if setting == "care_home":
        person["care_home_admission_date"] = "2025-01-01"
    record = decide("charge", "england", ON, {
        "person": person,
        "finances": {"capital": str(capital), "weekly_income": str(income), "housing_costs": str(housing),
                     "disability_related_expenditure": str(dre)},
        "care": {"weekly_cost": str(cost)},
    })["charge"]
    charge = Decimal(record["weekly_charge"])
    assert Decimal(0) <= charge <= cost
    assert Decimal(record["council_pays"]) + charge == cost or not record["council_arranges"]
    if record["route"] == "means_tested":
        tariff = Decimal(record["tariff_income"])
        floor = Decimal(record.get("minimum_income_guarantee") or record["personal_expenses_allowance"])
        deductions = (housing + dre) if setting == "home" else Decimal(0)
        # What is left of income and tariff income after the charge never falls below the floor.
        assert income + tariff - deductions - charge >= floor or charge == 0


def _pension_credit_birthday(born: date) -> date:
    from carebudget.decisions.charging import reached_pension_credit_age
    from carebudget.rulebook import get_registry

    table = get_registry().bundle("england", ON).param("pension_credit_qualifying_age")
    day = date(born.year + 66, born.month, 1)
    while not reached_pension_credit_age(born, day, table):
        day = day.fromordinal(day.toordinal() + 1)
    return day


@FAST
@given(
    born=st.dates(date(1958, 1, 1), date(1961, 12, 31)),
    premiums=st.lists(st.sampled_from(["disability", "enhanced_disability"]), unique=True),
    income=money, capital=st.decimals(0, 23250, places=2),
)
def test_turning_pension_credit_age_never_adds_a_premium(born, premiums, income, capital) -> None:
    """SI 2014/2672 reg 2(1); Income Support (General) Regulations 1987 Sch 2 paras 11 and 13A:
    the premiums exist only below pension credit age, whatever the input flags."""
    turns = _pension_credit_birthday(born)
    days = [turns.fromordinal(turns.toordinal() - 1), turns]
    if days[0] < date(2024, 4, 6):
        return  # the 2022/23 and 2023/24 premiums are not confirmed (NC)
    records = [
        decide("charge", "england", day, {
            "person": {"date_of_birth": born.isoformat(), "setting": "home"},
            "finances": {"capital": str(capital), "weekly_income": str(income), "premiums": premiums},
            "care": {"weekly_cost": "500.00"},
        })["charge"]
        for day in days
    ]
    before, after = (set(r["parameters_used"]) for r in records)
    premium_names = {f"mig.{p}_premium" for p in premiums}
    assert before & premium_names == premium_names
    assert not after & {"mig.disability_premium", "mig.enhanced_disability_premium"}
    assert records[1]["minimum_income_guarantee_band"] == "mig.single_pension_credit_age"
    assert records[1].get("premiums_not_applied", []) == premiums
