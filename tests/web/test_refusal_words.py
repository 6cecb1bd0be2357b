"""The workflow's own refusals (workflows/refusals.py), as the case page words them: what happened
and what to do, beside the field when there is one; no step, stage or field names (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from carebudget.web.refusal_words import plain_refusal
from workflows.models import Actor, CaseState, PersonDetails, Role, Stage, StepInput
from workflows.refusals import why_refused

CODE_WORDS = ("_", "is taken at", " may not ")


def state(stage: Stage) -> CaseState:
    person = PersonDetails(name="Ada", date_of_birth="1950-03-01", setting="home")  # type: ignore[arg-type]
    return CaseState(case_id="C-1", council="demo", person=person, person_user="demo-person",
                     opened_at=datetime(2026, 1, 1, tzinfo=UTC), stage=stage)


def refusal(stage: Stage, step: str, who: str, role: Role, payload: dict[str, Any] | None = None) -> str:
    reason = why_refused(state(stage), step, StepInput(actor=Actor(id=who, role=role), payload=payload or {}),
                         datetime(2026, 1, 2, tzinfo=UTC))
    assert reason is not None
    return reason


@pytest.mark.parametrize(("stage", "step", "who", "role", "expected"), [
    (Stage.active_budget, "request_changes", "demo-approver", Role.approver, "moved on to Active budget"),
    (Stage.assessment, "verify_assessment", "demo-person", Role.person, "Your role does not take this step"),
    (Stage.assessment, "self_assess", "someone-else", Role.person, "Only the person this case is about"),
])
def test_a_refused_step_is_said_in_words_without_the_codes_names(
    stage: Stage, step: str, who: str, role: Role, expected: str
) -> None:
    technical = refusal(stage, step, who, role)
    where, words = plain_refusal(technical, who)
    assert where == "form" and expected in words
    assert not any(code in words.replace("Active budget", "") for code in CODE_WORDS), words


def test_a_refusal_about_one_field_goes_beside_it_in_pounds_and_names_the_reader() -> None:
    where, words = plain_refusal("weekly_amount: a part-upheld appeal sets an amount above the counter-proposal "
                                 "(150.00) and below the plan (250.00); 260.00 is not", "demo-appeals-officer")
    assert where == "weekly_amount" and "(£150.00)" in words and "£260.00 is not." in words
    where, words = plain_refusal("demo-approver drafted this plan, so another approver must sign it off",
                                 "demo-approver")
    assert words == "You drafted this plan, so another approver must sign it off."
    where, words = plain_refusal("support: none is recorded for home_safety", "x")
    assert "using the home safely" in words.lower() and "home_safety" not in words
