"""Bad input of every kind gets a clear error naming what is wrong and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from carebudget.store import (
    BundleMismatch,
    DuplicateEvent,
    DuplicateUser,
    InvalidInput,
    Store,
    StoreError,
    UnknownBundle,
    UnknownCase,
    UnknownDecision,
    UnknownUser,
)

TABLES = ("ledger", "ledger_head", "case_list", "case_person", "decision", "rule_bundle", "app_user")


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    with store.engine.connect() as conn:
        return {t: sorted(tuple(map(str, r)) for r in conn.execute(text(f"SELECT * FROM {t}"))) for t in TABLES}


@pytest.fixture
def seeded(store: Store) -> Store:
    store.upsert_case("C-1:opened", "C-1", {"council": "demo", "stage": "assessment",
                                            "opened": date(2026, 1, 5), "name": "Ada Lovelace"},
                      "system", "system")
    store.append_event("ev-1", "C-1", "jsmith", "social_worker", "update.accepted", {"step": "assessment"})
    store.create_user("ann", "Ann Approver", "approver", "hash")
    return store


def ev(store: Store, **overrides: Any) -> Callable[[], Any]:
    args: dict[str, Any] = {"event_key": "ev-new", "case_id": "C-1", "actor": "jsmith",
                            "role": "social_worker", "action": "update.accepted", "payload": {"ok": True}}
    args.update(overrides)
    return lambda: store.append_event(**args)


CASES: list[tuple[str, Any, type[StoreError], str]] = [
    ("unknown case", lambda s: ev(s, case_id="C-404"), UnknownCase, "C-404"),
    ("duplicate event, other content", lambda s: ev(s, event_key="ev-1", payload={"step": "other"}), DuplicateEvent, "ev-1"),
    ("duplicate event, other action", lambda s: ev(s, event_key="ev-1", action="update.refused",
                                                   payload={"step": "assessment"}), DuplicateEvent, "ev-1"),
    ("payload a list", lambda s: ev(s, payload=[1, 2]), InvalidInput, "payload must be a JSON object"),
    ("payload a string", lambda s: ev(s, payload="{}"), InvalidInput, "payload must be a JSON object"),
    ("payload with NaN", lambda s: ev(s, payload={"x": float("nan")}), InvalidInput, "payload is not JSON"),
    ("payload with a set", lambda s: ev(s, payload={"x": {1}}), InvalidInput, "payload is not JSON"),
    ("payload with a non-string key", lambda s: ev(s, payload={1: "x"}), InvalidInput, "non-string key"),
    ("personal not an object", lambda s: ev(s, personal=["Ada"]), InvalidInput, "personal must be a JSON object"),
    ("empty event key", lambda s: ev(s, event_key=" "), InvalidInput, "event_key"),
    ("unknown role", lambda s: ev(s, role="superuser"), InvalidInput, "unknown role 'superuser'"),
    ("bad action", lambda s: ev(s, action="Update Accepted"), InvalidInput, "action"),
    ("empty actor", lambda s: ev(s, actor=""), InvalidInput, "actor"),
    ("case opened without a council", lambda s: lambda: s.upsert_case(
        "C-2:opened", "C-2", {"stage": "assessment", "opened": date(2026, 1, 1)}, "system", "system"),
     InvalidInput, "needs council"),
    ("case update with an unknown field", lambda s: lambda: s.upsert_case(
        "C-1:x", "C-1", {"colour": "red"}, "system", "system"), InvalidInput, "colour"),
    ("case update with a bad amount", lambda s: lambda: s.upsert_case(
        "C-1:x", "C-1", {"amounts": {"personal_budget": "lots"}}, "system", "system"),
     InvalidInput, "amounts.personal_budget"),
    ("case update with a bad date", lambda s: lambda: s.upsert_case(
        "C-1:x", "C-1", {"due": "next tuesday"}, "system", "system"), InvalidInput, "update.due"),
    ("case update reusing an event key", lambda s: lambda: s.upsert_case(
        "ev-1", "C-1", {"stage": "support_plan"}, "system", "system"), DuplicateEvent, "ev-1"),
    ("list with an unknown filter", lambda s: lambda: s.list_cases({"colour": "red"}), InvalidInput, "colour"),
    ("list page zero", lambda s: lambda: s.list_cases(None, {"number": 0}), InvalidInput, "page.number"),
    ("get unknown case", lambda s: lambda: s.get_case("C-404"), UnknownCase, "C-404"),
    ("decision for an unknown kind", lambda s: lambda: s.record_decision(
        "d-1", "C-1", "horoscope", {}, "jsmith", "social_worker"), InvalidInput, "horoscope"),
    ("decision record without its bundle", lambda s: lambda: s.record_decision(
        "d-1", "C-1", "eligibility", {"kind": "eligibility", "council": "demo", "date": "2026-01-01",
                                      "input": {}}, "jsmith", "social_worker"),
     InvalidInput, "record.rules.bundle"),
    ("decision under a bundle not stored and not current", lambda s: lambda: s.record_decision(
        "d-1", "C-1", "eligibility", {"kind": "eligibility", "council": "demo", "date": "2026-01-01",
                                      "rules": {"bundle": "a" * 64}, "input": {}}, "jsmith", "social_worker"),
     BundleMismatch, "not stored"),
    ("unknown decision", lambda s: lambda: s.get_decision(404), UnknownDecision, "404"),
    ("bundle whose content does not match its hash", lambda s: lambda: s.save_bundle(
        "b" * 64, "demo", {"format": 1, "council": "demo"}, date(2026, 4, 1), "pat"), BundleMismatch, "hashes to"),
    ("bundle with a malformed hash", lambda s: lambda: s.save_bundle(
        "xyz", "demo", {}, date(2026, 4, 1), "pat"), InvalidInput, "64 lower-case hex"),
    ("unknown bundle", lambda s: lambda: s.get_bundle("c" * 64), UnknownBundle, "c" * 64),
    ("user with an unknown role", lambda s: lambda: s.create_user("bob", "Bob", "king", "h"), InvalidInput, "'king'"),
    ("user with a taken username", lambda s: lambda: s.create_user("ann", "Ann 2", "approver", "h"),
     DuplicateUser, "'ann' is taken"),
    ("user with a bad username", lambda s: lambda: s.create_user("a b", "A B", "approver", "h"), InvalidInput, "username"),
    ("update of an unknown user", lambda s: lambda: s.update_user("zed", active=False), UnknownUser, "zed"),
    ("update to an unknown role", lambda s: lambda: s.update_user("ann", role="king"), InvalidInput, "'king'"),
]


@pytest.mark.parametrize(("what", "call", "error", "names"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_by_name_and_changes_nothing(
        seeded: Store, what: str, call: Any, error: type[StoreError], names: str) -> None:
    before = snapshot(seeded)
    with pytest.raises(error) as caught:
        call(seeded)()
    assert names in str(caught.value)
    assert caught.value.to_json()["error"] == error.__name__
    assert snapshot(seeded) == before
    assert seeded.verify_chain().ok
