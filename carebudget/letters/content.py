"""What each letter says, taken from the case's decision records and steps (no I/O).

Every amount a letter shows is copied from a decision record (eligibility, charge, indicative
budget, counter-proposal) or from the step that set it (the s26 statement, an appeal decision,
a review), never worked out again here: tests/letters check each figure against those records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# kind -> the letter's title, in the second person
KINDS: dict[str, str] = {
    "eligibility": "Your eligibility decision",
    "financial_assessment": "Your financial assessment",
    "indicative_budget": "Your indicative budget",
    "counter_proposal": "The council offers a different amount for your care",
    "appeal_decision": "The decision on your appeal",
    "budget_statement": "Your personal budget statement",
    "review_outcome": "The outcome of your review",
}

# SI 2015/313 reg 2(2), in the words a person would use about themselves
OUTCOMES: dict[str, str] = {
    "nutrition": "eating and drinking well",
    "personal_hygiene": "keeping clean",
    "toilet_needs": "using the toilet",
    "being_clothed": "getting dressed",
    "home_safety": "moving around your home safely",
    "habitable_home": "keeping your home clean and safe to live in",
    "relationships": "keeping in touch with family and friends",
    "work_training_education_volunteering": "work, training, education or volunteering",
    "community_facilities": "getting out and using local services, including public transport",
    "caring_for_child": "caring for a child",
}
APPEAL_OUTCOMES = {
    "uphold": "Your appeal is upheld: the amount in your plan stands.",
    "part_uphold": "Your appeal is partly upheld: the council has set a new amount.",
    "dismiss": "Your appeal is not upheld: the council's lower amount stands.",
}


@dataclass
class LetterContent:
    """Everything a template may show. `figures` names each amount by where it comes from."""

    kind: str
    title: str
    case_id: str
    council: str
    person_name: str
    on: date
    bundle: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_context(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "case_id": self.case_id,
                "council": self.council, "person_name": self.person_name, "on": self.on,
                "bundle": self.bundle, "outcome_label": outcome_label, **self.data}


class LetterUnavailable(ValueError):
    """The case does not hold what this letter needs (a letter asked for at the wrong step)."""


def outcome_label(outcome: str) -> str:
    return OUTCOMES.get(outcome, outcome.replace("_", " "))


def letter_content(kind: str, case: dict[str, Any], on: date) -> LetterContent:
    """The letter of `kind` for `case` (CaseState as JSON), issued on `on`."""
    if kind not in KINDS:
        raise LetterUnavailable(f"unknown letter {kind!r}; one of {', '.join(KINDS)}")
    build = _BUILDERS[kind]
    data, bundle = build(case)
    return LetterContent(
        kind=kind, title=KINDS[kind], case_id=str(case["case_id"]), council=str(case["council"]),
        person_name=str((case.get("person") or {}).get("name") or ""), on=on, bundle=bundle,
        data=data,
    )


def _record(case: dict[str, Any], kind: str) -> dict[str, Any]:
    record = (case.get("decisions") or {}).get(kind)
    if not isinstance(record, dict):
        raise LetterUnavailable(f"the case has no {kind} decision yet")
    return record


def _bundle(record: dict[str, Any]) -> str:
    return str((record.get("rules") or {}).get("bundle") or "")


def _eligibility(case: dict[str, Any]) -> tuple[dict[str, Any], str]:
    record = _record(case, "eligibility")
    result = record["eligibility"]
    needs_met = bool(result.get("needs_met", result.get("eligible")))
    return {
        "eligible": bool(result.get("eligible")),
        "needs_met": needs_met,
        "basis": result.get("basis", "current"),
        "unable": list(result.get("unable_outcomes") or []),
        "predicted": list(result.get("predicted_unable_outcomes") or []),
        "reasons": list(record.get("explanation") or []),
        "advice": list(case.get("advice") or []),
        "decided_on": record.get("date"),
    }, _bundle(record)


def _financial_assessment(case: dict[str, Any]) -> tuple[dict[str, Any], str]:
    record = _record(case, "charge")
    charge = record["charge"]
    return {
        "charge": charge,
        "reasons": list(record.get("explanation") or []),
        "decided_on": record.get("date"),
    }, _bundle(record)


def _indicative_budget(case: dict[str, Any]) -> tuple[dict[str, Any], str]:
    record = _record(case, "indicative-budget")
    fired = {str(r.get("id")) for r in record.get("fired_rules") or []}
    support = ((case.get("assessment") or {}).get("support")) or []
    needs = [{
        "outcome": n["outcome"],
        "when": n.get("when", "current"),
        "scored": f"ras.outcome.{n['outcome']}" in fired or f"ras.predicted.{n['outcome']}" in fired,
        "support": n.get("support") or [],
    } for n in support]
    return {
        "budget": record["indicative_budget"],
        "needs": needs,
        "reasons": [s for s in record.get("explanation") or [] if "resource allocation" in s],
        "decided_on": record.get("date"),
    }, _bundle(record)


def _counter_proposal(case: dict[str, Any]) -> tuple[dict[str, Any], str]:
    record = _record(case, "counter-proposal")
    state = case.get("counter_proposal")
    if not state:
        raise LetterUnavailable("the case has no counter-proposal")
    result = record["counter_proposal"]
    proposal = (record.get("input") or {}).get("proposal") or state["proposal"]
    policy = case.get("policy") or {}
    appeal_by = _day(state["appeal_by"])
    return {
        "result": result,
        "justifications": proposal.get("justifications") or [],
        "note": (case.get("sign_off") or {}).get("reasons", ""),
        "reasons": list(record.get("explanation") or []),
        "appeal_by": appeal_by,
        "appeal_window_days": policy.get("appeal_window_days"),
        "decided_on": record.get("date"),
    }, _bundle(record)


def _appeal_decision(case: dict[str, Any]) -> tuple[dict[str, Any], str]:
    appeal = case.get("appeal") or {}
    if not appeal.get("outcome"):
        raise LetterUnavailable("the appeal has not been decided")
    record = _record(case, "counter-proposal")
    return {
        "appeal": appeal,
        "headline": APPEAL_OUTCOMES[appeal["outcome"]],
        "plan_weekly_total": record["counter_proposal"]["plan_weekly_total"],
        "proposed_weekly_amount": record["counter_proposal"]["proposed_weekly_amount"],
    }, _bundle(record)


def _budget_statement(case: dict[str, Any]) -> tuple[dict[str, Any], str]:
    statement = case.get("personal_budget")
    if not statement:
        raise LetterUnavailable("the case has no personal budget yet")
    record = _record(case, "charge")
    return {
        "statement": statement,
        "charge": record["charge"],
        "light_touch_due": case.get("light_touch_due"),
        "full_review_due": case.get("full_review_due"),
        "reasons": [s for s in record.get("explanation") or [] if "charge" in s],
    }, _bundle(record)


def _review_outcome(case: dict[str, Any]) -> tuple[dict[str, Any], str]:
    reviews = case.get("reviews") or []
    if not reviews or not reviews[-1].get("completed"):
        raise LetterUnavailable("no review has been completed")
    statement = case.get("personal_budget") or {}
    return {
        "review": reviews[-1],
        "banked_total": case.get("banked_underspend", "0.00"),
        "statement": statement,
        "revise_plan": reviews[-1].get("outcome") == "revise_plan",
        "full_review_due": case.get("full_review_due"),
    }, str(statement.get("charge_decision") or "")


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()


_BUILDERS = {
    "eligibility": _eligibility,
    "financial_assessment": _financial_assessment,
    "indicative_budget": _indicative_budget,
    "counter_proposal": _counter_proposal,
    "appeal_decision": _appeal_decision,
    "budget_statement": _budget_statement,
    "review_outcome": _review_outcome,
}
