"""Refusals of the store: each names what is wrong; none leaves a partial write behind."""

from __future__ import annotations


class StoreError(ValueError):
    """Base of every store refusal. `field` names the offending argument when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_json(self) -> dict[str, str | None]:
        return {"error": type(self).__name__, "field": self.field, "message": self.message}


class InvalidInput(StoreError):
    """A malformed argument: empty key, unknown role, payload that is not a JSON object, ..."""


class UnknownCase(StoreError):
    """The case is not on the case list (open it with `upsert_case` first)."""


class DuplicateEvent(StoreError):
    """The event key was already used for an event with different content."""


class UnknownDecision(StoreError):
    """No decision record with this id."""


class UnknownBundle(StoreError):
    """No stored rule bundle with this hash."""


class BundleMismatch(StoreError):
    """Bundle content that does not reproduce the hash it was given under."""


class UnknownUser(StoreError):
    """No user with this username."""


class ActorRefused(StoreError):
    """The step's actor is not a user of the service, is inactive, has another role than the step
    needs, or works for another council: the step is not recorded."""


class DuplicateUser(StoreError):
    """The username is taken."""


class UnsafeLedgerKey(StoreError):
    """Outside development, the ledger key is the default or too weak to sign the ledger with."""
