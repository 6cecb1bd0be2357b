"""Who may read what: the roles of the service and the personal-data rule (UK GDPR art 5(1)(c))."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

# People who sign in. `person` is the adult (or carer) the case is about.
ROLES: tuple[str, ...] = (
    "person", "social_worker", "approver", "appeals_officer",
    "operations", "compliance", "policy_admin", "national_admin", "admin",
)
# Roles that work for England as a whole, not for one council: such a user has no council.
# Every other role belongs to exactly one council and sees and acts on that council's work only.
NATIONAL_ROLES: frozenset[str] = frozenset({"national_admin"})
# Users created before councils were recorded (migration 0008) belong to the demo council.
DEFAULT_COUNCIL = "demo"

# Writers of ledger rows that are not people: workflow activities.
SYSTEM_ROLE = "system"
LEDGER_ROLES: tuple[str, ...] = (*ROLES, SYSTEM_ROLE)

# Data minimisation: only roles whose work needs to identify the person see name and date of
# birth. Operations, policy and user administration work from case ids and stages alone.
PERSONAL_DATA_ROLES: frozenset[str] = frozenset(
    {"person", "social_worker", "approver", "appeals_officer", "compliance"}
)

REDACTED = "[redacted]"

T = TypeVar("T")


def can_read_personal(role: str | None) -> bool:
    return role in PERSONAL_DATA_ROLES


def redact(row: T, role: str | None) -> T:
    """`row` as `role` may see it: personal fields blanked unless the role needs them.

    Works on CaseRow, LedgerEntry, DecisionRecord (returns a copy) and on plain dicts.
    The stored row and its hash are untouched: redaction happens on the way out only.
    """
    if can_read_personal(role):
        return row
    if isinstance(row, BaseModel):
        redactor = getattr(row, "redacted", None)
        if callable(redactor):
            return redactor()  # type: ignore[no-any-return]
        return row
    if isinstance(row, dict):
        return _redact_dict(row)  # type: ignore[return-value]
    return row


_PERSONAL_KEYS = frozenset({"personal", "name", "date_of_birth"})


def _redact_dict(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in _PERSONAL_KEYS and item is not None:
            out[key] = REDACTED if not isinstance(item, dict) else None
        elif isinstance(item, dict):
            out[key] = _redact_dict(item)
        else:
            out[key] = item
    return out
