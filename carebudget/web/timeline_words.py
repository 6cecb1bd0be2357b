"""A case's ledger rows as a timeline a reader follows: one line per thing that happened, each
decision named by its kind, the appeal outcome said, allocation shown. The ledger keeps every row
(compliance sees them all on the trail); this only decides how operations read them."""

from __future__ import annotations

from typing import Any

DECISIONS = {
    "eligibility": "eligibility decision (s13)",
    "charge": "financial assessment: the charge (s14, s17)",
    "indicative-budget": "indicative budget",
    "assessment": "assessment decisions",
    "counter-proposal": "counter-proposal check (s26)",
    "carer-eligibility": "carer's eligibility decision (s20)",
}
APPEAL = {"uphold": "appeal upheld", "part_uphold": "appeal partly upheld", "dismiss": "appeal dismissed"}


def entry_words(e: Any, opened_by_step: bool = True) -> tuple[str, str] | None:
    """(what happened, detail) for one ledger row; None for a row that repeats the next one."""
    action, payload = e.action, e.payload or {}
    changes = payload.get("case")
    if isinstance(changes, dict):
        if "assigned_to" in changes and action == "case.updated":
            return "allocated", f"to {changes['assigned_to'] or 'no one'}"
        if action == "case.opened" and not opened_by_step:  # a case put on the list directly
            return "case opened", ""
        # The case-list row written with each step: the step's own row follows it.
        return None
    if action == "decision.recorded":
        kind = str(payload.get("kind", ""))
        return "decision recorded", DECISIONS.get(kind, kind.replace("-", " "))
    if action == "budget.active" and payload.get("appeal_outcome"):
        outcome = APPEAL.get(str(payload["appeal_outcome"]), "appeal decided")
        return f"{outcome}; personal budget active", str(payload.get("appeal_reasons") or "")
    if action == "letter.issued":
        from carebudget.letters.content import KINDS

        return "letter sent", KINDS.get(str(payload.get("kind")), str(payload.get("kind", "")))
    words = action.replace(".", " ").replace("_", " ")
    detail = ""
    if payload.get("step"):
        detail = f"step {str(payload['step']).replace('_', ' ')}"
    if payload.get("reason"):
        detail = f"{detail}: {payload['reason']}" if detail else str(payload["reason"])
    return words, detail


def trail_lines(trail: list[Any]) -> list[dict[str, Any]]:
    lines = []
    by_step = any(e.action == "case.opened" and "case" not in (e.payload or {}) for e in trail)
    for e in trail:
        words = entry_words(e, by_step)
        if words is not None:
            lines.append({"at": e.at, "actor": e.actor, "role": _role(e), "what": words[0], "detail": words[1]})
    return lines


def _role(e: Any) -> str:
    """Intake is recorded under the service's role; a person who asked for their own assessment
    opened the case as the person."""
    if e.action == "case.opened" and e.actor == (e.payload or {}).get("person_user"):
        return "person"
    return str(e.role)
