"""The case-list row a case's state gives (no personal data beyond what opening needs): what each
step writes to the store, and what reconciliation repairs the store to after a crash."""

from __future__ import annotations

from typing import Any

from workflows.models import CaseState


def case_index(state: CaseState, opening: bool = False) -> dict[str, Any]:
    """Stage, next due date and amounts; with `opening`, the fields that open the case too."""
    budget = state.personal_budget
    amounts: dict[str, str] = {}
    indicative = state.decisions.get("indicative-budget", {}).get("indicative_budget")
    if indicative:
        amounts["indicative_low"] = str(indicative.get("weekly_low"))
        amounts["indicative_high"] = str(indicative.get("weekly_high"))
    if budget is not None:
        amounts["personal_budget"] = f"{budget.weekly_cost:.2f}"
        amounts["weekly_charge"] = f"{budget.person_charge:.2f}"
        amounts["council_share"] = f"{budget.council_share:.2f}"
    index: dict[str, Any] = {
        "stage": state.stage.value,
        "due": state.due_at.date().isoformat() if state.due_at else None,
        "amounts": amounts,
    }
    if opening:
        index.update(
            council=state.council, opened=state.opened_at.date().isoformat(),
            name=state.person.name, date_of_birth=state.person.date_of_birth.isoformat(),
        )
        if state.assigned_to:  # activity input only: older histories replay unchanged
            index["assigned_to"] = state.assigned_to
        if state.area:
            index["area"] = state.area
    return index
