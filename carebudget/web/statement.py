"""What the s26 statement adds beside the budget (issue 15): banked savings and their uses, what is
pooled with a community pool and what stays under the person's own control need by need, and
reablement with its cost to the council (free to the person, SI 2014/2672 reg 3)."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from carebudget.web.case_forms import OUTCOME_LABELS

log = logging.getLogger(__name__)

PURPOSE_LABELS: dict[str, str] = {
    "emergency": "An emergency",
    "home_adaptation": "A home adaptation",
    "equipment": "Equipment",
    "micro_enterprise": "Starting a micro-enterprise",
}
SERVICE_LABELS: dict[str, str] = {"reablement": "Reablement", "intermediate_care": "Intermediate care"}


def _pounds(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def trust(state: dict[str, Any], rules: Any, today: date) -> dict[str, Any]:
    """The statement's issue-15 parts, from the case's workflow state (read only)."""
    budget = state.get("personal_budget") or {}
    commitments = state.get("pool_commitments") or []
    current = [c for c in commitments if not c.get("left")]
    committed = sum((_pounds(c.get("weekly_share")) for c in current), Decimal(0))
    weekly = _pounds(budget.get("weekly_cost"))
    needs = _needs_kept(state, rules, today) if budget and current else []
    needs_total = sum((_pounds(n["floor"]) for n in needs), Decimal(0))
    return {
        "banked": f"{_pounds(state.get('banked_underspend')):.2f}",
        "savings_uses": [
            {**use, "purpose_label": PURPOSE_LABELS.get(use["request"]["purpose"], use["request"]["purpose"])}
            for use in state.get("savings_uses") or []
        ],
        "pools": commitments,
        "committed": f"{committed:.2f}",
        "own_control": f"{weekly - committed:.2f}" if budget else None,
        "needs": needs,
        "needs_total": f"{needs_total:.2f}",
        "covered": weekly - committed >= needs_total,
        "reablement": [
            {**r, "service_label": SERVICE_LABELS.get(r["episode"]["service"], r["episode"]["service"])}
            for r in state.get("reablement") or []
        ],
        "reablement_cost": f"{sum((_pounds(r.get('cost')) for r in state.get('reablement') or []), Decimal(0)):.2f}",
    }


def _needs_kept(state: dict[str, Any], rules: Any, today: date) -> list[dict[str, str]]:
    """Need by need, the least the person's own budget keeps for it at the council's rates."""
    from pydantic import ValidationError

    from carebudget.decisions.inputs import AssessedNeed
    from carebudget.decisions.pools import floor_by_need
    from carebudget.decisions.sufficiency import UnknownProvision
    from carebudget.rulebook import UnknownCouncil

    support = (state.get("assessment") or {}).get("support") or []
    try:
        needs = [AssessedNeed.model_validate(n) for n in support]
        floors = floor_by_need(rules.bundle(state.get("council") or "demo", today), needs)
    except (ValidationError, UnknownProvision, UnknownCouncil) as exc:  # shown as not priced, never a 500
        log.info("needs not priced for the statement: %s", exc)
        return []
    return [{"need": OUTCOME_LABELS.get(o, o), "floor": f"{cost:.2f}"} for o, cost in floors]
