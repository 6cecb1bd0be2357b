"""Care Act s14, s17, s18 and SI 2014/2672: boundaries of the financial assessment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from carebudget.decisions import DecisionError
from carebudget.decisions.charging import reached_pension_credit_age, tariff_income
from carebudget.policy.decide import decide
from carebudget.rulebook import get_registry

ON = date(2025, 6, 1)


def charge_input(capital: str, **person: object) -> dict:
    return {
        "person": {"date_of_birth": "1960-01-01", "setting": "home", **person},
        "finances": {"capital": capital, "weekly_income": "250.00"},
        "care": {"weekly_cost": "300.00"},
    }


@pytest.mark.parametrize(
    ("capital", "tariff"),
    [("14249.99", "0.00"), ("14250.00", "0.00"), ("14250.01", "1.00"), ("15750", "6.00"),
     ("18450", "17.00"), ("23249.99", "36.00"), ("23250.00", "36.00")],
)
def test_tariff_income_is_a_pound_for_every_250_or_part(capital: str, tariff: str) -> None:
    record = decide("charge", "england", ON, charge_input(capital))
    assert record["charge"]["tariff_income"] == tariff
    assert record["charge"]["route"] == "means_tested"


@pytest.mark.parametrize(("capital", "route"), [("23249.99", "means_tested"), ("23250.00", "means_tested"), ("23250.01", "full_cost")])
def test_capital_at_or_below_the_upper_limit_is_means_tested(capital: str, route: str) -> None:
    assert decide("charge", "england", ON, charge_input(capital))["charge"]["route"] == route


def test_above_the_limit_at_home_without_asking_the_council_is_self_funding() -> None:
    record = decide("charge", "england", ON, charge_input("30000", asks_council_to_arrange=False))
    assert record["charge"]["route"] == "self_funder"
    assert record["charge"]["council_pays"] == "0.00"


def test_tariff_formula_caps_at_the_upper_limit() -> None:
    step, lower, upper = Decimal(250), Decimal(14250), Decimal(23250)
    assert tariff_income(Decimal(100000), lower, upper, step) == Decimal(36)


@pytest.mark.parametrize(
    ("born", "on", "reached"),
    [("1960-04-06", "2026-05-05", False), ("1960-04-06", "2026-05-06", True),
     ("1961-03-05", "2028-02-04", False), ("1961-03-05", "2028-02-05", True),
     ("1961-03-06", "2028-03-05", False), ("1961-03-06", "2028-03-06", True),
     ("1945-01-01", "2016-01-01", True), ("1958-02-28", "2024-02-28", True)],
)
def test_pension_credit_age_follows_the_birth_cohorts(born: str, on: str, reached: bool) -> None:
    table = get_registry().bundle("england", date.fromisoformat(on)).param("pension_credit_qualifying_age")
    assert reached_pension_credit_age(date.fromisoformat(born), date.fromisoformat(on), table) is reached


def test_a_cohort_whose_exact_age_is_not_encoded_fails_naming_the_parameter() -> None:
    with pytest.raises(DecisionError) as refused:
        decide("charge", "england", date(2016, 1, 1), charge_input("0", date_of_birth="1953-01-01"))
    assert refused.value.field == "pension_credit_qualifying_age"


def test_charge_uses_the_figure_in_force_on_the_decision_date() -> None:
    care_home = {"setting": "care_home", "date_of_birth": "1940-01-01", "care_home_admission_date": "2015-01-01"}
    before = decide("charge", "england", date(2015, 4, 5), charge_input("0", **care_home))
    after = decide("charge", "england", date(2015, 4, 6), charge_input("0", **care_home))
    assert before["charge"]["personal_expenses_allowance"] == "24.40"
    assert after["charge"]["personal_expenses_allowance"] == "24.90"
    assert before["rules"]["bundle"] != after["rules"]["bundle"]


def test_a_decision_in_a_period_with_an_unconfirmed_figure_fails_with_the_parameter_named() -> None:
    payload = charge_input("0", date_of_birth="1990-01-01")
    payload["finances"]["premiums"] = ["disability"]
    with pytest.raises(DecisionError) as refused:
        decide("charge", "england", date(2023, 6, 1), payload)
    assert refused.value.error == "missing parameter"
    assert refused.value.field == "mig.disability_premium"
    assert "not confirmed" in refused.value.message


@pytest.mark.parametrize(("on", "guarantee"), [(date(2022, 4, 5), "91.40"), (date(2022, 4, 6), "94.15")])
def test_the_april_2022_uprating_is_in_force_from_6_april(on: date, guarantee: str) -> None:
    record = decide("charge", "england", on, charge_input("0", date_of_birth="1990-01-01"))
    assert record["charge"]["minimum_income_guarantee"] == guarantee


def test_a_secondary_source_figure_is_named_in_the_explanation() -> None:
    record = decide("charge", "england", ON, charge_input("0", date_of_birth="1990-01-01"))
    assert any("source grade S" in line for line in record["explanation"])
