"""The decision contract: input validation, record shape, and the CLI's exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from carebudget.decisions import DecisionError
from carebudget.policy.decide import decide

ON = date(2025, 6, 1)
PERSON = {"date_of_birth": "1980-01-01", "setting": "home"}
NEEDS = {"arise_from_impairment_or_illness": True, "wellbeing_impact": "significant",
         "outcomes": {"nutrition": ["needs_assistance"], "toilet_needs": ["endangers_health_safety"]}}


def test_an_extra_field_is_refused_naming_it() -> None:
    with pytest.raises(DecisionError) as refused:
        decide("eligibility", "demo", ON, {"person": {**PERSON, "nickname": "x"}, "needs": NEEDS})
    assert refused.value.field == "person.nickname"


def test_an_unknown_outcome_is_refused_naming_it() -> None:
    bad = {**NEEDS, "outcomes": {"flying": ["needs_assistance"]}}
    with pytest.raises(DecisionError) as refused:
        decide("eligibility", "demo", ON, {"person": PERSON, "needs": bad})
    assert refused.value.field.startswith("needs.outcomes")


@pytest.mark.parametrize("part", ["needs", "predicted_needs", "carer"])
def test_a_way_of_being_unable_listed_twice_for_one_outcome_is_refused_naming_the_outcomes(part: str) -> None:
    case = {"person": PERSON, "needs": NEEDS, "predicted_needs": NEEDS,
            "carer": {"health_at_risk": True, "wellbeing_impact": "significant"}}
    case[part] = {**case[part], "outcomes": {"nutrition": ["needs_assistance"],
                                             "relationships": ["needs_assistance", "endangers_health_safety",
                                                               "needs_assistance"]}}
    with pytest.raises(DecisionError) as refused:
        decide("eligibility", "demo", ON, case)
    assert refused.value.field == f"{part}.outcomes"
    assert "each way of being unable may be listed once per outcome" in refused.value.message


def test_a_kind_without_its_parts_names_the_missing_part() -> None:
    with pytest.raises(DecisionError) as refused:
        decide("charge", "demo", ON, {"person": PERSON})
    assert refused.value.field == "finances"


def test_an_unknown_council_is_refused() -> None:
    with pytest.raises(DecisionError) as refused:
        decide("eligibility", "atlantis", ON, {"person": PERSON, "needs": NEEDS})
    assert refused.value.field == "council"


def test_negative_money_is_refused() -> None:
    with pytest.raises(DecisionError) as refused:
        decide("charge", "demo", ON, {"person": PERSON, "finances": {"capital": "-1", "weekly_income": 0}, "care": {"weekly_cost": 1}})
    assert refused.value.field == "finances.capital"


def test_the_record_names_bundle_fired_rules_and_clauses() -> None:
    record = decide("eligibility", "demo", ON, {"person": PERSON, "needs": NEEDS})
    assert len(record["rules"]["bundle"]) == 64
    assert {"id": "adult.eligible", "reference": "Care Act 2014 s13(1); SI 2015/313 reg 2(1)"} in record["fired_rules"]
    assert all("(" in line for line in record["explanation"])
    assert set(record) >= {"kind", "council", "date", "rules", "eligibility", "fired_rules", "explanation"}
    assert "charge" not in record


def test_an_ineligible_decision_gives_written_advice() -> None:
    record = decide("eligibility", "england", ON, {"person": PERSON, "needs": {**NEEDS, "outcomes": {}}})
    assert record["eligibility"]["eligible"] is False
    assert "s13(5)" in record["eligibility"]["advice"]


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "carebudget.cli", *args], check=False, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_cli_prints_one_json_record_and_exits_zero() -> None:
    result = run_cli("decide", "eligibility", "--council", "demo", "--date", "2025-06-01", "--input", "-",
                     stdin=json.dumps({"person": PERSON, "needs": NEEDS}))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["eligibility"]["eligible"] is True


@pytest.mark.parametrize(
    ("args", "stdin", "field"),
    [(["eligibility", "--date", "2025-13-01"], "{}", "date"),
     (["eligibility", "--date", "2025-06-01"], "not json", "input"),
     (["eligibility", "--date", "2025-06-01"], json.dumps({"person": PERSON}), "needs"),
     (["payday", "--date", "2025-06-01"], "{}", "kind")],
)
def test_cli_invalid_input_exits_2_with_a_json_error_naming_the_field(args, stdin, field) -> None:
    kind, *rest = args
    result = run_cli("decide", kind, "--council", "demo", *rest, "--input", "-", stdin=stdin)
    assert result.returncode == 2
    assert json.loads(result.stdout)["field"] == field


def test_a_decision_dated_before_the_act_came_into_force_is_refused_naming_the_date() -> None:
    """Issue 11: a decision dated before 1 April 2015 gave a 500 (no rules in the bundle)."""
    with pytest.raises(DecisionError) as refused:
        decide("eligibility", "demo", date(2010, 1, 1), {"person": PERSON, "needs": NEEDS})
    assert refused.value.field == "date" and "1 April 2015" in refused.value.message
