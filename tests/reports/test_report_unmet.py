"""`report_unmet` (migration 0012) holds every unmet need of every plan in the ledger: written by
the trigger as plans are appended, and copied in by the migration for plans already there."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from alembic import command
from sqlalchemy import text

from bench.caseload import generate
from carebudget.store import migrate
from carebudget.store.db import MIGRATE_LOCK_KEY, write


def expected_rows(store: Any) -> set[tuple[Any, ...]]:
    """Each need of each plan.submitted ledger row, worked out here from the payloads."""
    rows = set()
    for e in store.ledger_events("plan.submitted"):
        for n, need in enumerate(e.payload["unmet_needs"]):
            if isinstance(need, str):
                rows.add((e.seq, n, e.case_id, None, None, None, need))
            else:
                units = None if need["units"] is None else int(Decimal(need["units"]) * 100)
                rows.add((e.seq, n, e.case_id, need["outcome"], need["provision"], units, need["words"]))
    return rows


def stored_rows(store: Any) -> set[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return {tuple(r) for r in conn.execute(text(
            "SELECT seq, n, case_id, outcome, provision, units, words FROM report_unmet WHERE chain = 'demo'"))}


def _to(store: Any, revision: str, down: bool) -> None:
    with write(store.engine, MIGRATE_LOCK_KEY) as conn:
        cfg = migrate.config()
        cfg.attributes["connection"] = conn
        cfg.attributes["ledger_keys"] = store.keys
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_each_unmet_need_of_each_plan_is_a_row_as_the_plan_is_appended(store: Any) -> None:
    generate(store, 120, date(2026, 9, 30))
    expected = expected_rows(store)
    assert any(r[3] is None for r in expected) and any(r[5] is not None for r in expected)
    assert stored_rows(store) == expected


def test_the_migration_copies_in_the_needs_of_plans_already_in_the_ledger(store: Any) -> None:
    _to(store, "0011", down=True)
    generate(store, 120, date(2026, 9, 30))
    _to(store, "head", down=False)
    expected = expected_rows(store)
    assert expected and stored_rows(store) == expected
