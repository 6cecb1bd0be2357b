"""A complete, anchored ledger (issue 11 point 3): rows cut from the end with the head moved back,
and edits to a case's list or personal record, are found and named in plain words."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from carebudget.store import InvalidInput, Store
from carebudget.store.signing import Keyring
from tests.store.conftest import tamper


def fill(store: Store, n: int, case_id: str = "C-1", council: str = "demo") -> None:
    store.upsert_case(f"{case_id}:opened", case_id, {
        "council": council, "stage": "assessment", "opened": date(2026, 1, 5), "due": date(2026, 2, 2),
        "name": "Ada Lovelace", "date_of_birth": date(1950, 1, 1)}, "system", "system")
    for i in range(2, n + 1):
        store.append_event(f"{case_id}:ev-{i}", case_id, "jsmith", "social_worker", "update.accepted", {"i": i})


def truncate(store: Store, keep: int, chain: str = "demo") -> None:
    """Cut every row after `keep` and move the head back to it, as a database administrator could."""
    tamper(store, "DELETE FROM ledger WHERE chain = :c AND seq > :k", c=chain, k=keep)
    tamper(store, "UPDATE ledger_head SET seq = :k, hash = (SELECT hash FROM ledger WHERE chain = :c AND seq = :k) "
                  "WHERE chain = :c", c=chain, k=keep)


def resign_head(store: Store, chain: str = "demo") -> None:
    """What someone holding the ledger key could do after truncating: sign the moved head."""
    with store.engine.connect() as conn:
        seq, digest, at = conn.exec_driver_sql(
            f"SELECT seq, hash, at FROM ledger_head WHERE chain = '{chain}'").one()
    key_id, mac = store.keys.sign("head", chain, seq, digest, at)
    tamper(store, "UPDATE ledger_head SET key_id = :k, mac = :m WHERE chain = :c", k=key_id, m=mac, c=chain)


def test_rows_cut_from_the_end_with_the_head_moved_back_are_found(store: Store) -> None:
    fill(store, 6)
    truncate(store, 4)
    report = store.verify_chain(council="demo")
    assert not report.ok and report.first_broken is not None
    assert report.first_broken.seq == 4
    assert "recorded head (row 4) cannot be trusted" in report.first_broken.reason
    assert "cut from the end" in report.first_broken.reason


def test_a_truncation_re_signed_with_the_key_is_found_from_a_later_checkpoint(store_url: str) -> None:
    store = Store(store_url, checkpoint_every=5)
    fill(store, 6)
    truncate(store, 3)
    resign_head(store)
    report = store.verify_chain(council="demo")
    assert report.first_broken is not None and report.first_broken.seq == 4
    assert "rows 4..5 are missing: the checkpoint" in report.first_broken.reason
    store.close()


def test_an_exported_anchor_finds_a_truncation_even_with_its_checkpoints_deleted(store: Store) -> None:
    fill(store, 6)
    anchor = store.export_anchor("demo")
    assert [(a["chain"], a["seq"]) for a in anchor["anchors"]] == [("demo", 6)]
    assert store.verify_chain(council="demo", anchor=anchor).anchors_checked == 1
    truncate(store, 4)
    resign_head(store)
    tamper(store, "DELETE FROM ledger_checkpoint WHERE chain = 'demo'")
    assert store.verify_chain(council="demo").ok  # nothing left inside the database shows it ...
    report = store.verify_chain(council="demo", anchor=anchor)  # ... the anchor kept elsewhere does
    assert report.first_broken is not None and report.first_broken.seq == 5
    assert "rows 5..6 are missing: the anchor signed" in report.first_broken.reason


def test_an_anchor_finds_a_chain_rewritten_by_someone_holding_the_key(store: Store) -> None:
    fill(store, 5)
    anchor = store.export_anchor()
    truncate(store, 2)
    resign_head(store)
    tamper(store, "DELETE FROM ledger_checkpoint")
    for i in (3, 4, 5):  # as many rows again, other content: a valid, signed chain of 5 rows
        store.append_event(f"forged-{i}", "C-1", "mallory", "social_worker", "update.accepted", {"i": -i})
    assert store.verify_chain().ok
    report = store.verify_chain(anchor=anchor)
    assert report.first_broken is not None and report.first_broken.seq == 5
    assert "row 5 is not the row the anchor signed" in report.first_broken.reason


@pytest.mark.parametrize("field,sql", [
    ("name", "UPDATE case_person SET name = 'Someone Else' WHERE case_id = 'C-1'"),
    ("date of birth", "UPDATE case_person SET date_of_birth = '1960-06-06' WHERE case_id = 'C-1'"),
])
def test_an_edited_personal_row_is_found(store: Store, field: str, sql: str) -> None:
    fill(store, 3)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(sql)
    report = store.verify_chain(council="demo")
    assert report.first_broken is not None and report.first_broken.seq == 1
    assert report.first_broken.reason == (
        f"the case-list record of case 'C-1' was edited outside the service: the person's {field} differs "
        "from the ledger's (its last ledger row is row 1)")
    assert "Someone" not in report.first_broken.reason  # personal data stays out of the report


@pytest.mark.parametrize("sql,words", [
    ("UPDATE case_list SET stage = 'closed' WHERE case_id = 'C-1'", "stage is 'closed' but the ledger says 'assessment'"),
    ("UPDATE case_list SET due = NULL WHERE case_id = 'C-1'", "due is None but the ledger says '2026-02-02'"),
    ("UPDATE case_list SET amounts = '{\"personal_budget\":\"999.00\"}' WHERE case_id = 'C-1'", "amounts is"),
    ("UPDATE case_list SET assigned_to = 'mallory' WHERE case_id = 'C-1'", "assigned_to is 'mallory'"),
])
def test_an_edited_case_list_row_is_found(store: Store, sql: str, words: str) -> None:
    fill(store, 2)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(sql)
    report = store.verify_chain(council="demo")
    assert report.first_broken is not None and report.first_broken.chain == "demo"
    assert "case-list record of case 'C-1' was edited outside the service" in report.first_broken.reason
    assert words in report.first_broken.reason


def test_a_case_list_row_deleted_moved_or_forged_is_found(store: Store) -> None:
    fill(store, 2)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE case_list SET council = 'elsewhere' WHERE case_id = 'C-1'")
    moved = store.verify_chain(council="demo").first_broken
    assert moved is not None and "missing from council 'demo''s case list" in moved.reason
    assert store.reindex_cases() == 1 and store.verify_chain().ok
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO case_list (case_id, council, stage, opened, amounts, updated_at, last_seq) "
            "VALUES ('C-9', 'demo', 'sign_off', '2026-01-01', '{}', '2026-01-01 00:00:00', 1)")
    forged = store.verify_chain().first_broken
    assert forged is not None and "case 'C-9' is on the case list of council 'demo' but no ledger row" in forged.reason


def test_a_head_or_checkpoint_signed_with_another_key_is_refused_but_a_retired_key_still_verifies(
    store_url: str,
) -> None:
    old = Keyring.from_text("an-old-ledger-key-0123456789abcdef")
    first = Store(store_url, keys=old)
    fill(first, 2)
    anchor = first.export_anchor()
    first.close()
    stranger = Store(store_url, keys=Keyring.from_text("someone-elses-key-0123456789abcdef"))
    problem = stranger.verify_chain().first_broken
    assert problem is not None and "signed with a ledger key this service does not hold" in problem.reason
    stranger.close()
    rotated = Store(store_url, keys=Keyring.from_text("the-new-ledger-key-0123456789abcdef",
                                                      ["an-old-ledger-key-0123456789abcdef"]))
    assert rotated.verify_chain(anchor=anchor).ok
    rotated.append_event("after-rotation", "C-1", "jsmith", "social_worker", "update.accepted", {})
    assert rotated.verify_chain(anchor=anchor).ok
    rotated.close()


@pytest.mark.parametrize("document,words", [
    ([], "not a ledger anchor"),
    ({"format": "carebudget-ledger-anchor/1", "anchors": []}, "lists no chains"),
    ({"format": "carebudget-ledger-anchor/1", "anchors": [{"chain": "demo"}]}, "needs chain, seq"),
    ({"format": "carebudget-ledger-anchor/1", "anchors": [
        {"chain": "demo", "seq": "1", "hash": "x", "at": "x", "key_id": "x", "mac": "x"}]}, "seq must be a row"),
    ({"format": "carebudget-ledger-anchor/1", "anchors": [
        {"chain": "DROP TABLE", "seq": 1, "hash": "x", "at": "x", "key_id": "x", "mac": "x"}]}, "must be a council"),
])
def test_a_malformed_anchor_is_refused_by_name(store: Store, document: Any, words: str) -> None:
    fill(store, 1)
    with pytest.raises(InvalidInput, match=words):
        store.verify_chain(anchor=document)


def test_a_forged_anchor_entry_is_not_trusted(store: Store) -> None:
    fill(store, 3)
    anchor = store.export_anchor()
    anchor["anchors"][0]["seq"] = 9
    report = store.verify_chain(anchor=anchor)
    assert report.first_broken is not None and "anchor at row 9" in report.first_broken.reason
    assert "signature does not match" in report.first_broken.reason


def test_a_weak_ledger_key_is_refused_outside_development(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from carebudget.settings import Settings, get_settings
    from carebudget.store import UnsafeLedgerKey

    prod = Settings(environment="production")
    assert prod.ledger_key_problem() is not None and "default development key" in prod.ledger_key_problem()  # type: ignore[operator]
    assert "too weak" in (Settings(environment="production", ledger_key="short").ledger_key_problem() or "")
    assert Settings(environment="production", ledger_key="k" * 40).ledger_key_problem() is not None
    assert Settings(environment="production", ledger_key="f3a9c2e71b8d4056" * 3).ledger_key_problem() is None
    assert Settings(environment="development").ledger_key_problem() is None
    monkeypatch.setenv("CAREBUDGET_ENVIRONMENT", "production")
    get_settings.cache_clear()
    try:
        with pytest.raises(UnsafeLedgerKey, match="CAREBUDGET_LEDGER_KEY is the default development key"):
            Store(f"sqlite:///{tmp_path / 'prod.db'}")
        monkeypatch.setenv("CAREBUDGET_LEDGER_KEY", "f3a9c2e71b8d4056" * 3)
        get_settings.cache_clear()
        Store(f"sqlite:///{tmp_path / 'prod.db'}").close()
    finally:
        get_settings.cache_clear()


def test_a_case_opened_event_that_is_not_a_list_change_does_not_count_as_one(store: Store) -> None:
    fill(store, 2)
    # The case workflow records its own "case.opened" event (no list fields) after the list row.
    store.append_event("wf:opened", "C-1", "system", "system", "case.opened", {"council": "demo"})
    assert store.verify_chain().ok
    assert store.reindex_cases() == 1 and store.get_case("C-1").last_seq == 1 and store.verify_chain().ok
