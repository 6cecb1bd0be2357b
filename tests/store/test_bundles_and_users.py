"""Published rule bundles (content by hash, who published and approved) and users with roles."""

from __future__ import annotations

from datetime import date
from pathlib import Path

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


def test_a_user_belongs_to_one_council_and_a_national_role_to_none(store: Store) -> None:
    assert store.create_user("sw-b", "B", "social_worker", "h", council="bravo").council == "bravo"
    assert store.create_user("sw-default", "D", "social_worker", "h").council == "demo"
    assert store.create_user("nat-1", "N", "national_admin", "h").council is None
    with pytest.raises(InvalidInput, match="works for England as a whole: give no council"):
        store.create_user("nat-2", "N", "national_admin", "h", council="demo")
    with pytest.raises(InvalidInput, match="belongs to one council"):
        store.create_user("sw-none", "S", "social_worker", "h", council=None)
    with pytest.raises(InvalidInput, match="belongs to one council"):
        store.create_user("sw-bad", "S", "social_worker", "h", council="Not A Code!")
    with pytest.raises(InvalidInput, match="the service's own name"):
        store.create_user("carebudget", "S", "social_worker", "h")
    # Becoming national drops the council; leaving a national role takes the demo council.
    assert store.update_user("sw-b", role="national_admin").council is None
    assert store.update_user("sw-b", role="social_worker", council="bravo").council == "bravo"
    assert [e.payload["council"] for e in store.ledger_events("user.created")
            if e.payload["username"] == "sw-b"] == ["bravo"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url_at_0006(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database at revision 0006 (before users had a council)."""
    from carebudget.store import migrate
    from tests.store.conftest import postgres_schema_url

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url, _ = postgres_schema_url(request.getfixturevalue("postgres_database"))
    old = Store(url)
    migrate.upgrade(old.engine, None, "0006")
    old.close()
    return url


def test_migration_0008_puts_existing_users_in_the_demo_council_and_national_ones_in_none(
    url_at_0006: str,
) -> None:
    from sqlalchemy import text

    old = Store(url_at_0006)
    with old.engine.begin() as conn:
        for name, role in (("sw-old", "social_worker"), ("nat-old", "national_admin")):
            conn.execute(text("INSERT INTO app_user (username, display_name, role, password_hash, active, "
                              "created_at) VALUES (:u, :u, :r, 'h', true, '2026-01-01 10:00:00+00:00')"),
                         {"u": name, "r": role})
    old.close()
    store = Store(url_at_0006)
    store.migrate()
    got = {(u.username, u.council) for u in store.list_users()}
    assert got == {("sw-old", "demo"), ("nat-old", None)}
