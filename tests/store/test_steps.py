"""A case's step is written all or nothing, once, and a conflicting retry is an alarm (issue 11 point 2)."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from carebudget.policy.decide import decide
from carebudget.rulebook import get_registry
from carebudget.store import DuplicateEvent, InvalidInput, Store
from carebudget.store.letters import Draft

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


def _write_statements(store: Store) -> tuple[list[str], list[int]]:
    """Every statement run inside a write transaction, and a mark at each such BEGIN."""
    statements: list[str] = []
    begins: list[int] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if conn.get_execution_options().get("carebudget_write") and not statement.startswith("BEGIN"):
            statements.append(statement)

    @event.listens_for(store.engine, "begin")
    def _begin(conn: Any) -> None:
        if conn.get_execution_options().get("carebudget_write"):
            begins.append(len(statements))

    return statements, begins


def test_a_verification_step_with_three_decisions_is_one_write_transaction_of_few_statements(
    store: Store,
) -> None:
    _open(store)
    made = {kind: decide(kind, "demo", ON, FACTS) for kind in ("eligibility", "charge", "indicative-budget")}
    bundle = get_registry().bundle("demo", ON)  # kept before the step, as activities/records.py does
    store.keep_bundle(bundle.hash, bundle.council, bundle.content, bundle.effective_from)
    statements, begins = _write_statements(store)
    first = _verified(store, decisions=made)
    # Before issue 12 this step ran about 40 statements in its write transaction (each of its
    # five ledger rows looked its key up, read and re-signed the chain head; each decision was
    # inserted, then updated with its ledger row). Now: the step's keys looked up (2), the head
    # read (1), the case's row read and changed (2), one insert per decision (3), the ledger rows
    # inserted together (1), the head written (1); PostgreSQL adds its chain lock (2).
    assert len(begins) == 1
    assert len(statements) <= (12 if store.engine.dialect.name == "postgresql" else 10), statements
    assert [d.kind for d in store.case_decisions("C-1")] == ["charge", "eligibility", "indicative-budget"]
    assert store.verify_chain().ok
    # A retry finds every row as written, and writes nothing more.
    rows = store.ledger_count()
    again = _verified(store, decisions=made)
    assert (again.seq, again.hash) == (first.seq, first.hash) and store.ledger_count() == rows


def _opened_with_decisions_kept(store: Store) -> dict[str, Any]:
    """Case C-1 opened; a verification's three decisions made, their bundle kept by the store."""
    _open(store)
    made = {kind: decide(kind, "demo", ON, FACTS) for kind in ("eligibility", "charge", "indicative-budget")}
    bundle = get_registry().bundle("demo", ON)
    store.keep_bundle(bundle.hash, bundle.council, bundle.content, bundle.effective_from)
    return made


def test_a_bundle_kept_by_this_store_is_not_looked_up_again_for_each_decision_of_a_step(
    store: Store,
) -> None:
    made = _opened_with_decisions_kept(store)
    looked_up: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "rule_bundle" in statement:
            looked_up.append(statement)

    _verified(store, decisions=made)
    assert looked_up == []
    assert [d.kind for d in store.case_decisions("C-1")] == ["charge", "eligibility", "indicative-budget"]
    assert store.verify_chain().ok


def _letters(n: int = 3) -> list[Draft]:
    kinds = ("eligibility", "financial_assessment", "indicative_budget")[:n]
    return [Draft(f"C-1:7:letter.{kind}", kind, f"<p>{kind}</p>", f"england/letters/{kind}.html.j2",
                  "a" * 64, "b" * 64,
                  [{"notice_key": f"C-1:7:letter.{kind}:ada", "case_id": "C-1", "kind": "letter_ready",
                    "recipient": "ada", "address": "ada@example.invalid", "subject": "A letter",
                    "body": "Read it"}])
            for kind in kinds]


def test_a_steps_letters_are_written_in_its_transaction_after_its_event_and_a_retry_writes_nothing_more(
    store: Store,
) -> None:
    made = _opened_with_decisions_kept(store)
    statements, begins = _write_statements(store)
    first = _verified(store, decisions=made, letters=_letters())
    # The step's statements (as above), then the letters' ledger rows go with the step's in its one
    # insert; the letters inserted together (1), their notices looked up together (1) and queued
    # together (1). (The bound also allowed a read of the case's council, now known from its chain.)
    assert len(begins) == 1
    assert len(statements) <= (16 if store.engine.dialect.name == "postgresql" else 14), statements
    trail = store.case_trail("C-1")
    actions = [e.action for e in trail]
    assert actions[-4:] == ["assessment.verified", "letter.issued", "letter.issued", "letter.issued"]
    letters = store.case_letters("C-1")
    assert [m.kind for m in letters] == ["eligibility", "financial_assessment", "indicative_budget"]
    issued = {e.seq: e for e in trail if e.action == "letter.issued"}
    for meta in letters:
        row = issued[meta.ledger_seq]
        assert row.payload["letter_key"] == meta.letter_key and row.payload["sha256"] == meta.sha256
        assert "pdf_sha256" not in row.payload and meta.pdf_sha256 == ""
        assert store.get_letter("C-1", meta.id).html == f"<p>{meta.kind}</p>"
    assert len(store.list_notices("C-1")) == 3
    assert store.verify_chain(council="demo").ok
    rows = store.ledger_count()
    again = _verified(store, decisions=made, letters=_letters())
    assert (again.seq, again.hash) == (first.seq, first.hash) and store.ledger_count() == rows
    assert len(store.case_letters("C-1")) == 3 and len(store.list_notices("C-1")) == 3


def test_a_letter_already_issued_under_its_key_is_left_as_it_is_when_its_step_is_written(
    store: Store,
) -> None:
    _open(store)
    early = store.issue_letter("C-1:7:letter.eligibility", "C-1", "eligibility", "<p>first</p>", None,
                               "t", "c" * 64, "d" * 64)
    _verified(store, letters=_letters(2))
    letters = store.case_letters("C-1")
    assert [m.kind for m in letters] == ["eligibility", "financial_assessment"]
    assert letters[0] == early and store.get_letter("C-1", early.id).html == "<p>first</p>"
    assert [e.action for e in store.case_trail("C-1")].count("letter.issued") == 2
    assert store.verify_chain(council="demo").ok


def test_a_letter_without_its_html_is_refused_in_plain_words_and_nothing_of_its_step_is_written(
    store: Store,
) -> None:
    _open(store)
    rows = store.ledger_count()
    blank = Draft("C-1:7:letter.eligibility", "eligibility", "  ", "t", "a" * 64, "b" * 64)
    with pytest.raises(InvalidInput, match="a letter needs its HTML"):
        _verified(store, letters=[blank])
    assert store.ledger_count() == rows and store.case_letters("C-1") == []


def test_writers_in_one_process_queue_for_sqlite_and_never_meet_its_busy_handler(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()

    @event.listens_for(store.engine, "connect")
    def _no_busy_wait(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=0")  # a writer meeting the lock would fail at once

    store.engine.dispose()  # the connections made from now on have no busy wait
    _open(store)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            for i in range(15):
                store.record_step(f"C-1:{n}:{i}:note", "C-1", "sw1", "social_worker", "case.noted", {"n": n})
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.ledger_count() == 2 + 8 * 15
    assert store.verify_chain().ok
