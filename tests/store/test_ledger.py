"""The ledger: append, verify, and tampering found at the row where it happened."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from carebudget.store import Store
from carebudget.store.ledger import GENESIS
from tests.store.conftest import tamper


def open_case(store: Store, case_id: str = "C-1") -> None:
    store.upsert_case(f"{case_id}:opened", case_id,
                      {"council": "demo", "stage": "assessment", "opened": date(2026, 1, 5)},
                      "system", "system")


def fill(store: Store, n: int) -> None:
    open_case(store)
    for i in range(2, n + 1):
        store.append_event(f"ev-{i}", "C-1", "jsmith", "social_worker", "update.accepted",
                           {"step": "assessment", "i": i}, {"note": f"personal {i}"})


def test_appended_rows_form_a_chain_that_verifies(store: Store) -> None:
    fill(store, 5)
    trail = store.case_trail("C-1", role="compliance")
    assert [e.seq for e in trail] == [1, 2, 3, 4, 5]
    assert trail[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(trail))
    report = store.verify_chain(council="demo")
    assert report.ok and report.rows == 5 and report.head_hash == trail[-1].hash
    whole = store.verify_chain()
    assert whole.ok and [(h.chain, h.head_seq, h.head_hash) for h in whole.chains] == [("demo", 5, trail[-1].hash)]


def test_each_hash_is_sha256_of_the_canonical_json_of_the_row(store: Store) -> None:
    fill(store, 2)
    entry = store.case_trail("C-1", role="compliance")[1]
    document = {
        "chain": entry.chain, "seq": entry.seq, "at": entry.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "event_key": entry.event_key,
        "case_id": entry.case_id, "actor": entry.actor, "role": entry.role, "action": entry.action,
        "payload": entry.payload, "personal": entry.personal, "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == entry.hash


@pytest.mark.parametrize("row", [1, 4, 7])
def test_an_altered_payload_is_found_at_that_row(store: Store, row: int) -> None:
    fill(store, 7)
    tamper(store, "UPDATE ledger SET payload = :p WHERE seq = :s", p='{"step":"forged"}', s=row)
    report = store.verify_chain()
    assert not report.ok
    assert report.first_broken is not None and report.first_broken.seq == row
    assert "altered" in report.first_broken.reason


def test_altered_personal_data_is_found_because_the_hash_covers_it(store: Store) -> None:
    fill(store, 4)
    tamper(store, "UPDATE ledger SET personal = :p WHERE seq = 3", p='{"note":"someone else"}')
    assert store.verify_chain().first_broken.seq == 3  # type: ignore[union-attr]


def test_a_deleted_row_is_found_at_that_row(store: Store) -> None:
    fill(store, 6)
    tamper(store, "DELETE FROM ledger WHERE seq = 3")
    report = store.verify_chain()
    assert report.first_broken is not None and report.first_broken.seq == 3
    assert "missing" in report.first_broken.reason


def test_a_row_cut_from_the_end_is_found(store: Store) -> None:
    fill(store, 6)
    tamper(store, "DELETE FROM ledger WHERE seq = 6")
    report = store.verify_chain()
    assert report.first_broken is not None and report.first_broken.seq == 6


def test_two_swapped_rows_are_found_at_the_first_of_them(store: Store) -> None:
    fill(store, 6)
    tamper(store, "UPDATE ledger SET seq = -1 WHERE seq = 3")
    tamper(store, "UPDATE ledger SET seq = 3 WHERE seq = 5")
    tamper(store, "UPDATE ledger SET seq = 5 WHERE seq = -1")
    report = store.verify_chain()
    assert report.first_broken is not None and report.first_broken.seq == 3


def test_a_rehashed_forgery_still_breaks_the_link_to_the_next_row(store: Store) -> None:
    fill(store, 5)
    entry = store.case_trail("C-1", role="compliance")[1]
    forged = entry.model_copy(update={"payload": {"step": "forged"}})
    from carebudget.store.ledger import row_hash

    digest = row_hash(forged.chain, forged.seq, forged.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), forged.event_key,
                      forged.case_id, forged.actor, forged.role, forged.action,
                      '{"step":"forged"}', json.dumps(forged.personal, separators=(",", ":")),
                      forged.prev_hash)
    tamper(store, "UPDATE ledger SET payload = :p, hash = :h WHERE seq = 2", p='{"step":"forged"}', h=digest)
    report = store.verify_chain()
    assert report.first_broken is not None and report.first_broken.seq == 3
    assert "does not link" in report.first_broken.reason


def test_the_database_itself_refuses_to_change_or_delete_ledger_rows(store: Store) -> None:
    fill(store, 2)
    for sql in ("UPDATE ledger SET actor = 'x' WHERE seq = 1", "DELETE FROM ledger WHERE seq = 2"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.connect() as conn, conn.begin():
            conn.execute(text(sql))
    assert store.verify_chain().ok and store.ledger_count() == 2


def test_a_retried_write_is_stored_once_and_returns_the_first_row(store: Store) -> None:
    open_case(store)
    first = store.append_event("wf-1:update-3", "C-1", "jsmith", "social_worker", "update.accepted", {"a": 1})
    again = store.append_event("wf-1:update-3", "C-1", "jsmith", "social_worker", "update.accepted", {"a": 1})
    assert again == first
    assert store.ledger_count() == 2 and store.verify_chain().ok


def test_events_about_no_case_are_chained_too(store: Store) -> None:
    store.append_event("signin-1", None, "cora", "compliance", "user.signed_in", {})
    assert store.ledger_count() == 1 and store.verify_chain().ok


def test_an_empty_ledger_verifies(store: Store) -> None:
    report = store.verify_chain()
    assert report.ok and report.rows == 0


def test_verify_reports_progress_to_the_end(store: Store) -> None:
    fill(store, 3)
    seen: list[tuple[int, int]] = []
    store.verify_chain(progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (3, 3)
