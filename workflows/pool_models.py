"""Community fund holding (issue 15): a pool's whole state, its steps' inputs, its activities' I/O.

| step            | who                          | payload         |
|-----------------|------------------------------|-----------------|
| join            | the person whose case it is  | JoinRequest     |
| leave           | the member, a social worker  | LeaveRequest    |
| propose_draw    | a member                     | DrawProposal    |
| vote            | a member                     | DrawVote        |
| give_time       | a member, a social worker    | TimeGift        |
| review_pool     | a social worker              | PoolReviewInput |

Money is a Decimal with two places, written as a string "123.45".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator

from carebudget.decisions.inputs import Money
from workflows.models import Actor, Model, StepInput

CASE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class PoolStart(Model):
    council: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=2000)
    opened_by: str = Field(min_length=1, max_length=100)


class JoinRequest(Model):
    case_id: str = Field(pattern=CASE_ID)
    weekly_share: Money

    @field_validator("weekly_share")
    @classmethod
    def _positive(cls, v: Decimal) -> Decimal:
        if v <= 0:
            raise ValueError("weekly_share: give a weekly share above 0.00")
        return v


class LeaveRequest(Model):
    case_id: str = Field(pattern=CASE_ID)


class DrawProposal(Model):
    """A draw on the emergency fund, for a member, decided by the members (issue 15)."""

    amount: Money
    reason: str = Field(min_length=1, max_length=2000)
    for_case: str = Field(pattern=CASE_ID)

    @field_validator("amount")
    @classmethod
    def _positive(cls, v: Decimal) -> Decimal:
        if v <= 0:
            raise ValueError("amount: give an amount above 0.00")
        return v


class DrawVote(Model):
    draw: int = Field(ge=1)
    agree: bool


class TimeGift(Model):
    """Volunteer or family time given to the pool, valued at the council's rate."""

    kind: Literal["volunteer", "family"]
    giver: str = Field(min_length=1, max_length=200)
    hours: Decimal = Field(gt=0, le=168, max_digits=5, decimal_places=2)


class PoolReviewInput(Model):
    outcomes_met: bool
    planned: Money
    spent: Money
    notes: str = Field("", max_length=4000)


POOL_STEPS: dict[str, type[Model]] = {
    "join": JoinRequest, "leave": LeaveRequest, "propose_draw": DrawProposal, "vote": DrawVote,
    "give_time": TimeGift, "review_pool": PoolReviewInput,
}


class PoolTerms(Model):
    """The council's pool policy in force when the pool opened (rules: pools.*)."""

    emergency_fund_share: Decimal
    draw_quorum: Decimal
    leave_notice_days: int
    time_hour_value: Decimal
    review_interval_days: int
    rewarded_review_interval_days: int


class PoolMember(Model):
    case_id: str
    person_user: str
    weekly_share: Money
    joined: date
    status: Literal["active", "leaving", "left"] = "active"
    leaves_on: date | None = None
    left_on: date | None = None
    check: list[str] = Field(default_factory=list)  # why the share leaves their own needs met


class Draw(Model):
    number: int
    amount: Money
    reason: str
    for_case: str
    proposed_by: Actor
    votes: dict[str, bool] = Field(default_factory=dict)  # member case id -> agrees
    status: Literal["open", "approved", "refused"] = "open"
    decided: date | None = None


class TimeEntry(Model):
    kind: Literal["volunteer", "family"]
    giver: str
    hours: Decimal
    value: Money
    on: date


class PoolReviewRecord(Model):
    on: date
    by: Actor
    outcomes_met: bool
    planned: Money
    spent: Money
    rewarded: bool
    reasons: list[str] = Field(default_factory=list)
    notes: str = ""


class PoolEvent(Model):
    seq: int
    at: datetime
    action: str
    actor: Actor
    summary: str


class PoolState(Model):
    pool_id: str
    council: str
    name: str
    purpose: str
    opened_by: str
    opened_at: datetime
    terms: PoolTerms | None = None
    members: list[PoolMember] = Field(default_factory=list)
    fund_balance: Money = Decimal(0)
    weeks_credited: int = 0
    draws: list[Draw] = Field(default_factory=list)
    time: list[TimeEntry] = Field(default_factory=list)
    reviews: list[PoolReviewRecord] = Field(default_factory=list)
    rewarded: bool = False
    next_review: date | None = None
    pending_step: str | None = None
    generation: int = 0
    timeline: list[PoolEvent] = Field(default_factory=list)

    def member(self, case_id: str) -> PoolMember | None:
        return next((m for m in self.members if m.case_id == case_id and m.status != "left"), None)

    def member_of(self, user: str) -> PoolMember | None:
        return next((m for m in self.members if m.person_user == user and m.status != "left"), None)

    @property
    def current(self) -> list[PoolMember]:
        return [m for m in self.members if m.status != "left"]


class PoolInput(Model):
    start: PoolStart | None = None
    state: PoolState | None = None


# --- activity inputs and results ------------------------------------------------------------


class PoolTermsRequest(Model):
    council: str
    on: date


class PoolTermsResult(Model):
    available: bool
    terms: PoolTerms | None = None
    reasons: list[str] = Field(default_factory=list)


class MemberCheckRequest(Model):
    council: str
    on: date
    case_id: str
    weekly_share: Decimal
    members: int
    rewarded: bool


class MemberCheck(Model):
    approved: bool
    reasons: list[str] = Field(default_factory=list)
    person_user: str = ""


class RewardRequest(Model):
    council: str
    on: date
    outcomes_met: bool
    planned: Decimal
    spent: Decimal


class RewardResult(Model):
    rewarded: bool
    reasons: list[str] = Field(default_factory=list)


class PoolRecord(Model):
    """One movement of money or time, or a pool decision, for the ledger (idempotent on the key)."""

    event_key: str
    pool_id: str
    council: str
    case_id: str | None = None
    actor: Actor
    action: str
    payload: dict[str, object] = Field(default_factory=dict)


__all__ = ["StepInput"]
