"""Care Act 2014 s13, s14, s17, s26: each decision of a case, computed through the rules.

The workflow never decides anything itself: it calls these activities, which call the decision
core (carebudget.decisions.decide) and return its record, which the workflow then keeps.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.models import DecisionRequest


@activity.defn
def decide(request: DecisionRequest) -> dict[str, Any]:
    """One decision record; invalid facts are a non-retryable `DecisionError` naming the field."""
    from carebudget.decisions import DecisionError
    from carebudget.decisions import decide as decide_core

    try:
        return decide_core(request.kind, request.council, request.on, request.payload)
    except DecisionError as exc:
        detail = exc.to_json()
        raise ApplicationError(
            str(detail.get("error") or exc), detail, type="DecisionError", non_retryable=True
        ) from None
