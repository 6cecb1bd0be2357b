"""`report_need` (migration 0013) holds the need profile of every verified assessment in the
ledger: written by the trigger as the row is appended, and copied in by the migration."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text

from bench.caseload import generate
from tests.reports.test_report_unmet import _to


def expected_rows(store: Any) -> set[tuple[Any, ...]]:
    """Each verified assessment's count of outcomes unable to be achieved, now or predicted, here."""
    rows = set()
    for e in store.ledger_events("assessment.verified"):
        found = {o for part in ("needs", "predicted_needs")
                 for o, ways in ((e.payload.get(part) or {}).get("outcomes") or {}).items() if ways}
        rows.add((e.case_id, e.seq, len(found)))
    return rows


def stored_rows(store: Any) -> set[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return {tuple(r) for r in conn.execute(text(
            "SELECT case_id, seq, outcomes FROM report_need WHERE chain = 'demo'"))}


def test_each_verified_assessment_has_its_count_of_outcomes_as_it_is_appended(store: Any) -> None:
    generate(store, 120, date(2026, 9, 30))
    expected = expected_rows(store)
    assert len({n for _, _, n in expected}) > 1 and stored_rows(store) == expected


def test_the_migration_copies_in_the_assessments_already_in_the_ledger(store: Any) -> None:
    _to(store, "0012", down=True)
    generate(store, 120, date(2026, 9, 30))
    _to(store, "head", down=False)
    expected = expected_rows(store)
    assert expected and stored_rows(store) == expected
