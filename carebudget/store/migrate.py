"""Apply the committed Alembic migrations (migrations/) to a database, once, even if raced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from carebudget.store.db import MIGRATE_LOCK_KEY, write

MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, keys: Any = None, revision: str = "head") -> None:
    """`keys` (a signing.Keyring) signs the chain heads a migration writes; default: settings."""
    # One transaction under the write lock: two processes starting at once cannot both create tables.
    with write(engine, MIGRATE_LOCK_KEY) as conn:
        cfg = config()
        cfg.attributes["connection"] = conn
        cfg.attributes["ledger_keys"] = keys
        command.upgrade(cfg, revision)
