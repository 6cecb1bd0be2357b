"""Care Act 2014 s13, s14, s17, s26: each decision of a case, computed through the rules.

The workflow never decides anything itself: it calls these activities, which call the decision
core (carebudget.decisions.decide) and return its record, which the workflow then keeps.
"""

from __future__ import annotations

import logging
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.models import DecisionRequest

log = logging.getLogger(__name__)
RULE_BUNDLE_ERROR = "RuleBundleError"


@activity.defn
def decide(request: DecisionRequest) -> dict[str, Any]:
    """One decision record; invalid facts are a non-retryable `DecisionError` naming the field.

    Any other failure comes from the rules in force (the engine refusing an evaluation, a broken
    table, a stage beyond the engine's limits): the same rules fail the same way on a retry, so
    it is a non-retryable `RuleBundleError` with the reason, and the case waits for a person.
    """
    from carebudget.decisions import DecisionError
    from carebudget.decisions import decide as decide_core

    try:
        return decide_core(request.kind, request.council, request.on, request.payload)
    except DecisionError as exc:
        detail = exc.to_json()
        raise ApplicationError(
            str(detail.get("error") or exc), detail, type="DecisionError", non_retryable=True
        ) from None
    except Exception as exc:  # whatever the rules raised, a retry meets it again
        log.exception("the %s decision failed under the rules in force", request.kind)
        reason = (
            f"the rules in force for council {request.council} on {request.on} could not make "
            f"the {request.kind} decision ({type(exc).__name__}: {exc}); a policy officer must "
            "correct the rules, then the step can be taken again"
        )
        raise ApplicationError(reason, type=RULE_BUNDLE_ERROR, non_retryable=True) from None
