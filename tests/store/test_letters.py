"""Letters and the notice outbox in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import time
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

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
    with pytest.raises(InvalidInput, match="PDF must be a PDF document"):
        store.issue_letter("k", "C-1", "eligibility", "<p>x</p>", b"not a pdf", "t", "a" * 64, "b" * 64)
    with pytest.raises(InvalidInput, match="needs its HTML"):
        store.issue_letter("k", "C-1", "eligibility", "  ", None, "t", "a" * 64, "b" * 64)
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


def test_a_letter_issued_as_html_gets_its_pdf_once_when_first_asked_with_its_own_ledger_row(
    store: Store,
) -> None:
    _open(store)
    meta = store.issue_letter("C-1:4:letter.eligibility", "C-1", "eligibility", "<p>Yes</p>", None,
                              "t", "a" * 64, "b" * 64)
    (issued,) = [e for e in store.case_trail("C-1") if e.action == "letter.issued"]
    assert "pdf_sha256" not in issued.payload and meta.pdf_sha256 == ""
    assert store.get_letter("C-1", meta.id).pdf == b""
    assert store.verify_chain(council="demo").ok  # no PDF yet is not a broken letter

    printed: list[str] = []

    def print_pdf(html: str) -> bytes:
        printed.append(html)
        return PDF + html.encode()

    letter = store.letter_pdf("C-1", meta.id, print_pdf)
    again = store.letter_pdf("C-1", meta.id, print_pdf)
    assert printed == ["<p>Yes</p>"]  # printed from the HTML as issued, once
    assert letter.pdf == again.pdf == PDF + b"<p>Yes</p>"
    (row,) = [e for e in store.case_trail("C-1") if e.action == "letter.pdf"]
    assert row.payload == {"kind": "eligibility", "letter_key": "C-1:4:letter.eligibility",
                           "letter_id": meta.id, "sha256": meta.sha256,
                           "pdf_sha256": hashlib.sha256(letter.pdf).hexdigest()}
    assert store.get_letter("C-1", meta.id).pdf_sha256 == row.payload["pdf_sha256"]
    assert store.verify_chain(council="demo").ok

    with pytest.raises(InvalidInput, match="PDF must be a PDF document"):
        store.letter_pdf("C-1", store.issue_letter("C-1:5:letter.budget_statement", "C-1", "budget_statement",
                                                    "<p>B</p>", None, "t", "a" * 64, "b" * 64).id,
                         lambda html: b"<html>")

    with store.engine.begin() as conn:
        conn.execute(text("UPDATE letter SET pdf = :p WHERE id = :i"), {"p": b"%PDF forged", "i": meta.id})
    report = store.verify_chain(council="demo")
    assert report.first_broken is not None and report.first_broken.seq == row.seq
    assert report.first_broken.reason == (f"letter {meta.id}'s PDF was altered: it no longer matches "
                                          f"ledger row {row.seq}")


def test_a_pdf_slipped_into_a_letter_that_no_ledger_row_records_breaks_the_chain(store: Store) -> None:
    _open(store)
    meta = store.issue_letter("C-1:4:letter.eligibility", "C-1", "eligibility", "<p>Yes</p>", None,
                              "t", "a" * 64, "b" * 64)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE letter SET pdf = :p WHERE id = :i"), {"p": PDF, "i": meta.id})
    report = store.verify_chain(council="demo")
    assert report.first_broken is not None and report.first_broken.seq == meta.ledger_seq
    assert report.first_broken.reason == f"letter {meta.id} has a PDF that no ledger row records"
