"""One chain per council: numbered, verified and locked on its own (issue 16 point 2)."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest

from carebudget.store import InvalidInput, Store
from carebudget.store.db import write
from carebudget.store.ledger import append, chain_lock
from tests.store.conftest import tamper


def open_case(store: Store, case_id: str, council: str) -> None:
    store.upsert_case(f"{case_id}:opened", case_id, {"council": council, "stage": "assessment",
                                                     "opened": date(2026, 1, 5)}, "system", "system")


def test_each_councils_events_go_on_its_own_chain_numbered_from_one(store: Store) -> None:
    open_case(store, "A-1", "alpha")
    open_case(store, "B-1", "beta")
    a = store.append_event("a-2", "A-1", "jsmith", "social_worker", "update.accepted", {"step": "needs"})
    b = store.append_event("b-2", "B-1", "kjones", "social_worker", "update.accepted", {"step": "needs"})
    signin = store.append_event("signin-1", None, "cora", "compliance", "user.signed_in", {})
    national = store.append_event("nat-1", None, "nina", "national_admin", "policy.published",
                                  {"council": "england"}, chain="national")
    assert [(e.chain, e.seq) for e in (a, b, signin, national)] == [
        ("alpha", 2), ("beta", 2), ("service", 1), ("national", 1)]
    assert store.chains() == ["alpha", "beta", "national", "service"]
    assert store.ledger_count("alpha") == 2 and store.ledger_count() == 6
    report = store.verify_chain()
    assert report.ok and [(h.chain, h.rows) for h in report.chains] == [
        ("alpha", 2), ("beta", 2), ("national", 1), ("service", 1)]


def test_a_case_event_cannot_be_put_on_another_councils_chain(store: Store) -> None:
    open_case(store, "A-1", "alpha")
    with pytest.raises(InvalidInput, match="'alpha' chain, not 'beta'"):
        store.append_event("a-2", "A-1", "jsmith", "social_worker", "update.accepted", {}, chain="beta")
    with pytest.raises(InvalidInput, match="cannot move"):
        store.upsert_case("A-1:moved", "A-1", {"council": "beta"}, "jsmith", "social_worker")
    with pytest.raises(InvalidInput, match="not a council"):
        open_case(store, "S-1", "service")
    assert store.ledger_count() == 1


def test_verifying_one_council_reads_only_its_own_chain(store: Store) -> None:
    open_case(store, "A-1", "alpha")
    open_case(store, "B-1", "beta")
    store.append_event("b-2", "B-1", "kjones", "social_worker", "update.accepted", {"step": "needs"})
    tamper(store, "UPDATE ledger SET actor = 'mallory' WHERE chain = 'beta' AND seq = 2")
    alpha = store.verify_chain(council="alpha")
    assert alpha.ok and alpha.chain == "alpha" and alpha.rows == 1
    beta = store.verify_chain(council="beta")
    assert not beta.ok and beta.first_broken is not None
    assert (beta.first_broken.chain, beta.first_broken.seq) == ("beta", 2)
    whole = store.verify_chain()
    assert not whole.ok and whole.first_broken == beta.first_broken


def test_the_national_rules_chain_is_named_by_the_national_council_code(store: Store) -> None:
    store.append_event("nat-1", None, "nina", "national_admin", "policy.published", {}, chain="national")
    assert store.verify_chain(council="england").chain == "national"
    assert store.verify_chain(council="national").rows == 1


def append_in_thread(store: Store, key: str, case_id: str) -> tuple[threading.Thread, list[float]]:
    finished: list[float] = []

    def run() -> None:
        store.append_event(key, case_id, "kjones", "social_worker", "update.accepted", {"step": "needs"})
        finished.append(time.monotonic())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, finished


@pytest.mark.postgres
def test_on_postgresql_a_council_appends_while_another_councils_write_is_still_open(
    store: Store, store_url: str,
) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are a PostgreSQL property; SQLite's queueing is tested below")
    open_case(store, "A-1", "alpha")
    open_case(store, "B-1", "beta")
    other = Store(store_url)
    try:
        with write(store.engine, chain_lock("alpha")) as conn:
            append(conn, "a-2", "A-1", "jsmith", "social_worker", "update.accepted", {"step": "needs"})
            beta, beta_done = append_in_thread(other, "b-2", "B-1")
            beta.join(20)
            assert beta_done, "beta's append waited for alpha's open transaction"
            # The same council's next append does wait: the lock is real, and per chain.
            alpha, alpha_done = append_in_thread(other, "a-3", "A-1")
            alpha.join(1.5)
            assert not alpha_done
            committed = time.monotonic()
        alpha.join(20)
        assert alpha_done and alpha_done[0] >= committed
    finally:
        other.close()
    assert [e.seq for e in store.case_trail("A-1")] == [1, 2, 3]
    assert store.verify_chain().ok


def test_on_sqlite_every_write_queues_behind_an_open_write_whatever_the_council(
    store: Store, store_url: str,
) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    open_case(store, "A-1", "alpha")
    open_case(store, "B-1", "beta")
    other = Store(store_url)
    try:
        with write(store.engine, chain_lock("alpha")) as conn:
            append(conn, "a-2", "A-1", "jsmith", "social_worker", "update.accepted", {"step": "needs"})
            beta, beta_done = append_in_thread(other, "b-2", "B-1")
            beta.join(1.5)
            # One writer per SQLite database: the per-council chains do not help here.
            assert not beta_done
            committed = time.monotonic()
        beta.join(20)
        assert beta_done and beta_done[0] >= committed
    finally:
        other.close()
    assert store.verify_chain().ok
