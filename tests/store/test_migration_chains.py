"""Migration 0005 moves a single-chain ledger into per-council chains, re-hashed and re-pointed."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from carebudget.store import Store, migrate
from carebudget.store.signing import Keyring
from tests.store.conftest import postgres_schema_url

spec = importlib.util.spec_from_file_location(
    "m0005", Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0005_ledger_chains.py")
assert spec is not None and spec.loader is not None
m0005: Any = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m0005)

KEYS = Keyring.from_text("migration-test-key-0123456789abcdef")
# (case_id, action, payload, personal) of the old single chain, in order.
EVENTS: list[tuple[str | None, str, dict[str, Any], dict[str, Any] | None]] = [
    ("A-1", "case.opened", {"case": {"council": "alpha", "stage": "assessment", "opened": "2026-01-05"}},
     {"name": "Ada"}),
    ("B-1", "case.opened", {"case": {"council": "beta", "stage": "assessment", "opened": "2026-01-06"}}, None),
    (None, "user.signed_in", {"via": "web"}, None),
    ("A-1", "case.updated", {"case": {"stage": "sign_off"}}, None),
    (None, "policy.published", {"council": "england", "seq": 1}, None),
    ("B-1", "update.accepted", {"step": "needs"}, None),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def old_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """An empty database at revision 0003 (one chain)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url, _ = postgres_schema_url(request.getfixturevalue("postgres_database"))
    store = Store(url, keys=KEYS)
    migrate.upgrade(store.engine, KEYS, "0003")
    store.close()
    return url


def write_old_chain(url: str, events: list[Any], break_row: int | None = None) -> list[str]:
    engine = create_engine(url)
    prev, hashes = "0" * 64, []
    with engine.begin() as conn:
        for seq, (case_id, action, payload, personal) in enumerate(events, 1):
            at = f"2026-01-0{seq}T10:00:00.000000Z"
            p = json.dumps(payload, sort_keys=True, separators=(",", ":"))
            q = None if personal is None else json.dumps(personal, sort_keys=True, separators=(",", ":"))
            digest = hashlib.sha256(m0005.old_document(seq, at, f"ev-{seq}", case_id, "jsmith", "social_worker",
                                                       action, p, q, prev).encode()).hexdigest()
            stored = p if seq != break_row else '{"forged":true}'
            conn.execute(text("INSERT INTO ledger VALUES (:s, :at, :k, :c, 'jsmith', 'social_worker', :a, :p, :q, "
                              ":prev, :h)"), {"s": seq, "at": at, "k": f"ev-{seq}", "c": case_id, "a": action,
                                               "p": stored, "q": q, "prev": prev, "h": digest})
            prev = digest
            hashes.append(digest)
        conn.execute(text("INSERT INTO ledger_head VALUES (1, :s, :h)"), {"s": len(events), "h": prev})
        for case_id, council, opened, stage, last, day in (("A-1", "alpha", "2026-01-05", "sign_off", 4, 4),
                                                            ("B-1", "beta", "2026-01-06", "assessment", 2, 2)):
            conn.execute(text("INSERT INTO case_list (case_id, council, stage, opened, amounts, updated_at, last_seq) "
                              "VALUES (:i, :c, :st, :o, '{}', :u, :l)"),
                         {"i": case_id, "c": council, "st": stage, "o": opened, "l": last,
                          "u": f"2026-01-0{day} 10:00:00+00:00"})
        conn.execute(text("INSERT INTO case_person (case_id, name) VALUES ('A-1', 'Ada')"))
    engine.dispose()
    return hashes


def test_the_old_chain_is_split_by_council_renumbered_and_verifies(old_url: str) -> None:
    old = write_old_chain(old_url, EVENTS)
    store = Store(old_url, keys=KEYS)
    store.migrate()
    assert store.chains() == ["alpha", "beta", "national", "service"]
    trail = store.case_trail("A-1", role="compliance")
    assert [(e.chain, e.seq, e.action) for e in trail] == [("alpha", 1, "case.opened"), ("alpha", 2, "case.updated")]
    assert store.get_case("A-1").last_seq == 2 and store.get_case("B-1").last_seq == 1
    resharded = store.ledger_events("ledger.resharded")
    assert {e.chain for e in resharded} == {"alpha", "beta", "national", "service"}
    assert all(e.payload["from_head_hash"] == old[-1] and e.payload["from_head_seq"] == 6 for e in resharded)
    report = store.verify_chain()
    assert report.ok, report.first_broken
    assert [(h.chain, h.rows) for h in report.chains] == [("alpha", 3), ("beta", 3), ("national", 2), ("service", 2)]
    store.append_event("after", "B-1", "jsmith", "social_worker", "update.accepted", {})
    assert store.verify_chain(council="beta").ok
    store.close()


def test_a_broken_old_chain_is_not_migrated(old_url: str) -> None:
    write_old_chain(old_url, EVENTS, break_row=3)
    store = Store(old_url, keys=KEYS)
    with pytest.raises(RuntimeError, match=r"existing chain is broken \(row 3 is missing, out of order or altered\)"):
        store.migrate()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "0003"
    store.close()
