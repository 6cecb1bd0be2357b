"""The case forms turn what people type into the decision contract, and explain what is wrong."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from starlette.datastructures import FormData

from carebudget.settings import REPO_ROOT
from carebudget.web.case_forms import (
    check_counter_proposal,
    needs_from_form,
    plan_from_form,
    proposal_from_form,
    support_from_form,
)

NEEDS = [
    {"outcome": "nutrition", "when": "current", "support": [{"provision": "home_care_hour", "units": "4"}]},
    {"outcome": "personal_hygiene", "when": "predicted", "support": [{"provision": "home_care_hour", "units": "5"}]},
]
PLAN = {
    "weekly_total": "246.60",
    "items": [
        {"outcomes": ["nutrition", "personal_hygiene"], "provision": "home_care_hour", "units": "9", "unit_cost": "27.40"},
    ],
}


def form(pairs: list[tuple[str, str]]) -> FormData:
    return FormData(pairs)


def test_ticked_ways_become_the_needs_of_si_2015_313() -> None:
    needs, errors = needs_from_form(
        form(
            [
                ("now.nutrition", "needs_assistance"),
                ("now.nutrition", "takes_significantly_longer"),
                ("now.arise_from_impairment_or_illness", "yes"),
                ("now.wellbeing_impact", "significant"),
            ]
        ),
        "now",
    )
    assert errors == {}
    assert needs == {
        "arise_from_impairment_or_illness": True,
        "wellbeing_impact": "significant",
        "outcomes": {"nutrition": ["needs_assistance", "takes_significantly_longer"]},
    }


def test_a_needs_form_without_the_wellbeing_answer_says_so_beside_it() -> None:
    needs, errors = needs_from_form(form([("soon.nutrition", "needs_assistance")]), "soon")
    assert needs is None
    assert errors == {
        "soon.wellbeing_impact": "Choose whether the effect on wellbeing is significant"
    }


def test_an_unknown_way_of_being_unable_is_refused() -> None:
    needs, errors = needs_from_form(
        form([("now.nutrition", "bored"), ("now.wellbeing_impact", "significant")]), "now"
    )
    assert needs is None and any(k.startswith("now.outcomes.nutrition") for k in errors)


def test_plan_rows_become_priced_items_tied_to_needs_with_a_total_and_unmet_needs() -> None:
    plan, unmet, errors = plan_from_form(
        form(
            [
                ("item-0-outcome", "nutrition"),
                ("item-0-provision", "meals_delivered"),
                ("item-0-units", "7"),
                ("item-0-unit_cost", "£6.20"),
                ("item-1-outcome", "personal_hygiene"),
                ("item-1-provision", "home_care_hour"),
                ("item-1-units", "3.5"),
                ("item-1-unit_cost", "27.40"),
                ("unmet-0-outcome", "community_facilities"),
                ("unmet-0-provision", "other"),
                ("unmet-0-words", "  Swimming club with a hoist "),
                ("unmet-1-outcome", "relationships"),
                ("unmet-1-provision", "community_activity_session"),
                ("unmet-1-units", "2"),
            ]
        )
    )
    assert errors == {}
    assert plan is not None and plan["weekly_total"] == "139.30"
    assert [(i["outcomes"], i["provision"], i["units"], i["unit_cost"]) for i in plan["items"]] == [
        (["nutrition"], "meals_delivered", "7", "6.20"),
        (["personal_hygiene"], "home_care_hour", "3.5", "27.40"),
    ]
    assert unmet == [
        {"outcome": "community_facilities", "provision": "other", "words": "Swimming club with a hoist"},
        {"outcome": "relationships", "provision": "community_activity_session", "units": "2", "words": ""},
    ]


@pytest.mark.parametrize(("fields", "field", "words"), [
    ([("unmet-0-provision", "respite_night")], "unmet-0-outcome", "Choose the outcome"),
    ([("unmet-0-outcome", "eating"), ("unmet-0-provision", "respite_night")], "unmet-0-outcome", "Choose the outcome"),
    ([("unmet-0-outcome", "nutrition"), ("unmet-0-words", "Meals")], "unmet-0-provision", "from the rate card"),
    ([("unmet-0-outcome", "nutrition"), ("unmet-0-provision", "other")], "unmet-0-words", "Say what was wanted"),
    ([("unmet-0-outcome", "nutrition"), ("unmet-0-provision", "meals_delivered"), ("unmet-0-units", "lots")],
     "unmet-0-units", "units a week"),
    ([("unmet-0-outcome", "nutrition"), ("unmet-0-provision", "meals_delivered"), ("unmet-0-units", "-2")],
     "unmet-0-units", "units a week"),
])
def test_an_unmet_need_without_an_outcome_a_choice_or_sensible_units_is_refused_beside_the_field(
        fields: list[tuple[str, str]], field: str, words: str) -> None:
    item = [("item-0-outcome", "nutrition"), ("item-0-provision", "meals_delivered"), ("item-0-units", "7"),
            ("item-0-unit_cost", "6.20")]
    plan, _, errors = plan_from_form(form([*item, *fields]))
    assert plan is None and words in errors[field]


def test_any_number_of_plan_rows_are_read() -> None:
    rows = [(f"item-{i}-{k}", v) for i in range(9) for k, v in
            (("outcome", "nutrition"), ("provision", "meals_delivered"), ("units", "1"), ("unit_cost", "6.20"))]
    plan, _, errors = plan_from_form(form([("rows", "9"), *rows]))
    assert errors == {} and plan is not None and len(plan["items"]) == 9


def test_a_plan_row_without_a_need_or_a_cost_is_refused_at_that_row() -> None:
    plan, _, errors = plan_from_form(
        form([("item-2-provision", "meals_delivered"), ("item-2-units", "7"), ("item-2-unit_cost", "lots")])
    )
    assert plan is None
    assert errors == {
        "item-2-outcome": "Choose the need this item meets",
        "item-2-unit_cost": "Enter the cost per unit in pounds, like 27.40",
    }


def test_an_empty_plan_asks_for_one_item() -> None:
    plan, _, errors = plan_from_form(form([]))
    assert plan is None and "item-0-outcome" in errors


def test_support_for_each_ticked_need_is_read_and_a_missing_one_named() -> None:
    support, errors = support_from_form(
        form([("support-nutrition-provision", "home_care_hour"), ("support-nutrition-units", "4")]),
        {"nutrition": "current", "home_safety": "predicted"},
    )
    assert support[0] == {"outcome": "nutrition", "when": "current",
                          "support": [{"provision": "home_care_hour", "units": "4"}]}
    assert errors == {
        "support-home_safety-provision": "Choose the support this need requires from the rate card",
        "support-home_safety-units": "Enter how many units a week, like 4 or 3.5",
    }


def _check(proposal: dict[str, Any]) -> dict[str, Any]:
    from carebudget.rulebook import get_registry

    return check_counter_proposal(get_registry(REPO_ROOT / "rules"), "demo", date(2025, 6, 2), NEEDS, PLAN, proposal)


def _line(need: str, k: int, provision: str, units: str, cost: str, reason: str) -> list[tuple[str, str]]:
    key = f"just-{need}-{k}"
    return [(f"{key}-provision", provision), (f"{key}-units", units), (f"{key}-unit_cost", cost),
            (f"{key}-reason", reason)]


def test_a_lower_amount_that_leaves_a_need_unjustified_shows_that_need_not_covered() -> None:
    proposal, errors = proposal_from_form(
        form([("weekly_amount", "200"),
              *_line("nutrition", 0, "personal_assistant_hour", "4", "16.80", "A personal assistant cooks the same meals.")]),
        ["nutrition", "personal_hygiene"],
    )
    assert errors == {} and proposal is not None
    check = _check(proposal)
    assert check["valid"] is False
    covered = {n["need"]: n["covered"] for n in check["needs"]}
    assert covered == {"nutrition": True, "personal_hygiene": False}
    assert "predicted within the next 12 months, has no justification" in check["needs"][1]["problems"][0]


def test_a_lower_amount_justified_need_by_need_at_local_rates_is_valid() -> None:
    proposal, _ = proposal_from_form(
        form([("weekly_amount", "160"),
              *_line("nutrition", 0, "online_grocery_delivery", "1", "3.50", "A weekly grocery delivery replaces the shopping trip."),
              *_line("nutrition", 1, "meals_delivered", "6", "6.20", "Six meals delivered replace three hours of cooking."),
              *_line("personal_hygiene", 0, "personal_assistant_hour", "5", "16.80", "A personal assistant gives the same care.")]),
        ["nutrition", "personal_hygiene"],
    )
    assert proposal is not None
    check = _check(proposal)
    assert check["valid"] is True and all(n["covered"] for n in check["needs"])
    assert check["floor"] == "124.70"


def test_a_justification_whose_costs_exceed_the_amount_is_not_valid() -> None:
    proposal, _ = proposal_from_form(
        form([("weekly_amount", "130"),
              *_line("nutrition", 0, "home_care_hour", "4", "27.40", "Agency home care as assessed for meals."),
              *_line("personal_hygiene", 0, "personal_assistant_hour", "5", "16.80", "A personal assistant gives the same care.")]),
        ["nutrition", "personal_hygiene"],
    )
    assert proposal is not None
    check = _check(proposal)
    assert check["valid"] is False and any("add up to more" in g for g in check["general"])
def test_a_proposal_without_an_amount_says_so_beside_it() -> None:
    proposal, errors = proposal_from_form(form([]), ["nutrition"])
    assert proposal is None and errors == {
        "weekly_amount": "Enter the proposed weekly amount in pounds, like 240.00"
    }
