"""What the store hands out and takes in: pydantic models at the boundary of every store call."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from carebudget.store.roles import REDACTED, _redact_dict


class Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class LedgerEntry(Public):
    """One ledger row: row `seq` of chain `chain`. `hash` is sha256 over the canonical JSON of
    every other field."""

    chain: str
    seq: int
    at: datetime
    event_key: str
    case_id: str | None
    actor: str
    role: str
    action: str
    payload: dict[str, Any]
    personal: dict[str, Any] | None = None
    prev_hash: str
    hash: str

    def redacted(self) -> LedgerEntry:
        return self.model_copy(update={"personal": None if self.personal is None else {"redacted": True}})


class BrokenRow(Public):
    """The first thing found wrong: row `seq` of `chain` (0 when no row is to blame), and why."""

    seq: int
    reason: str
    chain: str | None = None


class ChainHead(Public):
    chain: str
    rows: int
    head_seq: int
    head_hash: str


class VerifyReport(Public):
    """Result of checking one chain (`chain`) or every chain (`chain` None); `first_broken` is
    None when everything checked is intact.

    For one chain, head_seq / head_hash are its head. For every chain, `rows` and `head_seq` are
    the total row count and `head_hash` is sha256 over the sorted "chain seq hash" lines of the
    heads in `chains`: one value that changes whenever any chain grows.
    """

    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    first_broken: BrokenRow | None = None
    chain: str | None = None
    chains: list[ChainHead] = []
    anchors_checked: int = 0


class CaseUpdate(BaseModel):
    """Fields of the operations case list to set; omitted fields keep their value.

    Setting `due` or `assigned_to` to None explicitly clears it (a case with nothing due is never
    overdue). `amounts` maps a name (indicative_budget, personal_budget, weekly_charge, ...) to
    money as a string "123.45" and replaces the whole map.
    """

    model_config = ConfigDict(extra="forbid")

    council: str | None = None
    stage: str | None = None
    opened: date | None = None
    due: date | None = None
    amounts: dict[str, str] | None = None
    assigned_to: str | None = None
    area: str | None = Field(None, max_length=60)
    name: str | None = None
    date_of_birth: date | None = None


class CaseRow(Public):
    """One row of the operations case list. name / date_of_birth are None when redacted."""

    case_id: str
    council: str
    stage: str
    opened: date
    due: date | None
    overdue: bool
    amounts: dict[str, str]
    assigned_to: str | None
    area: str | None = None  # the locality recorded at intake
    updated_at: datetime
    last_seq: int
    name: str | None = None
    date_of_birth: date | None = None

    def redacted(self) -> CaseRow:
        return self.model_copy(update={"name": None, "date_of_birth": None})


class CaseFilters(BaseModel):
    """Filters of the operations list; all optional, combined with AND."""

    model_config = ConfigDict(extra="forbid")

    stage: str | list[str] | None = None
    overdue: bool | None = None
    council: str | None = None
    assigned_to: str | None = None
    unassigned: bool | None = None  # True: only cases no social worker holds
    id_prefix: str | None = Field(None, min_length=1, max_length=100)
    name: str | None = Field(None, min_length=2, max_length=200)  # part of the name, any case
    today: date | None = None  # "overdue" is judged against this date; default: today (UTC)


class Page(BaseModel):
    """1-based page of `size` rows, ordered by due date (soonest first), then case id."""

    model_config = ConfigDict(extra="forbid")

    number: int = Field(1, ge=1)
    size: int = Field(50, ge=1, le=500)


class DecisionRecord(Public):
    id: int
    decision_key: str
    case_id: str | None
    kind: str
    council: str
    on: date
    bundle_hash: str
    record: dict[str, Any]
    actor: str
    role: str
    recorded_at: datetime
    ledger_seq: int

    def redacted(self) -> DecisionRecord:
        return self.model_copy(update={"record": redact_record(self.record)})


def redact_record(record: dict[str, Any]) -> dict[str, Any]:
    """A decision record without the person's date of birth (the only identifying input)."""
    out = dict(record)
    person = (out.get("input") or {}).get("person")
    if isinstance(person, dict) and "date_of_birth" in person:
        out["input"] = {**out["input"], "person": {**person, "date_of_birth": REDACTED}}
    return _redact_dict(out) if "personal" in out else out


class Difference(Public):
    path: str
    stored: Any
    replayed: Any


class ReplayResult(Public):
    decision_id: int
    bundle_hash: str
    identical: bool
    differences: list[Difference]
    replayed: dict[str, Any] | None = None
    error: str | None = None  # the decision core refused to re-run it (message)


class BundleRecord(Public):
    hash: str
    council: str
    content: dict[str, Any]
    effective_from: date
    published_by: str
    approved_by: str | None
    status: str
    saved_at: datetime


class UserPublic(Public):
    username: str
    display_name: str
    role: str
    council: str | None = None  # None: a national role
    team: str | None = None  # the team within the council, if the administrator has set one
    active: bool
    created_at: datetime


class UserRecord(UserPublic):
    """A user with the password hash (made and checked by the web app, never by the store)."""

    password_hash: str

    def public(self) -> UserPublic:
        return UserPublic(**self.model_dump(exclude={"password_hash"}))
