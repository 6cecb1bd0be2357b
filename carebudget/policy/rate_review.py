"""CSSG 11.24-11.25: a change to the council's rate card reaches the budgets already in force.

When a policy change alters the rate card, every active budget's assessed support is costed at
the new rates; a budget below the lowest sufficient amount is listed so the council can review it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from carebudget.policy.whatif import run_rate_card_whatif
from carebudget.rulebook.library import Library
from carebudget.rulebook.rate_card import RATE_CARD

LIMIT = 5000


def active_budgets(store: Any, council: str, limit: int = LIMIT) -> list[dict[str, Any]]:
    """Each active budget's weekly amount and the assessed support recorded at verification."""
    budgets: list[dict[str, Any]] = []
    number = 1
    while store is not None and len(budgets) < limit:
        rows, total = store.list_cases({"council": council, "stage": "active_budget"},
                                       {"number": number, "size": 500}, role="compliance")
        for row in rows:
            needs, amount = None, None
            for entry in store.case_trail(row.case_id, role="compliance"):
                if entry.action in ("assessment.verified", "review.assessment_changed"):
                    needs = entry.payload.get("support") or needs
                if entry.action == "budget.active":
                    amount = entry.payload.get("weekly_cost")
            if needs and amount is not None:
                budgets.append({"id": row.case_id, "weekly_amount": amount, "needs": needs})
        if number * 500 >= total or not rows:
            break
        number += 1
    return budgets[:limit]


def rate_card_changed(current: Library, candidate: Library, council: str, on: date) -> bool:
    before = current.bundle(council, on).parameters.get(RATE_CARD)
    after = candidate.bundle(council, on).parameters.get(RATE_CARD)
    return (before.value if before else None) != (after.value if after else None)


def below_sufficiency(current: Library, candidate: Library, council: str, budgets: list[dict[str, Any]],
                      on: date) -> dict[str, Any]:
    """The budgets that would no longer be sufficient at the candidate's rates."""
    results = run_rate_card_whatif(current, candidate, council, budgets, on)
    below = [r for r in results if r.below_sufficiency]
    return {
        "budgets": len(results),
        "below": len(below),
        "cases": [
            {"case": r.case_id, "weekly_amount": f"{r.weekly_amount:.2f}",
             "floor_before": f"{r.floor_before:.2f}", "floor_after": f"{r.floor_after:.2f}"}
            for r in below
        ],
        "errors": [{"case": r.case_id, "error": r.error} for r in results if r.error][:5],
    }
