"""Letters and the notice outbox in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import time
from datetime import date
from typing import Any

import pytest

from carebudget.store import InvalidInput, Store, UnknownCase
from carebudget.store.letters import UnknownLetter

PDF = b"%PDF-1.7 a letter"


def _open(store: Store, case_id: str = "C-1") -> None:
    store.upsert_case(f"{case_id}:opened", case_id,
                      {"council": "demo", "stage": "assessment", "opened": date(2026, 1, 5)},
                      actor="carebudget", role="system")


def _notice(key: str, case_id: str | None = "C-1") -> dict[str, Any]:
    return {"notice_key": key, "case_id": case_id, "kind": "letter_ready", "recipient": "ada",
            "address": "ada@example.invalid", "subject": "A letter", "body": "Read it"}


def test_a_letter_is_issued_once_per_key_with_its_hashes_on_the_ledger(store: Store) -> None:
    _open(store)
    first = store.issue_letter("C-1:4:letter.eligibility", "C-1", "eligibility", "<p>Yes</p>", PDF,
                               "england/letters/eligibility.html.j2", "a" * 64, "b" * 64,
                               [_notice("C-1:4:n")])
    again = store.issue_letter("C-1:4:letter.eligibility", "C-1", "eligibility", "<p>Other</p>", PDF,
                               "t", "c" * 64, "d" * 64, [_notice("C-1:4:n2")])
    assert again == first
    assert first.sha256 == hashlib.sha256(b"<p>Yes</p>").hexdigest()
    rows = [e for e in store.case_trail("C-1") if e.action == "letter.issued"]
    assert len(rows) == 1 and rows[0].seq == first.ledger_seq
    assert rows[0].payload["sha256"] == first.sha256
    assert rows[0].payload["pdf_sha256"] == hashlib.sha256(PDF).hexdigest()
    assert [n.notice_key for n in store.list_notices("C-1")] == ["C-1:4:n"]
    letter = store.get_letter("C-1", first.id)
    assert (letter.html, letter.pdf) == ("<p>Yes</p>", PDF)
    assert store.verify_chain(council="demo").ok


def test_a_letter_for_an_unknown_case_or_without_a_pdf_is_refused_in_plain_words(store: Store) -> None:
    with pytest.raises(UnknownCase, match="'C-9' is not on the case list"):
        store.issue_letter("k", "C-9", "eligibility", "<p>x</p>", PDF, "t", "a" * 64, "b" * 64)
    _open(store)
    with pytest.raises(InvalidInput, match="needs its HTML and a PDF"):
        store.issue_letter("k", "C-1", "eligibility", "<p>x</p>", b"not a pdf", "t", "a" * 64, "b" * 64)
    for number in (7, 0, 2**31, 10**17):  # beyond a 32-bit id: no letter, not a database error
        with pytest.raises(UnknownLetter, match=f"has no letter {number}"):
            store.get_letter("C-1", number)
    with pytest.raises(InvalidInput, match="needs subject"):
        store.queue_notices([{**_notice("x"), "subject": ""}])
    assert store.case_letters("C-1") == [] and store.list_notices() == []


def test_two_senders_never_hold_the_same_notice_and_a_crashed_senders_notice_comes_back(
    store: Store,
) -> None:
    _open(store)
    store.queue_notices([_notice("n1"), _notice("n2"), _notice("n1")])
    first = store.claim_notices(hold_seconds=0.5)
    assert sorted(n.notice_key for n in first) == ["n1", "n2"]
    assert store.claim_notices() == []  # held by the first sender
    store.notice_sent(first[0].id)
    time.sleep(0.6)  # the first sender "crashed" before marking the second one sent
    (back,) = store.claim_notices()
    assert back.notice_key == first[1].notice_key and back.attempts == 2
    store.notice_failed(back.id, "the mail server refused it", retry_in_seconds=60)
    assert store.claim_notices() == []
    sent = {n.notice_key: n for n in store.list_notices()}
    assert sent[first[0].notice_key].sent_at is not None
    assert sent[back.notice_key].sent_at is None and "refused" in sent[back.notice_key].last_error


def test_a_letter_altered_in_the_database_breaks_the_chain_naming_the_letter(store: Store) -> None:
    _open(store)
    meta = store.issue_letter("C-1:4:letter.eligibility", "C-1", "eligibility", "<p>Yes</p>", PDF,
                              "t", "a" * 64, "b" * 64)
    assert store.verify_chain(council="demo").ok
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE letter SET html = '<p>No</p>'")
    report = store.verify_chain(council="demo")
    assert not report.ok and report.first_broken is not None
    assert report.first_broken.seq == meta.ledger_seq
    assert report.first_broken.reason == f"letter {meta.id} was altered: it no longer matches ledger row {meta.ledger_seq}"
