"""Users and their roles. Passwords are hashed and checked by the web app; we keep the hash."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, select

from carebudget.store import ledger
from carebudget.store.db import aware, read, utcnow, write
from carebudget.store.errors import DuplicateUser, InvalidInput, UnknownUser
from carebudget.store.models import USERS
from carebudget.store.roles import ROLES
from carebudget.store.schemas import UserPublic, UserRecord

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


def _check_role(role: Any) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; one of {', '.join(ROLES)}", "role")
    return str(role)


def _check_username(username: Any) -> str:
    if not isinstance(username, str) or not USERNAME.match(username):
        raise InvalidInput(f"username {username!r} must be 1-100 letters, digits or . _ @ -", "username")
    return username


def _record(m: Mapping[Any, Any]) -> UserRecord:
    return UserRecord(username=m["username"], display_name=m["display_name"], role=m["role"],
                      active=bool(m["active"]), created_at=aware(m["created_at"]),
                      password_hash=m["password_hash"])


def _audit(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "password_hash"} | (
        {"password_changed": True} if "password_hash" in values else {})


def create(engine: Engine, username: str, display_name: str, role: str, password_hash: str,
           active: bool, actor: str = "admin") -> UserPublic:
    _check_username(username)
    ledger.check_text(display_name, "display_name", 200)
    _check_role(role)
    ledger.check_text(password_hash, "password_hash", 500)
    with write(engine, ledger.chain_lock(ledger.SERVICE)) as conn:
        if conn.execute(select(USERS.c.username).where(USERS.c.username == username)).first():
            raise DuplicateUser(f"username {username!r} is taken", "username")
        values = {"username": username, "display_name": display_name, "role": role,
                  "password_hash": password_hash, "active": bool(active)}
        conn.execute(USERS.insert().values(created_at=utcnow(), **values))
        ledger.append(conn, f"user:{username}:created", None, actor, "admin", "user.created", _audit(values))
        return _record(conn.execute(select(USERS).where(USERS.c.username == username)).one()._mapping).public()


def get(engine: Engine, username: str) -> UserRecord | None:
    with read(engine) as conn:
        row = conn.execute(select(USERS).where(USERS.c.username == username)).first()
    return None if row is None else _record(row._mapping)


def list_all(engine: Engine) -> list[UserPublic]:
    with read(engine) as conn:
        return [_record(r._mapping).public() for r in conn.execute(select(USERS).order_by(USERS.c.username))]


def update(engine: Engine, username: str, actor: str = "admin", **changes: Any) -> UserPublic:
    values = {k: v for k, v in changes.items() if v is not None}
    if "role" in values:
        _check_role(values["role"])
    if "display_name" in values:
        ledger.check_text(values["display_name"], "display_name", 200)
    if "password_hash" in values:
        ledger.check_text(values["password_hash"], "password_hash", 500)
    if "active" in values:
        values["active"] = bool(values["active"])
    with write(engine, ledger.chain_lock(ledger.SERVICE)) as conn:
        if not conn.execute(select(USERS.c.username).where(USERS.c.username == username)).first():
            raise UnknownUser(f"no user {username!r}", "username")
        if values:
            conn.execute(USERS.update().where(USERS.c.username == username).values(**values))
            ledger.append(conn, f"user:{username}:updated:{uuid.uuid4().hex}", None, actor, "admin",
                          "user.updated", {"username": username, **_audit(values)})
        return _record(conn.execute(select(USERS).where(USERS.c.username == username)).one()._mapping).public()
