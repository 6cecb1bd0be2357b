"""Appends from several processes at once form one valid chain, each event written once."""

from __future__ import annotations

import multiprocessing
from datetime import date

from carebudget.store import Store

PER_PROCESS = 150


def append_many(url: str, worker: str, ready: multiprocessing.synchronize.Barrier) -> None:  # type: ignore[name-defined]
    store = Store(url)
    store.ledger_count()  # connected and warmed up before the race starts
    ready.wait(60)
    for i in range(PER_PROCESS):
        store.append_event(f"{worker}:{i}", "C-1", worker, "system", "timer.fired", {"i": i})
        # Both workers also deliver the same event, as a retried activity on another worker would.
        store.append_event(f"shared:{i}", "C-1", "worker", "system", "update.accepted", {"i": i})
    store.close()


def test_two_processes_appending_at_once_form_one_chain(store: Store, store_url: str) -> None:
    store.upsert_case("C-1:opened", "C-1", {"council": "demo", "stage": "assessment",
                                            "opened": date(2026, 1, 5)}, "system", "system")
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Barrier(2)
    workers = [ctx.Process(target=append_many, args=(store_url, f"w{n}", ready)) for n in (1, 2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]

    report = store.verify_chain()
    assert report.ok, report.first_broken
    trail = store.case_trail("C-1")
    assert len(trail) == 1 + 2 * PER_PROCESS + PER_PROCESS
    assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
    keys = [e.event_key for e in trail]
    assert len(set(keys)) == len(keys)
    assert sorted(e.actor for e in trail if e.action == "timer.fired") == ["w1"] * PER_PROCESS + ["w2"] * PER_PROCESS
