"""Care Act 2014 s13, s14, s17, s26: each decision of a case, computed through the rules.

The workflow never decides anything itself: it calls these activities, which call the decision
core under the bundle in force (the shipped rules with the council's published versions, from
the worker's registry) and return its record, which the workflow then keeps.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError

from workflows.models import DecisionBatch, DecisionRecords, DecisionRequest, needs_met

if TYPE_CHECKING:
    from carebudget.rulebook import Registry

log = logging.getLogger(__name__)
RULE_BUNDLE_ERROR = "RuleBundleError"


class Decisions:
    """The decision activity, deciding under one registry's rules (the worker's)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    @activity.defn(name="decide")
    def decide(self, request: DecisionRequest) -> dict[str, Any]:
        return decide_under(self.registry, request)

    @activity.defn(name="decide_in_turn")
    def decide_in_turn(self, batch: DecisionBatch) -> DecisionRecords:
        """A step's decisions in one local activity (a verification: eligibility, then charge
        and indicative budget when the needs will be met): one round instead of two. A decision
        that fails fails the batch, as it failed the step when each was an activity of its own."""
        records: list[dict[str, Any]] = []
        for request in batch.requests:
            record = decide_under(self.registry, request)
            records.append(record)
            if (batch.stop_unless_needs_met and request.kind == "eligibility"
                    and not needs_met(record["eligibility"])):
                break
        return DecisionRecords(records=records)


def decide_under(registry: Registry, request: DecisionRequest) -> dict[str, Any]:
    """One decision record; invalid facts are a non-retryable `DecisionError` naming the field.

    Any other failure comes from the rules in force (the engine refusing an evaluation, a broken
    table, a stage beyond the engine's limits): the same rules fail the same way on a retry, so
    it is a non-retryable `RuleBundleError` with the reason, and the case waits for a person.
    """
    from carebudget.decisions import DecisionError, decide_with_bundle
    from carebudget.rulebook import UnknownCouncil

    try:
        try:
            bundle = registry.bundle(request.council, request.on)
        except UnknownCouncil as exc:
            raise DecisionError("unknown council", "council", str(exc)) from None
        return decide_with_bundle(request.kind, bundle, request.on, request.payload)
    except CancelledError:
        # The activity was cancelled (its timeout passed under load, or the step was): not the
        # rules' fault, so not a RuleBundleError that would leave the case waiting for a person.
        raise
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
