"""Council policy for a case: time limits (s27, CSSG 13.32) and underspend banking, from the rules."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.models import BankRequest, BankResult, Policy, PolicyRequest

if TYPE_CHECKING:
    from carebudget.rulebook import Registry

WEEKS_A_YEAR = 52


class Policies:
    """The council-policy activity, reading one registry's rules (the worker's)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    @activity.defn(name="council_policy")
    def council_policy(self, request: PolicyRequest) -> Policy:
        """The council's process policy in force on the date (carebudget.rulebook.council_policy)."""
        from carebudget.rulebook import MissingParameter, UnknownCouncil
        from carebudget.rulebook import council_policy as policy_on

        try:
            found = policy_on(request.council, request.on, self.registry)
            return Policy.model_validate(found.model_dump())
        except (UnknownCouncil, MissingParameter) as exc:
            raise ApplicationError(str(exc), type="PolicyError", non_retryable=True) from None
        except Exception as exc:  # noqa: BLE001 - broken policy rules: a retry meets the same files
            raise ApplicationError(
                f"the council's policy rules in force on {request.on} cannot be read "
                f"({type(exc).__name__}: {exc})", type="PolicyError", non_retryable=True,
            ) from None


@activity.defn
def bank_underspend(request: BankRequest) -> BankResult:
    """At a review the person may bank an underspend, up to a share of the council's yearly share."""
    limit = (request.council_share_weekly * WEEKS_A_YEAR * request.bank_share).quantize(
        Decimal("0.01"), rounding=ROUND_DOWN
    )
    room = max(Decimal("0.00"), limit - request.already_banked)
    banked = min(request.underspend, room)
    return BankResult(
        banked=banked,
        explanation=(
            f"Underspend {request.underspend:.2f}; the council lets {request.bank_share} of its "
            f"yearly share ({limit:.2f}) be banked; already banked {request.already_banked:.2f}; "
            f"banked now {banked:.2f}."
        ),
    )
