"""The case forms turn what people type into the decision contract, and explain what is wrong."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.datastructures import FormData

from carebudget.settings import REPO_ROOT
from carebudget.web.case_forms import (
    check_counter_proposal,
    needs_from_form,
    plan_from_form,
    proposal_from_form,
)

PLAN = {
    "weekly_total": "300.00",
    "items": [
        {"need": "nutrition", "provision": "Meals delivered", "weekly_cost": "100.00"},
        {"need": "personal_hygiene", "provision": "Carer visits", "weekly_cost": "200.00"},
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


def test_plan_rows_become_items_tied_to_needs_with_a_total_and_unmet_needs() -> None:
    plan, unmet, errors = plan_from_form(
        form(
            [
                ("item-0-need", "nutrition"),
                ("item-0-provision", "Meals"),
                ("item-0-weekly_cost", "£100"),
                ("item-1-need", "personal_hygiene"),
                ("item-1-provision", "Carer"),
                ("item-1-weekly_cost", "200.50"),
                ("unmet_needs", "Swimming club with a hoist\n\n"),
            ]
        )
    )
    assert errors == {}
    assert plan == {
        "weekly_total": "300.50",
        "items": [
            {"need": "nutrition", "provision": "Meals", "weekly_cost": "100.00"},
            {"need": "personal_hygiene", "provision": "Carer", "weekly_cost": "200.50"},
        ],
    }
    assert unmet == ["Swimming club with a hoist"]


def test_a_plan_row_without_a_need_or_a_cost_is_refused_at_that_row() -> None:
    plan, _, errors = plan_from_form(
        form([("item-2-provision", "Meals"), ("item-2-weekly_cost", "lots")])
    )
    assert plan is None
    assert errors == {
        "item-2-need": "Choose the need this item meets",
        "item-2-weekly_cost": "Enter the weekly cost in pounds, like 85.50",
    }


def test_an_empty_plan_asks_for_one_item() -> None:
    plan, _, errors = plan_from_form(form([]))
    assert plan is None and "item-0-need" in errors


def _check(proposal: dict[str, Any]) -> dict[str, Any]:
    return check_counter_proposal(
        REPO_ROOT / "rules",
        "demo",
        date(2025, 6, 2),
        PLAN,
        ["nutrition", "personal_hygiene"],
        proposal,
    )


def test_a_lower_amount_that_leaves_a_need_unjustified_shows_that_need_not_covered() -> None:
    proposal, errors = proposal_from_form(
        form(
            [
                ("weekly_amount", "250"),
                ("just-nutrition-provision", "Frozen meals"),
                ("just-nutrition-weekly_cost", "60"),
                ("just-nutrition-reason", "Cheaper supplier"),
            ]
        ),
        ["nutrition", "personal_hygiene"],
    )
    assert errors == {} and proposal is not None
    check = _check(proposal)
    assert check["valid"] is False
    covered = {n["need"]: n["covered"] for n in check["needs"]}
    assert covered == {"nutrition": True, "personal_hygiene": False}
    assert "no justification" in check["needs"][1]["problems"][0]


def test_a_lower_amount_justified_need_by_need_is_valid() -> None:
    proposal, _ = proposal_from_form(
        form(
            [
                ("weekly_amount", "250"),
                ("just-nutrition-provision", "Frozen meals"),
                ("just-nutrition-weekly_cost", "60"),
                ("just-nutrition-reason", "Cheaper supplier, same meals"),
                ("just-personal_hygiene-provision", "Carer visits"),
                ("just-personal_hygiene-weekly_cost", "180"),
                ("just-personal_hygiene-reason", "Framework rate"),
            ]
        ),
        ["nutrition", "personal_hygiene"],
    )
    assert proposal is not None
    check = _check(proposal)
    assert check["valid"] is True and all(n["covered"] for n in check["needs"])


def test_a_justification_whose_costs_exceed_the_amount_is_not_valid() -> None:
    proposal, _ = proposal_from_form(
        form(
            [
                ("weekly_amount", "150"),
                ("just-nutrition-provision", "Meals"),
                ("just-nutrition-weekly_cost", "100"),
                ("just-nutrition-reason", "r"),
                ("just-personal_hygiene-provision", "Carer"),
                ("just-personal_hygiene-weekly_cost", "100"),
                ("just-personal_hygiene-reason", "r"),
            ]
        ),
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
