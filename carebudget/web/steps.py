"""The human steps of a case as forms: who takes each, at which stage, and the payload it sends.

Step names are the workflow's update names (workflows/models.py); the form for each turns what a
person typed into that step's payload, with a message beside each field that is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from carebudget.web import case_forms
from carebudget.web.auth import CurrentUser

Parser = Callable[[Any, dict[str, Any], CurrentUser], tuple[dict[str, Any], dict[str, str]]]


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    roles: tuple[str, ...]
    stages: tuple[str, ...]
    parse: Parser
    done_message: str
    workflow_step: str = ""
    payload_from_check: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


def _money(
    form: Any, name: str, errors: dict[str, str], label: str, required: bool = True
) -> str | None:
    raw = _text(form, name).replace("£", "").replace(",", "")
    if not raw:
        if required:
            errors[name] = f"Enter {label} in pounds, like 120.00"
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors[name] = f"Enter {label} as a number of pounds, like 120.00"
        return None
    if not value.is_finite() or value < 0:
        errors[name] = f"Enter {label} as zero or more pounds"
        return None
    return f"{value:.2f}"


def parse_start(
    form: Any, state: dict[str, Any], user: CurrentUser
) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    council = _text(form, "council")
    if not council:
        errors["council"] = "Enter the council, for example demo"
    name = _text(form, "name")
    if not name:
        errors["name"] = "Enter the person's full name"
    born = None
    try:
        born = date.fromisoformat(_text(form, "date_of_birth"))
        if born >= date.today():
            errors["date_of_birth"] = "The date of birth must be in the past"
        elif born.year < date.today().year - 120:  # no one living was born then
            errors["date_of_birth"] = "Check the year of birth: it is more than 120 years ago"
    except ValueError:
        errors["date_of_birth"] = "Enter the date of birth as a real date, like 1950-03-01"
    setting = _text(form, "setting")
    if setting not in ("home", "care_home"):
        errors["setting"] = "Choose where the person lives"
    admitted = None
    if setting == "care_home":
        # SI 2014/2672 Sch 2 para 2: the 12-week property disregard counts from this day.
        try:
            admitted = date.fromisoformat(_text(form, "care_home_admission_date"))
            if admitted > date.today():
                errors["care_home_admission_date"] = "The date of moving into the care home cannot be in the future"
        except ValueError:
            errors["care_home_admission_date"] = (
                "Enter the date the person moved into the care home permanently, like 2026-03-01: "
                "the charge depends on it")
    answers = _charge_answers(form, errors)
    person_user = user.username if user.role == "person" else _text(form, "person_user") or None
    payload = {
        "council": council,
        "person": {
            "name": name,
            "date_of_birth": born.isoformat() if born else None,
            "setting": setting,
            **({"care_home_admission_date": admitted.isoformat()} if admitted else {}),
            **answers,
        },
        "person_user": person_user,
    }
    if area := _text(form, "area"):
        payload["area"] = area
    if user.role != "person":
        payload["assigned_to"] = _text(form, "assigned_to") or user.username
    return payload, errors


def _yes_no(form: Any, name: str) -> bool | None:
    return {"yes": True, "no": False}.get(_text(form, name))


def _charge_answers(form: Any, errors: dict[str, str]) -> dict[str, bool]:
    """What changes the charge is asked, never assumed (Care Act 2014 s18(4) condition 3; s18(3))."""
    capacity = _yes_no(form, "has_capacity")
    authorised = _yes_no(form, "has_authorised_person")
    arrange = _yes_no(form, "asks_council_to_arrange")
    if capacity is None:
        errors["has_capacity"] = "Say whether decisions about care and money can be made now"
    if capacity is False and authorised is None:
        errors["has_authorised_person"] = "Say whether someone may act for them, such as an attorney or a deputy"
    if arrange is None:
        errors["asks_council_to_arrange"] = "Say who should arrange the care"
    answers = {"has_capacity": capacity, "has_authorised_person": bool(authorised) if capacity is False else False,
               "asks_council_to_arrange": arrange}
    return {k: v for k, v in answers.items() if v is not None}


def parse_self_assessment(
    form: Any, state: dict[str, Any], user: CurrentUser
) -> tuple[dict[str, Any], dict[str, str]]:
    needs, errors = case_forms.needs_from_form(form, "now")
    predicted, more = case_forms.needs_from_form(form, "soon", optional=True)
    return {"needs": needs, "predicted_needs": predicted}, {**errors, **more}


def parse_verification(
    form: Any, state: dict[str, Any], user: CurrentUser
) -> tuple[dict[str, Any], dict[str, str]]:
    payload, errors = parse_self_assessment(form, state, user)
    finances = {
        "capital": _money(form, "capital", errors, "savings and capital"),
        "weekly_income": _money(form, "weekly_income", errors, "weekly income"),
        "housing_costs": _money(form, "housing_costs", errors, "housing costs", required=False)
        or "0.00",
        "disability_related_expenditure": _money(
            form,
            "disability_related_expenditure",
            errors,
            "disability-related costs",
            required=False,
        )
        or "0.00",
    }
    care = {"weekly_cost": _money(form, "care_weekly_cost", errors, "the weekly cost of care")}
    needs = {o: "current" for o in ((payload.get("needs") or {}).get("outcomes") or {})}
    for o in (payload.get("predicted_needs") or {}).get("outcomes") or {}:
        needs.setdefault(o, "predicted")
    support, more = case_forms.support_from_form(form, needs)
    payload.update(finances=finances, care=care, notes=_text(form, "notes"), support=support)
    return payload, {**errors, **more}


def parse_plan(
    form: Any, state: dict[str, Any], user: CurrentUser
) -> tuple[dict[str, Any], dict[str, str]]:
    plan, unmet, errors = case_forms.plan_from_form(form)
    return {"plan": plan, "unmet_needs": unmet}, errors


def parse_nothing(
    form: Any, state: dict[str, Any], user: CurrentUser
) -> tuple[dict[str, Any], dict[str, str]]:
    return {"note": _text(form, "note")}, {}


def _reasons(field: str, message: str) -> Parser:
    def parse(
        form: Any, state: dict[str, Any], user: CurrentUser
    ) -> tuple[dict[str, Any], dict[str, str]]:
        text = _text(form, field)
        return {field: text}, ({} if text else {field: message})

    return parse


def parse_appeal_decision(
    form: Any, state: dict[str, Any], user: CurrentUser
) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    outcome = _text(form, "outcome")
    if outcome not in ("uphold", "part_uphold", "dismiss"):
        errors["outcome"] = "Choose uphold, part-uphold or dismiss"
    amount = _money(
        form, "weekly_amount", errors, "the new weekly amount", required=outcome == "part_uphold"
    )
    reasons = _text(form, "reasons")
    if not reasons:
        errors["reasons"] = "Give the reasons for the decision: the person is told them in writing"
    payload: dict[str, Any] = {"outcome": outcome, "reasons": reasons}
    if outcome == "part_uphold":
        payload["weekly_amount"] = amount
    return payload, errors


def parse_review(
    form: Any, state: dict[str, Any], user: CurrentUser
) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    outcome = _text(form, "outcome") or "no_change"
    if outcome not in ("no_change", "revise_plan"):
        errors["outcome"] = "Choose whether the plan stays or is revised"
    underspend = _money(form, "underspend", errors, "the underspend", required=False) or "0.00"
    payload: dict[str, Any] = {"outcome": outcome, "underspend": underspend, "notes": _text(form, "notes")}
    met = _text(form, "outcomes_met")
    if met not in ("", "yes", "no"):
        errors["outcomes_met"] = "Choose whether the person's outcomes were met"
    elif met:  # issue 15: a saver's lighter review is earned only with outcomes met
        payload["outcomes_met"] = met == "yes"
    return payload, errors


SAVINGS_PURPOSES = ("emergency", "home_adaptation", "equipment", "micro_enterprise")


def parse_use_savings(
    form: Any, state: dict[str, Any], user: CurrentUser
) -> tuple[dict[str, Any], dict[str, str]]:
    """Issue 15: a request to spend banked savings, decided under the council's policy."""
    errors: dict[str, str] = {}
    purpose = _text(form, "purpose")
    if purpose not in SAVINGS_PURPOSES:
        errors["purpose"] = "Choose what the savings are for"
    amount = _money(form, "amount", errors, "the amount")
    if amount is not None and Decimal(amount) <= 0:
        errors["amount"] = "Enter an amount above £0.00"
    elif amount is not None and Decimal(amount) > Decimal(str(state.get("banked_underspend") or 0)):
        errors["amount"] = (f"Enter at most £{Decimal(str(state.get('banked_underspend') or 0)):.2f}, "
                            "the savings banked")
    description = _text(form, "description")
    if not description:
        errors["description"] = "Say what the money is for, for example grab rails in the bathroom"
    elif len(description) > 2000:
        errors["description"] = "Keep the description to 2,000 characters"
    return {"purpose": purpose, "amount": amount, "description": description}, errors


def parse_reablement(
    form: Any, state: dict[str, Any], user: CurrentUser
) -> tuple[dict[str, Any], dict[str, str]]:
    """SI 2014/2672 reg 3: an episode of reablement or intermediate care and its weekly cost."""
    errors: dict[str, str] = {}
    service = _text(form, "service") or "reablement"
    if service not in ("reablement", "intermediate_care"):
        errors["service"] = "Choose reablement or intermediate care"
    started = None
    try:
        started = date.fromisoformat(_text(form, "started"))
    except ValueError:
        errors["started"] = "Enter the date it started as a real date, like 2026-03-01"
    weeks = _text(form, "weeks")
    if not weeks.isdigit() or not 1 <= int(weeks) <= 52:
        errors["weeks"] = "Enter the number of weeks as a whole number from 1 to 52"
    cost = _money(form, "weekly_cost", errors, "the weekly cost to the council")
    if cost is not None and Decimal(cost) <= 0:
        errors["weekly_cost"] = "Enter the weekly cost to the council, above £0.00"
    provider = _text(form, "provider")
    if len(provider) > 200:
        errors["provider"] = "Keep the provider's name to 200 characters"
    return {"service": service, "started": started.isoformat() if started else None,
            "weeks": int(weeks) if weeks.isdigit() else None, "weekly_cost": cost,
            "provider": provider}, errors


def counter_payload(check: dict[str, Any]) -> dict[str, Any]:
    return {"proposal": check["proposal"], "note": check.get("note", "")}


STEPS: dict[str, Step] = {
    s.name: s
    for s in [
        Step(
            "start",
            "Start a case",
            ("social_worker", "person"),
            (),
            parse_start,
            "The case is open.",
        ),
        Step(
            "self_assess",
            "Your needs, now and in the next 12 months",
            ("person",),
            ("assessment",),
            parse_self_assessment,
            "Thank you. Your social worker will check your answers with you.",
        ),
        Step(
            "verify_assessment",
            "Verify the assessment",
            ("social_worker",),
            ("assessment",),
            parse_verification,
            "The assessment is verified; the eligibility, charge and indicative budget are worked out.",
        ),
        Step(
            "submit_plan",
            "Care and support plan",
            ("social_worker", "person"),
            ("support_planning",),
            parse_plan,
            "The plan is sent for sign-off.",
        ),
        Step(
            "approve",
            "Approve the plan",
            ("approver",),
            ("sign_off",),
            parse_nothing,
            "The plan is approved and the personal budget is active.",
        ),
        Step(
            "request_changes",
            "Ask for changes",
            ("approver",),
            ("sign_off",),
            _reasons("reasons", "Say what needs to change and why"),
            "The plan is sent back with your reasons.",
        ),
        Step(
            "counter_propose",
            "Counter-propose a lower amount",
            ("approver",),
            ("sign_off",),
            parse_nothing,
            "The counter-proposal is sent to the person with its justification.",
            payload_from_check=counter_payload,
        ),
        Step(
            "accept_counter_proposal",
            "Accept the lower amount",
            ("person",),
            ("counter_proposal",),
            parse_nothing,
            "You accepted the amount. Your personal budget is active.",
        ),
        Step(
            "appeal",
            "Appeal",
            ("person",),
            ("counter_proposal",),
            _reasons("reasons", "Say why you think the amount does not meet your needs"),
            "Your appeal is sent. An officer who was not involved will decide it.",
        ),
        Step(
            "decide_appeal",
            "Decide the appeal",
            ("appeals_officer",),
            ("appeal",),
            parse_appeal_decision,
            "The appeal is decided and the person is told the reasons.",
        ),
        Step(
            "request_review",
            "Ask for a review",
            ("person", "social_worker"),
            ("active_budget", "review"),
            _reasons("reasons", "Say what has changed"),
            "A review has been requested.",
        ),
        Step(
            "complete_review",
            "Complete the review",
            ("social_worker",),
            ("review",),
            parse_review,
            "The review is recorded.",
        ),
        Step(
            "use_savings",
            "Use banked savings",
            ("person", "social_worker"),
            ("active_budget",),
            parse_use_savings,
            "The council has decided the request: the decision and its reasons are under Banked savings.",
        ),
        Step(
            "record_reablement",
            "Record reablement or intermediate care",
            ("social_worker",),
            (),
            parse_reablement,
            "The reablement is recorded with its cost to the council; it is free to the person.",
        ),
    ]
}
for _step in STEPS.values():
    object.__setattr__(_step, "workflow_step", _step.workflow_step or _step.name)


def _follow_the_workflow() -> None:
    """Roles and stages come from the workflow's own tables when it is installed (one truth)."""
    try:
        from workflows.models import STEP_ROLES, STEP_STAGES
    except ImportError:
        return
    for name, step in STEPS.items():
        if name in STEP_ROLES:
            object.__setattr__(step, "roles", tuple(r.value for r in STEP_ROLES[name]))
            object.__setattr__(step, "stages", tuple(s.value for s in STEP_STAGES[name]))


_follow_the_workflow()


def steps_for(stage: str | None, role: str) -> list[Step]:
    return [s for s in STEPS.values() if stage in s.stages and role in s.roles]
