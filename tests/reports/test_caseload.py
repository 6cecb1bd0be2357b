"""The bench's generated caseload is what the service would have written: its chain verifies (rows,
head, checkpoints, case list and decision records against their ledger rows) and its decision
records replay under their stored bundles."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text

from bench.caseload import generate


def test_a_generated_caseload_verifies_and_its_decisions_replay(store: Any) -> None:
    decider = generate(store, 150, date(2026, 9, 30))
    result = store.verify_chain(council="demo")
    assert result.ok, result
    with store.engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM decision WHERE council = 'demo'")).scalars().all()
        steps = conn.execute(text("SELECT COUNT(*) FROM report_step WHERE chain = 'demo'")).scalar_one()
    assert decider.made > 0 and steps > 0 and len(ids) > decider.made  # records reused, on their own days
    for decision_id in ids:
        replayed = store.replay_decision(decision_id)
        assert replayed.identical, replayed.differences
