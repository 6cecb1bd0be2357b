"""A case's workflow state as the pages show it: stage, dues, needs, decisions, plan, budget.

The workflow owns the state (carebudget.service.cases.describe); this module only reads it, with
the names the workflow uses, so the templates stay simple.
"""

from __future__ import annotations

from typing import Any

from carebudget.web.case_forms import OUTCOME_LABELS


def _get(state: dict[str, Any], *paths: str) -> Any:
    for path in paths:
        value: Any = state
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                break
        if value is not None:
            return value
    return None


def decision(state: dict[str, Any], *kinds: str) -> dict[str, Any] | None:
    """The latest decision record of one of `kinds` the workflow kept."""
    records = state.get("decisions")
    if isinstance(records, dict):
        for kind in kinds:
            for key in (kind, kind.replace("-", "_")):
                if isinstance(records.get(key), dict):
                    return dict(records[key])
    if isinstance(records, list):
        for record in reversed(records):
            record = record.get("record", record) if isinstance(record, dict) else None
            if record and record.get("kind") in kinds:
                return dict(record)
    return None


def needs_rows(needs: dict[str, Any] | None) -> list[dict[str, Any]]:
    outcomes = (needs or {}).get("outcomes") or {}
    return [
        {"need": o, "label": OUTCOME_LABELS.get(o, o), "ways": ways} for o, ways in outcomes.items()
    ]


def predicted_outcomes(state: dict[str, Any]) -> list[str]:
    """Needs over the next 12 months a counter-proposal must cover (verified, else self-assessed)."""
    listed = _get(state, "predicted_needs_list")
    if isinstance(listed, list):
        return [str(o) for o in listed]
    predicted = _get(
        state, "assessment.predicted_needs", "predicted_needs", "self_assessment.predicted_needs"
    )
    current = _get(state, "assessment.needs", "needs", "self_assessment.needs")
    out: list[str] = []
    for source in (current, predicted):
        for outcome in (source or {}).get("outcomes") or {}:
            if outcome not in out:
                out.append(outcome)
    return out


def eligibility_headline(record: dict[str, Any] | None) -> str:
    """The eligibility decision in plain words, addressed to the person (s13(2) written record)."""
    if not record:
        return ""
    if record.get("eligible"):
        return "Your needs meet the national eligibility criteria, so the council will meet them."
    if record.get("needs_met"):
        return (
            "Your needs do not meet the national eligibility criteria today, but they are expected to "
            "within the next 12 months. Under its prevention policy the council will meet them now, "
            "to prevent or delay them getting worse (Care Act 2014 sections 19(1) and 2)."
        )
    return (
        "Your needs do not meet the national eligibility criteria, so the council will not arrange "
        "care for them now. Below is advice and information about what can help."
    )


def _actor_role(event: dict[str, Any], actor: Any, person_user: Any) -> str | None:
    """Intake is recorded under the service's role; a person opening their own case is the person."""
    if not isinstance(actor, dict):
        return None
    if event.get("action") == "case.opened":
        # Intake runs under the service's role, not the opener's: only the person's own is known.
        return "person" if person_user and actor.get("id") == person_user else None
    return actor.get("role")


def view(state: dict[str, Any]) -> dict[str, Any]:
    eligibility = decision(state, "eligibility", "assessment")
    budget = decision(state, "indicative-budget", "assessment")
    charge = decision(state, "charge", "assessment")
    counter = decision(state, "counter-proposal")
    timeline = []
    for event in _get(state, "timeline") or []:
        actor = event.get("actor") or {}
        timeline.append(
            {
                **event,
                "actor_id": actor.get("id") if isinstance(actor, dict) else actor,
                "actor_role": _actor_role(event, actor, _get(state, "person_user")),
            }
        )
    return {
        "case_id": _get(state, "case_id", "id"),
        "council": _get(state, "council", "council_code"),
        "stage": _get(state, "stage"),
        "due": _get(state, "due_at", "due"),
        "due_for": _get(state, "due_for") or "",
        "overdue": bool(_get(state, "overdue")),
        "needs_attention": str(_get(state, "needs_attention") or ""),
        "person": _get(state, "person") or {},
        "area": _get(state, "area"),
        "self_needs": needs_rows(_get(state, "self_assessment.needs")),
        "self_predicted": needs_rows(_get(state, "self_assessment.predicted_needs")),
        "needs": needs_rows(_get(state, "assessment.needs")),
        "predicted": needs_rows(_get(state, "assessment.predicted_needs")),
        "eligibility": (eligibility or {}).get("eligibility"),
        "eligibility_reasons": (eligibility or {}).get("explanation", []),
        "eligibility_headline": eligibility_headline((eligibility or {}).get("eligibility")),
        "advice": _get(state, "advice") or [],
        "indicative_budget": (budget or {}).get("indicative_budget"),
        "budget_reasons": (budget or {}).get("explanation", []),
        "charge": (charge or {}).get("charge"),
        "charge_reasons": (charge or {}).get("explanation", []),
        "plan": _get(state, "plan"),
        "unmet_needs": _get(state, "plan.unmet_needs") or [],
        "change_requests": _get(state, "change_requests") or [],
        "sign_off": _get(state, "sign_off"),
        "counter_proposal": _get(state, "counter_proposal"),
        "counter_record": (counter or {}).get("counter_proposal"),
        "appeal": _get(state, "appeal"),
        "statement": _get(state, "personal_budget"),
        "reviews": _get(state, "reviews") or [],
        "timeline": timeline,
        "predicted_outcomes": predicted_outcomes(state),
        "support": _get(state, "assessment.support") or [],
    }
