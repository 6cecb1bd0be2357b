"""The durable record: case list, decision records, the tamper-evident ledger, rule bundles, users.

Care Act 2014 s13(2), s24(2) and s25 require written records with reasons; Temporal keeps
history only for its retention period, so this store is the record of what was decided, when,
by whom, under which rules and on which facts, and whether anyone has altered it.

Use::

    from carebudget.store import get_store
    store = get_store()                      # from settings, migrated on first use, cached
    store.upsert_case("wf-123:opened", "C-123",
                      {"council": "demo", "stage": "assessment", "opened": date(2026, 1, 5),
                       "due": date(2026, 2, 2), "name": "Ada L", "date_of_birth": date(1950, 1, 1)},
                      actor="system", role="system")
    store.append_event("wf-123:ev-7", "C-123", "jsmith", "social_worker", "update.accepted",
                       {"step": "assessment"})
    decision_id = store.record_decision("wf-123:ev-8", "C-123", "eligibility", record,
                                        "jsmith", "social_worker")
    rows, total = store.list_cases({"stage": "assessment", "overdue": True},
                                   {"number": 1, "size": 50}, role="operations")
    store.verify_chain().ok                  # every chain
    store.verify_chain(council="demo").ok    # one council's chain only

Database: CAREBUDGET_DATABASE_URL, default SQLite at <data_dir>/carebudget.db; PostgreSQL with
`postgresql+psycopg://...`. `Store(url).migrate()` applies the Alembic migrations in migrations/.

Ledger: one hash chain per council (councils are separate legal entities), plus "national"
(national rules) and "service" (sign-ins, users). Each row is row `seq` (1, 2, 3 ... no gaps) of
its `chain`; `hash` = sha256 of the canonical JSON of (chain, seq, at, event_key, case_id, actor,
role, action, payload, personal, prev_hash); `prev_hash` of row 1 is 64 zeros. An event about a
case goes on its council's chain; `append_event(..., chain=...)` names it otherwise (default
"service"). Appends to one chain are serialised (PostgreSQL advisory lock per chain, so councils
never wait for each other; SQLite BEGIN IMMEDIATE, one writer for everything). Each chain's head
is HMAC-signed with CAREBUDGET_LEDGER_KEY and checkpointed every N rows; `export_anchor()` gives
a document to keep elsewhere, and `verify_chain(council=..., anchor=...)` checks one chain (or
all) against its rows, head, checkpoints, that anchor, and the case list and personal rows derived
from it. Every write is idempotent on its key. Actions written by the store itself: case.opened,
case.updated, decision.recorded, rules.<status>, policy.published, user.created, user.updated.
Other writers choose their own dotted action names (update.accepted, update.refused, timer.fired,
user.signed_in, ...).

Personal data (name, date of birth, the ledger's `personal` column, the date of birth inside a
decision's input) is returned only to roles in PERSONAL_DATA_ROLES: every read takes `role`, and
`redact(row, role)` applies the same rule to any row. Hashes always cover the full data.

Errors: every refusal is a StoreError subclass with a message naming what is wrong, and leaves
the database unchanged.
"""

from __future__ import annotations

from functools import lru_cache

from carebudget.store.errors import (
    ActorRefused,
    BundleMismatch,
    DuplicateEvent,
    DuplicateUser,
    InvalidInput,
    StoreError,
    UnknownBundle,
    UnknownCase,
    UnknownDecision,
    UnknownUser,
    UnsafeLedgerKey,
)
from carebudget.store.roles import (
    LEDGER_ROLES,
    PERSONAL_DATA_ROLES,
    ROLES,
    SYSTEM_ROLE,
    can_read_personal,
    redact,
)
from carebudget.store.schemas import (
    BrokenRow,
    BundleRecord,
    CaseFilters,
    CaseRow,
    CaseUpdate,
    ChainHead,
    DecisionRecord,
    Difference,
    LedgerEntry,
    Page,
    ReplayResult,
    UserPublic,
    UserRecord,
    VerifyReport,
)
from carebudget.store.store import BUNDLE_STATUSES, Store


@lru_cache
def get_store() -> Store:
    """The process's Store, from settings (CAREBUDGET_DATABASE_URL), migrated on first use."""
    from carebudget.settings import get_settings

    settings = get_settings()
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.effective_database_url)
    store.migrate()
    return store


__all__ = [
    "BUNDLE_STATUSES",
    "LEDGER_ROLES",
    "PERSONAL_DATA_ROLES",
    "ROLES",
    "SYSTEM_ROLE",
    "BrokenRow",
    "BundleMismatch",
    "BundleRecord",
    "CaseFilters",
    "CaseRow",
    "CaseUpdate",
    "ChainHead",
    "DecisionRecord",
    "Difference",
    "DuplicateEvent",
    "ActorRefused",
    "DuplicateUser",
    "InvalidInput",
    "LedgerEntry",
    "Page",
    "ReplayResult",
    "Store",
    "StoreError",
    "UnknownBundle",
    "UnknownCase",
    "UnknownDecision",
    "UnknownUser",
    "UnsafeLedgerKey",
    "UserPublic",
    "UserRecord",
    "VerifyReport",
    "can_read_personal",
    "get_store",
    "redact",
]
