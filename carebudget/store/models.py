"""The tables: ledger, case list (personal data apart), decision records, rule bundles, users."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, DateTime, Index, LargeBinary, Table, Text
from sqlmodel import Field, SQLModel

# JSON columns hold canonical JSON text (sorted keys, no spaces) so hashes are reproducible
# byte for byte on SQLite and PostgreSQL alike.


class LedgerRow(SQLModel, table=True):
    """One event on one chain: a council's (a separate legal entity), "national" or "service"."""

    __tablename__ = "ledger"
    # The council reports (issue 14) read one action of a chain, per case in order.
    __table_args__ = (Index("ix_ledger_chain_action_case", "chain", "action", "case_id", "seq"),)

    chain: str = Field(primary_key=True, max_length=60)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: str = Field(max_length=32)  # ISO 8601 UTC, microseconds, "Z"
    event_key: str = Field(max_length=200, unique=True)
    case_id: str | None = Field(default=None, max_length=100, index=True)
    actor: str = Field(max_length=200)
    role: str = Field(max_length=40)
    action: str = Field(max_length=100)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    personal: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class ReportStepRow(SQLModel, table=True):
    """The reports' narrow copy of a step's ledger row (issue 14), written by a database trigger as
    the row is appended (migration 0009): the amounts the reports sum, out of the payload once."""

    __tablename__ = "report_step"
    __table_args__ = {"sqlite_with_rowid": False}

    chain: str = Field(primary_key=True, max_length=60)
    action: str = Field(primary_key=True, max_length=100)
    case_id: str = Field(primary_key=True, max_length=100)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: str = Field(max_length=32)
    role: str = Field(max_length=40)
    amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # pence
    charge: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # pence
    detail: str | None = Field(default=None, max_length=40)
    flag: int | None = None


class ReportUnmetRow(SQLModel, table=True):
    """One unmet need of a `plan.submitted` ledger row (issue 14), written by a database trigger
    (migration 0012): outcome, provision wanted, units a week in hundredths, words. Plain notes
    from before needs were structured have words only."""

    __tablename__ = "report_unmet"
    __table_args__ = {"sqlite_with_rowid": False}

    chain: str = Field(primary_key=True, max_length=60)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    n: int = Field(primary_key=True)
    case_id: str = Field(max_length=100)
    at: str = Field(max_length=32)
    outcome: str | None = Field(default=None, max_length=60)
    provision: str | None = Field(default=None, max_length=64)
    units: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # hundredths
    words: str | None = Field(default=None, max_length=500)


class ReportNeedRow(SQLModel, table=True):
    """The need profile of an `assessment.verified` ledger row (issue 14), written by a database
    trigger (migration 0013): how many outcomes the verified assessment found the person unable to
    achieve, now or predicted, each counted once."""

    __tablename__ = "report_need"
    __table_args__ = {"sqlite_with_rowid": False}

    chain: str = Field(primary_key=True, max_length=60)
    case_id: str = Field(primary_key=True, max_length=100)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: str = Field(max_length=32)
    outcomes: int


class ReportBudgetRow(SQLModel, table=True):
    """A `budget.active` row of `report_step` with what the fairness report compares it with and
    groups it by, as things stood when it was set (issue 14), written by a trigger on `report_step`
    (migration 0014): the last plan's and the last budget's amounts, whether a review reassessed
    need between the two budgets, the need profile of the last verified assessment, the indicative
    range, the social worker, their team, the area and the person's age band."""

    __tablename__ = "report_budget"
    __table_args__ = {"sqlite_with_rowid": False}

    chain: str = Field(primary_key=True, max_length=60)
    at: str = Field(primary_key=True, max_length=32)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    case_id: str = Field(max_length=100)
    role: str = Field(max_length=40)
    amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # pence
    detail: str | None = Field(default=None, max_length=40)
    plan_before: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # pence
    budget_before: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # pence
    reassessed: int
    outcomes: int | None = None
    low: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # pence
    high: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # pence
    worker: str | None = Field(default=None, max_length=200)
    team: str | None = Field(default=None, max_length=60)
    area: str | None = Field(default=None, max_length=60)
    age_band: str | None = Field(default=None, max_length=8)


class LedgerHead(SQLModel, table=True):
    """The last row of each chain, HMAC-signed with the ledger key: moving it back to hide rows
    cut from the end needs a signature only the key holder can make."""

    __tablename__ = "ledger_head"

    chain: str = Field(primary_key=True, max_length=60)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    hash: str = Field(max_length=64)
    at: str = Field(max_length=32)
    key_id: str = Field(max_length=16)
    mac: str = Field(max_length=64)


class LedgerCheckpoint(SQLModel, table=True):
    """A signed (chain, row, hash) taken every N rows and on demand; exported as an anchor a
    council keeps elsewhere. Rows cut from before a checkpoint are found from it alone."""

    __tablename__ = "ledger_checkpoint"

    chain: str = Field(primary_key=True, max_length=60)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: str = Field(max_length=64)
    at: str = Field(max_length=32)
    key_id: str = Field(max_length=16)
    mac: str = Field(max_length=64)


class CaseListRow(SQLModel, table=True):
    __tablename__ = "case_list"
    __table_args__ = (
        Index("ix_case_list_stage_due", "stage", "due", "case_id"),
        Index("ix_case_list_due", "due", "case_id"),
    )

    case_id: str = Field(primary_key=True, max_length=100)
    council: str = Field(max_length=60, index=True)
    stage: str = Field(max_length=60)
    opened: date = Field(sa_column=Column(Date, nullable=False))
    due: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    amounts: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    assigned_to: str | None = Field(default=None, max_length=200, index=True)
    area: str | None = Field(default=None, max_length=60)  # the locality recorded at intake (migration 0010)
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class CasePersonRow(SQLModel, table=True):
    """Who the case is about: kept apart so list queries for other roles never touch it."""

    __tablename__ = "case_person"

    case_id: str = Field(primary_key=True, max_length=100, foreign_key="case_list.case_id")
    name: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = Field(default=None, sa_column=Column(Date, nullable=True))


# The decision id is an INTEGER column (32-bit on PostgreSQL): the largest id any address may name.
DECISION_ID_MAX = 2**31 - 1


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decision"
    __table_args__ = (Index("ix_decision_council_bundle_on_date", "council", "bundle_hash", "on_date"),)

    id: int | None = Field(default=None, primary_key=True)
    decision_key: str = Field(max_length=200, unique=True)
    case_id: str | None = Field(default=None, max_length=100, index=True)
    kind: str = Field(max_length=40)
    council: str = Field(max_length=60)
    on_date: date = Field(sa_column=Column(Date, nullable=False))
    bundle_hash: str = Field(max_length=64, index=True)
    record: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=200)
    role: str = Field(max_length=40)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ledger_chain: str = Field(max_length=60, index=True)
    ledger_seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class BundleRow(SQLModel, table=True):
    __tablename__ = "rule_bundle"

    hash: str = Field(primary_key=True, max_length=64)
    council: str = Field(max_length=60, index=True)
    content: str = Field(sa_column=Column(Text, nullable=False))
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    published_by: str = Field(max_length=200)
    approved_by: str | None = Field(default=None, max_length=200)
    status: str = Field(max_length=20)
    saved_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class UserRow(SQLModel, table=True):
    __tablename__ = "app_user"

    username: str = Field(primary_key=True, max_length=100)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=40)
    # The council whose cases and policy the user works on; None for a national role.
    council: str | None = Field(default=None, max_length=60, index=True)
    # The team within the council (issue 14: fairness by team); set by the council's administrator.
    team: str | None = Field(default=None, max_length=60)
    password_hash: str = Field(max_length=500)
    active: bool = True
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined, no-any-return]


# Core handles for queries: the store speaks SQLAlchemy Core to keep hashing byte-exact and fast.
LEDGER = _table(LedgerRow)
HEAD = _table(LedgerHead)
CHECKPOINTS = _table(LedgerCheckpoint)
CASES = _table(CaseListRow)
PERSONS = _table(CasePersonRow)
DECISIONS = _table(DecisionRow)
BUNDLES = _table(BundleRow)
USERS = _table(UserRow)


class PolicyChangeRow(SQLModel, table=True):
    """A proposed council policy change: checked on upload, published with a second approval."""

    __tablename__ = "policy_change"

    id: str = Field(primary_key=True, max_length=32)
    council: str = Field(max_length=60, index=True)
    path: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # change | correction
    status: str = Field(max_length=20)  # draft | refused | published | withdrawn
    document: str = Field(sa_column=Column(Text, nullable=False))  # the whole proposal, JSON
    proposed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class PolicyVersionRow(SQLModel, table=True):
    """A published rule file: immutable (the database refuses UPDATE and DELETE), layered over
    the shipped rules in `seq` order when bundles are built."""

    __tablename__ = "policy_version"

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    council: str = Field(max_length=60, index=True)
    path: str = Field(max_length=200)
    content: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    kind: str = Field(max_length=20)
    change_id: str = Field(max_length=32, unique=True)
    proposed_by: str = Field(max_length=200)
    approved_by: str = Field(max_length=200)
    note: str = Field(sa_column=Column(Text, nullable=False))
    checks: str = Field(sa_column=Column(Text, nullable=False))  # problems, tests, what-if: JSON
    bundle_hash: str = Field(max_length=64)
    published_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ledger_chain: str = Field(max_length=60, index=True)
    ledger_seq: int = Field(sa_column=Column(BigInteger, nullable=False))


POLICY_CHANGES = _table(PolicyChangeRow)
POLICY_VERSIONS = _table(PolicyVersionRow)


class WebSessionRow(SQLModel, table=True):
    """A signed-in session (page or API token), kept server-side so sign-out really ends it.
    Only the sha256 of the session's secret is stored."""

    __tablename__ = "web_session"

    sid_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=100, index=True)
    role: str = Field(max_length=40)
    kind: str = Field(max_length=10)  # page | api
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


SESSIONS = _table(WebSessionRow)


class LetterRow(SQLModel, table=True):
    """A letter a decision produced (Care Act 2014 s13(2), s26; issue 13): its HTML and PDF as
    issued, the template and rules that made it; `sha256` (of the HTML) is on the ledger."""

    __tablename__ = "letter"

    id: int | None = Field(default=None, primary_key=True)
    letter_key: str = Field(max_length=200, unique=True)  # the case's event key: one letter each
    case_id: str = Field(max_length=100, index=True)
    council: str = Field(max_length=60)
    kind: str = Field(max_length=40)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    html: str = Field(sa_column=Column(Text, nullable=False))
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    pdf_sha256: str = Field(max_length=64)
    template: str = Field(max_length=200)
    template_sha256: str = Field(max_length=64)
    bundle: str = Field(max_length=64)
    ledger_chain: str = Field(max_length=60)
    ledger_seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class NoticeRow(SQLModel, table=True):
    """The outbox: one message to a person or a member of staff, written in the same transaction
    as what it tells them about, sent by email and marked sent (issue 13 point 5)."""

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_unsent", "sent_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_key: str = Field(max_length=200, unique=True)
    case_id: str | None = Field(default=None, max_length=100, index=True)
    kind: str = Field(max_length=40)
    recipient: str = Field(max_length=100)  # a username
    address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # A reminder waits until `send_after`, and goes only if the case is still at `only_at_stage`
    # (an appeal window closing: not once the person has accepted or appealed).
    send_after: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    only_at_stage: str | None = Field(default=None, max_length=60)
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    claimed_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    attempts: int = 0
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False))


LETTERS = _table(LetterRow)
NOTICES = _table(NoticeRow)
