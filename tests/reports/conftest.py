"""Reports run against a generated caseload on SQLite and PostgreSQL (the store tests' databases)."""

from __future__ import annotations

from tests.store.conftest import postgres_database, store, store_url  # noqa: F401 - fixtures
