"""Care Act 2014 s14 and s17, SI 2014/2672: the financial assessment and the weekly charge.

The rules decide the route (means-tested, full cost, self-funder) and the property disregard;
this module does the statutory arithmetic on the amounts in force on the decision date.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

from carebudget.decisions.evaluate import Evaluation, StageEvaluator, run_stage
from carebudget.decisions.facts import age_on
from carebudget.decisions.inputs import CaseFacts
from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.parameters import MissingParameter
from carebudget.rulebook.vocabulary import CARRIED_FORWARD

ZERO = Decimal("0.00")
PENNY = Decimal("0.01")


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(PENNY)


def tariff_income(capital: Decimal, lower: Decimal, upper: Decimal, step: Decimal) -> Decimal:
    """SI 2014/2672 reg 25: £1 a week for every £250, or part of £250, above the lower limit
    up to the upper limit: ceil((min(c, upper) - lower) / step)."""
    if capital <= lower:
        return ZERO
    return ((min(capital, upper) - lower) / step).to_integral_value(rounding=ROUND_CEILING).quantize(PENNY)


def _add_months(day: date, years: int, months: int) -> date:
    month_index = day.month - 1 + months
    year = day.year + years + month_index // 12
    month = month_index % 12 + 1
    # A birthday on a day the target month lacks falls on that month's last day.
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


_Cohort = tuple[date, date, dict[str, Any]]
# Each table parsed once: keyed by the table object, which is kept beside its parse so its id
# cannot be reused by another table while the entry lives. A bundle holds its tables for its life.
_COHORTS: dict[int, tuple[list[dict[str, Any]], list[_Cohort]]] = {}


def _cohorts(table: list[dict[str, Any]]) -> list[_Cohort]:
    cached = _COHORTS.get(id(table))
    if cached is not None and cached[0] is table:
        return cached[1]
    cohorts = [
        (date.fromisoformat(str(row["born_from"])) if "born_from" in row else date.min,
         date.fromisoformat(str(row["born_before"])) if "born_before" in row else date.max, row)
        for row in table
    ]
    if len(_COHORTS) >= 64:
        _COHORTS.clear()
    _COHORTS[id(table)] = (table, cohorts)
    return cohorts


def reached_pension_credit_age(born: date, on: date, table: list[dict[str, Any]]) -> bool:
    """State Pension Credit Act 2002 s1(6), by the birth-cohort table `pension_credit_qualifying_age`."""
    for start, end, row in _cohorts(table):
        if not start <= born < end:
            continue
        if "years" in row:
            return on >= _add_months(born, int(row["years"]), int(row.get("months", 0)))
        if "reached_by" in row and on >= date.fromisoformat(str(row["reached_by"])):
            return True
        if age_on(born, on) < int(row.get("at_least_years", 0)):
            return False
        raise MissingParameter(
            "pension_credit_qualifying_age", on,
            f"the exact qualifying age for someone born on {born.isoformat()} is not encoded",
        )
    raise MissingParameter("pension_credit_qualifying_age", on, f"no cohort covers birth date {born.isoformat()}")


# SI 2014/2672 reg 2(1) defines these premiums by the Income Support (General) Regulations 1987
# Sch 2 paras 11 and 13A, which give them only below pension credit qualifying age.
PREMIUMS_END_AT_PENSION_CREDIT_AGE = (
    "At or over pension credit qualifying age the minimum income guarantee has no disability or "
    "enhanced disability premium (SI 2014/2672 reg 2(1); Income Support (General) Regulations 1987 "
    "Sch 2 paras 11 and 13A), so {premiums} given in the finances {verb} not added."
)


def minimum_income_guarantee(case: CaseFacts, bundle: Bundle, on: date) -> dict[str, Any]:
    """SI 2014/2672 reg 7: the weekly amount a person receiving care at home must be left with."""
    assert case.person and case.finances
    born = case.person.date_of_birth
    pension_age = reached_pension_credit_age(born, on, bundle.param("pension_credit_qualifying_age"))
    if pension_age:
        band = "mig.single_pension_credit_age"
    elif age_on(born, on) >= 25:
        band = "mig.single_25_to_pension_credit_age"
    else:
        band = "mig.single_18_to_24"
    amount = bundle.amount(band)
    used = [band]
    premiums = [p._value_ for p in case.finances.premiums]
    for premium in [] if pension_age else premiums:
        name = f"mig.{premium}_premium"
        amount += bundle.amount(name)
        used.append(name)
    result: dict[str, Any] = {
        "minimum_income_guarantee": amount,
        "minimum_income_guarantee_band": band,
        "parameters_used": used,
    }
    if pension_age and premiums:
        result["premiums_not_applied"] = premiums
    return result


def assess_charge(
    case: CaseFacts, bundle: Bundle, on: date, facts: dict[str, Any], ev: Evaluation,
    engine: StageEvaluator | None = None,
) -> dict[str, Any]:
    """The charge section of the decision record (s14, s17, s18; regs 6, 7, 12, 25)."""
    assert case.person and case.finances and case.care
    finances, setting = case.finances, case.person.setting._value_
    home_disregarded = bool(ev.get("charge.main_home_disregarded", False))
    capital = finances.capital + (ZERO if home_disregarded else finances.main_home_value)
    stage_facts = {**facts, "capital_assessable": float(capital)}
    for output, fact in CARRIED_FORWARD.items():
        stage_facts[fact] = bool(ev.get(output, False))
    run_stage(bundle, "charge", stage_facts, ev, engine)

    route = ev.get("charge.route")
    if route is None:
        raise MissingParameter("charge.route", on, "no charging rule applied to these facts")
    cost = money(case.care.weekly_cost)
    upper, lower = bundle.amount("capital_limit_upper"), bundle.amount("capital_limit_lower")
    tariff = tariff_income(capital, lower, upper, bundle.amount("tariff_income_step"))
    result: dict[str, Any] = {
        "route": route,
        "setting": setting,
        "council_arranges": bool(ev.get("charge.council_arranges", False)),
        "capital_assessed": capital,
        "main_home_disregarded": home_disregarded,
        "tariff_income": tariff,
        "weekly_cost": cost,
    }
    if route == "means_tested":
        if setting == "home":
            mig = minimum_income_guarantee(case, bundle, on)
            available = (finances.weekly_income + tariff - mig["minimum_income_guarantee"]
                         - finances.housing_costs - finances.disability_related_expenditure)
            result.update(mig, parameters_used=[
                "capital_limit_upper", "capital_limit_lower", "tariff_income_step", *mig["parameters_used"]])
        else:
            pea = bundle.amount("personal_expenses_allowance")
            available = finances.weekly_income + tariff - pea
            result.update(personal_expenses_allowance=pea,
                          parameters_used=["capital_limit_upper", "capital_limit_lower", "tariff_income_step", "personal_expenses_allowance"])
        charge = min(cost, max(ZERO, available))
    else:
        # Above the upper limit the person pays the full cost (s14(4): never more than the cost).
        charge = cost
        result["parameters_used"] = ["capital_limit_upper"]
    result["weekly_charge"] = money(charge)
    result["council_pays"] = money(cost - charge) if result["council_arranges"] else ZERO
    return result


def explain_charge(charge: dict[str, Any]) -> list[str]:
    lines = [
        (f"Assessed capital is £{charge['capital_assessed']:,.2f}, giving tariff income of "
         f"£{charge['tariff_income']} a week (SI 2014/2672 reg 25)."),
    ]
    if charge.get("premiums_not_applied"):
        premiums = charge["premiums_not_applied"]
        named = " and ".join(f"the {p.replace('_', ' ')} premium" for p in premiums)
        lines.append(PREMIUMS_END_AT_PENSION_CREDIT_AGE.format(premiums=named, verb="is" if len(premiums) == 1 else "are"))
    if "minimum_income_guarantee" in charge:
        lines.append(
            f"The minimum income guarantee is £{charge['minimum_income_guarantee']} a week "
            f"({charge['minimum_income_guarantee_band']}; SI 2014/2672 reg 7), so the weekly charge is "
            f"£{charge['weekly_charge']} of a £{charge['weekly_cost']} cost (Care Act 2014 s14(4), s14(7))."
        )
    elif "personal_expenses_allowance" in charge:
        lines.append(
            f"The personal expenses allowance is £{charge['personal_expenses_allowance']} a week "
            f"(SI 2014/2672 reg 6), so the weekly charge is £{charge['weekly_charge']} of a "
            f"£{charge['weekly_cost']} fee."
        )
    else:
        lines.append(f"The person pays the full weekly cost of £{charge['weekly_charge']} (Care Act 2014 s14(4), s18).")
    return lines
