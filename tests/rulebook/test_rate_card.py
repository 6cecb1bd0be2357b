"""The council's rate card (CSSG 11.24-11.25) is validated like any other parameter file."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from carebudget.rulebook import RuleFileError
from carebudget.rulebook.library import load_library
from carebudget.settings import REPO_ROOT

RATES = "councils/demo/parameters/rates.yaml"


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", target)
    return target


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (("meets: [home_safety]", "meets: [home_safty]"), "telecare_week.meets.0: Input should be"),
        (("rate: 27.40", "rate: -27.40"), "home_care_hour.rate: Input should be greater than 0"),
        (("rate: 16.80", "rate: 0"), "personal_assistant_hour.rate: Input should be greater than 0"),
        (("unit: night", "unit: fortnight"), "respite_night.unit: Input should be"),
        (("- id: telecare_week", "- id: home_care_hour"), "provision id(s) listed twice: home_care_hour"),
        (("- {for: day_opportunity_session,", "- {for: day_centre,"), "substitutes for unknown provision 'day_centre'"),
        (("outcomes: [relationships, community_facilities], units_per_unit: 0.5}",
          "outcomes: [caring_for_child], units_per_unit: 0.5}"), "which day_opportunity_session does not meet"),
    ],
)
def test_a_bad_rate_card_is_refused_naming_the_provision_and_what_is_wrong(rules_copy: Path, edit, reason: str) -> None:
    rates = rules_copy / RATES
    text = rates.read_text()
    assert edit[0] in text
    rates.write_text(text.replace(*edit, 1))
    with pytest.raises(RuleFileError) as refused:
        load_library(rules_copy)
    assert refused.value.path.endswith("rates.yaml")
    assert reason in str(refused.value)


def test_substitutions_that_go_round_in_a_circle_are_refused(rules_copy: Path) -> None:
    rates = rules_copy / RATES
    rates.write_text(rates.read_text().replace(
        "          meets: [relationships, work_training_education_volunteering, community_facilities]\n",
        "          meets: [relationships, work_training_education_volunteering, community_facilities]\n"
        "          substitutes:\n"
        "            - {for: community_activity_session, outcomes: [relationships], units_per_unit: 2}\n", 1))
    with pytest.raises(RuleFileError) as refused:
        load_library(rules_copy)
    assert "go round in a circle" in str(refused.value)
    assert "day_opportunity_session" in str(refused.value)


def test_national_rules_have_no_rate_card(rules_copy: Path) -> None:
    shutil.copy(rules_copy / RATES, rules_copy / "england/parameters/rates.yaml")
    (rules_copy / RATES).unlink()
    with pytest.raises(RuleFileError) as refused:
        load_library(rules_copy)
    assert "national rules have none" in str(refused.value)


def test_the_demo_card_lists_the_provisions_the_issue_names_with_plausible_local_rates() -> None:
    card = load_library(REPO_ROOT / "rules").bundle("demo", date(2025, 6, 1)).param("rates.card")
    by_id = {p["id"]: p for p in card}
    for needed in ("home_care_hour", "personal_assistant_hour", "day_opportunity_session", "respite_night",
                   "meals_delivered", "online_grocery_delivery", "telecare_week", "community_activity_session"):
        assert needed in by_id
    assert by_id["telecare_week"]["meets"] == ["home_safety"]
    assert by_id["meals_delivered"]["unit"] == "item" and by_id["online_grocery_delivery"]["unit"] == "week"
    assert 20 <= float(by_id["home_care_hour"]["rate"]) <= 35
