"""A case's step is written all or nothing, once, and a conflicting retry is an alarm (issue 11 point 2)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from carebudget.policy.decide import decide
from carebudget.store import DuplicateEvent, InvalidInput, Store

ON = date(2025, 6, 1)
FACTS = {
    "person": {"date_of_birth": "1960-01-01", "setting": "home"},
    "needs": {"arise_from_impairment_or_illness": True, "wellbeing_impact": "significant",
              "outcomes": {"nutrition": ["needs_assistance"], "toilet_needs": ["needs_assistance"]}},
    "finances": {"capital": "18450", "weekly_income": "250.00"},
    "care": {"weekly_cost": "300.00"},
}
OPENING = {"council": "demo", "stage": "assessment", "opened": ON.isoformat(), "due": "2025-06-29",
           "name": "Ada Lovelace", "date_of_birth": "1960-01-01"}


def _open(store: Store) -> None:
    store.record_step("C-1:1:case.opened", "C-1", "sw1", "system", "case.opened", {"council": "demo"},
                      {"name": "Ada Lovelace"}, index=OPENING)


def _verified(store: Store, **overrides: Any) -> Any:
    made = {"eligibility": decide("eligibility", "demo", ON, FACTS)}
    args: dict[str, Any] = {"index": {"stage": "financial_assessment", "due": "2025-07-01"},
                            "decisions": made, **overrides}
    return store.record_step("C-1:4:assessment.verified", "C-1", "sw1", "social_worker",
                             "assessment.verified", {"note": "seen at home"}, **args)


def test_a_step_is_written_with_its_case_list_row_and_decisions_and_a_retry_writes_nothing_more(
    store: Store,
) -> None:
    _open(store)
    first = _verified(store)
    rows = store.ledger_count()
    again = _verified(store)
    assert again.seq == first.seq and again.hash == first.hash
    assert store.ledger_count() == rows
    assert store.get_case("C-1").stage == "financial_assessment"
    assert [d.kind for d in store.case_decisions("C-1")] == ["eligibility"]
    assert store.verify_chain().ok


def test_a_step_whose_decision_is_invalid_leaves_no_case_list_change_or_ledger_row(store: Store) -> None:
    _open(store)
    rows = store.ledger_count()
    broken = decide("eligibility", "demo", ON, FACTS)
    del broken["input"]  # cannot be replayed: refused, and with it the whole step
    with pytest.raises(InvalidInput, match="record.input"):
        _verified(store, decisions={"eligibility": broken})
    assert store.ledger_count() == rows
    assert store.get_case("C-1").stage == "assessment"
    assert store.case_decisions("C-1") == []


def test_different_content_under_a_step_key_is_refused_and_recorded_as_an_alarm(store: Store) -> None:
    _open(store)
    _verified(store)
    with pytest.raises(DuplicateEvent, match="ALARM.*different content"):
        _verified(store, index={"stage": "closed", "due": None})
    assert store.get_case("C-1").stage == "financial_assessment"
    alarms = store.ledger_events("alarm.event_conflict")
    assert [a.payload["event_key"] for a in alarms] == ["C-1:4:assessment.verified"]
    assert store.verify_chain().ok


def test_a_voided_step_taken_again_is_written_under_the_next_key(store: Store) -> None:
    _open(store)
    _verified(store)
    assert store.void_steps("C-1", ["C-1:4:assessment.verified"], "the workflow lost it") == [
        "C-1:4:assessment.verified"]
    assert store.void_steps("C-1", ["C-1:4:assessment.verified"], "again") == []
    redo = _verified(store, index={"stage": "financial_assessment", "due": "2025-07-02"})
    assert redo.event_key == "C-1:4:assessment.verified~1"
    assert store.get_case("C-1").due == date(2025, 7, 2)
    assert store.voided_steps("C-1") == {"C-1:4:assessment.verified"}
    assert store.verify_chain().ok
