"""`carebudget decide charge --council england --date <today>`: the national rules can charge anyone
today, and each decision names the figures it used that are not read from the regulations."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

TODAY = date.today()


def _born(years_ago: int) -> str:
    return date(TODAY.year - years_ago, 1, 15).isoformat() if TODAY >= date(TODAY.year, 1, 15) else \
        date(TODAY.year - years_ago - 1, 1, 15).isoformat()


PEOPLE = {
    "a care-home resident": (
        {"date_of_birth": _born(85), "setting": "care_home",
         "care_home_admission_date": date(TODAY.year - 1, 6, 1).isoformat()},
        [], "personal_expenses_allowance",
    ),
    "a person aged 21 with a disability premium at home": (
        {"date_of_birth": _born(21), "setting": "home"}, ["disability"], "mig.single_18_to_24",
    ),
    "a person aged 44 at home": (
        {"date_of_birth": _born(44), "setting": "home"}, [], "mig.single_25_to_pension_credit_age",
    ),
    "a person aged 80 at home": (
        {"date_of_birth": _born(80), "setting": "home"}, [], "mig.single_pension_credit_age",
    ),
}


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_a_national_charge_decision_dated_today_succeeds_and_names_its_unconfirmed_figures(
    who: str, tmp_path: Path
) -> None:
    person, premiums, floor = PEOPLE[who]
    source = tmp_path / "case.json"
    source.write_text(json.dumps({
        "person": person,
        "finances": {"capital": "15000", "weekly_income": "320.00", "premiums": premiums},
        "care": {"weekly_cost": "450.00"},
    }), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "carebudget.cli", "decide", "charge", "--council", "england",
         "--date", TODAY.isoformat(), "--input", str(source)],
        check=False, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(done.stdout)
    charge = record["charge"]
    assert charge["route"] == "means_tested"
    assert floor in charge["parameters_used"]
    for premium in premiums:
        assert f"mig.{premium}_premium" in charge["parameters_used"]
    # Every figure used whose grade is S or D is named in the explanation with where to check it.
    from carebudget.rulebook import get_registry

    bundle = get_registry().bundle("england", TODAY)
    unconfirmed = [n for n in charge["parameters_used"] if bundle.parameters[n].grade in ("S", "D")]
    assert floor in unconfirmed
    for name in unconfirmed:
        grade = bundle.parameters[name].grade
        assert any(f"The figure for {name} " in line and f"source grade {grade}" in line
                   for line in record["explanation"]), (name, record["explanation"])
