"""Published rule bundles (content by hash, who published and approved) and users with roles."""

from __future__ import annotations

from datetime import date

import pytest

from carebudget.rulebook import get_registry
from carebudget.store import DuplicateEvent, InvalidInput, Store


def test_a_published_bundle_is_stored_by_hash_and_its_publication_chained(store: Store) -> None:
    bundle = get_registry().bundle("demo", date(2025, 6, 1))
    saved = store.save_bundle(bundle.hash, "demo", bundle.content, bundle.effective_from, "pat", None, "draft")
    assert saved.status == "draft" and saved.content == bundle.content
    approved = store.save_bundle(bundle.hash, "demo", bundle.content, bundle.effective_from, "pat", "amir", "published")
    assert (approved.status, approved.approved_by, approved.published_by) == ("published", "amir", "pat")
    assert store.get_bundle(bundle.hash) == approved
    assert [b.hash for b in store.list_bundles("demo")] == [bundle.hash]
    with store.engine.connect() as conn:
        actions = [r[0] for r in conn.exec_driver_sql("SELECT action FROM ledger ORDER BY seq")]
    assert actions == ["rules.draft", "rules.published"]
    assert store.verify_chain().ok


def test_a_bundle_cannot_be_approved_by_its_own_publisher(store: Store) -> None:
    bundle = get_registry().bundle("demo", date(2025, 6, 1))
    with pytest.raises(InvalidInput, match="someone other than its publisher"):
        store.save_bundle(bundle.hash, "demo", bundle.content, bundle.effective_from, "pat", "pat", "published")
    assert store.ledger_count() == 0


def test_publishing_again_with_a_different_approver_is_refused(store: Store) -> None:
    bundle = get_registry().bundle("demo", date(2025, 6, 1))
    store.save_bundle(bundle.hash, "demo", bundle.content, bundle.effective_from, "pat", "amir", "published")
    with pytest.raises(DuplicateEvent):
        store.save_bundle(bundle.hash, "demo", bundle.content, bundle.effective_from, "pat", "zoe", "published")
    assert store.get_bundle(bundle.hash).approved_by == "amir"


def test_users_are_created_listed_and_updated_without_exposing_the_password_hash(store: Store) -> None:
    created = store.create_user("ann", "Ann Approver", "approver", "$argon2id$x")
    assert not hasattr(created, "password_hash")
    store.create_user("cora", "Cora Compliance", "compliance", "$argon2id$y")
    assert [u.username for u in store.list_users()] == ["ann", "cora"]
    updated = store.update_user("ann", role="appeals_officer", active=False, password_hash="$argon2id$z")
    assert (updated.role, updated.active) == ("appeals_officer", False)
    record = store.get_user("ann")
    assert record is not None and record.password_hash == "$argon2id$z"
    assert store.get_user("nobody") is None


def test_role_changes_are_in_the_ledger_without_the_password_hash(store: Store) -> None:
    store.create_user("ann", "Ann", "approver", "secret-hash")
    store.update_user("ann", role="admin", password_hash="other-hash")
    with store.engine.connect() as conn:
        payloads = [r[0] for r in conn.exec_driver_sql("SELECT payload FROM ledger ORDER BY seq")]
    assert '"role":"admin"' in payloads[1] and '"password_changed":true' in payloads[1]
    assert not any("hash" in p.replace("password_changed", "") for p in payloads)
