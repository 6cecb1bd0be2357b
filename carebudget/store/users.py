"""Users and their roles. Passwords are hashed and checked by the web app; we keep the hash."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, select

from carebudget.store import ledger
from carebudget.store.db import aware, read, utcnow, write
from carebudget.store.errors import ActorRefused, DuplicateUser, InvalidInput, UnknownUser
from carebudget.store.models import USERS
from carebudget.store.roles import DEFAULT_COUNCIL, NATIONAL_ROLES, ROLES
from carebudget.store.schemas import UserPublic, UserRecord

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
COUNCIL = re.compile(r"^[a-z0-9_-]{1,40}$")
TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 &'().,/-]{0,59}$")
# The name the service writes its own ledger rows under (workflows.models.SYSTEM): no person may
# sign in as it, or their steps would read as the service's.
RESERVED = frozenset({"carebudget", "system"})
UNSET: Any = object()


def _check_role(role: Any) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; one of {', '.join(ROLES)}", "role")
    return str(role)


def _check_username(username: Any) -> str:
    if not isinstance(username, str) or not USERNAME.match(username):
        raise InvalidInput(f"username {username!r} must be 1-100 letters, digits or . _ @ -", "username")
    return username


def _check_council(role: str, council: Any) -> str | None:
    """A national role has no council; every other role belongs to exactly one."""
    if role in NATIONAL_ROLES:
        if council is not None:
            raise InvalidInput(f"a {role} works for England as a whole: give no council", "council")
        return None
    if not isinstance(council, str) or not COUNCIL.match(council):
        raise InvalidInput(f"a {role} belongs to one council: give its code (lower-case letters, "
                           f"digits, - or _), not {council!r}", "council")
    return council


def check_team(team: Any) -> str | None:
    """A team name as the administrator typed it, trimmed; empty means no team."""
    if team is None:
        return None
    if not isinstance(team, str):
        raise InvalidInput(f"team must be text, not {type(team).__name__}", "team")
    team = " ".join(team.split())
    if not team:
        return None
    if not TEAM.match(team):
        raise InvalidInput(f"team {team[:60]!r}: use 1-60 letters, digits, spaces and & ' ( ) . , / -, "
                           "starting with a letter or digit", "team")
    return team


def _record(m: Mapping[Any, Any]) -> UserRecord:
    return UserRecord(username=m["username"], display_name=m["display_name"], role=m["role"],
                      council=m["council"], team=m["team"], active=bool(m["active"]),
                      created_at=aware(m["created_at"]), password_hash=m["password_hash"])


def _audit(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "password_hash"} | (
        {"password_changed": True} if "password_hash" in values else {})


def create(engine: Engine, username: str, display_name: str, role: str, password_hash: str,
           active: bool, actor: str = "admin", council: Any = UNSET, team: Any = None) -> UserPublic:
    """Add a user; `council` left out means the demo council (none for a national role)."""
    _check_username(username)
    if username.lower() in RESERVED:
        raise InvalidInput(f"username {username!r} is the service's own name; choose another", "username")
    ledger.check_text(display_name, "display_name", 200)
    _check_role(role)
    if council is UNSET:
        council = None if role in NATIONAL_ROLES else DEFAULT_COUNCIL
    council = _check_council(role, council)
    team = check_team(team)
    if team is not None and council is None:
        raise InvalidInput(f"a {role} works for England as a whole, not in a council's team: give no team", "team")
    ledger.check_text(password_hash, "password_hash", 500)
    with write(engine, ledger.chain_lock(ledger.SERVICE)) as conn:
        if conn.execute(select(USERS.c.username).where(USERS.c.username == username)).first():
            raise DuplicateUser(f"username {username!r} is taken", "username")
        values = {"username": username, "display_name": display_name, "role": role,
                  "council": council, "password_hash": password_hash, "active": bool(active)}
        if team is not None:  # written to the ledger only when set: users without teams read as before
            values["team"] = team
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
    """Change the given fields; None leaves a field as it is, except `team`, where "" clears it."""
    values = {k: v for k, v in changes.items() if v is not None}
    if "team" in values:
        values["team"] = check_team(values["team"])
    if "role" in values:
        _check_role(values["role"])
    if "display_name" in values:
        ledger.check_text(values["display_name"], "display_name", 200)
    if "password_hash" in values:
        ledger.check_text(values["password_hash"], "password_hash", 500)
    if "active" in values:
        values["active"] = bool(values["active"])
    with write(engine, ledger.chain_lock(ledger.SERVICE)) as conn:
        found = conn.execute(select(USERS).where(USERS.c.username == username)).first()
        if found is None:
            raise UnknownUser(f"no user {username!r}", "username")
        if "role" in values or "council" in values:
            role = values.get("role", found._mapping["role"])
            council = values.get("council", found._mapping["council"])
            if role in NATIONAL_ROLES and "council" not in values:
                council = None
            elif council is None:
                council = DEFAULT_COUNCIL
            values["council"] = _check_council(role, council)
        if values.get("team") is not None and values.get("council", found._mapping["council"]) is None:
            raise InvalidInput(f"{username} works for England as a whole, not in a council's team: give no team",
                               "team")
        if values:
            conn.execute(USERS.update().where(USERS.c.username == username).values(**values))
            ledger.append(conn, f"user:{username}:updated:{uuid.uuid4().hex}", None, actor, "admin",
                          "user.updated", {"username": username, **_audit(values)})
        return _record(conn.execute(select(USERS).where(USERS.c.username == username)).one()._mapping).public()


def check_actor(conn: Connection, username: str, roles: Collection[str], council: str) -> None:
    """The actor of a step on a `council` case is an active user, in one of `roles`, of that
    council (issue 11: identity comes from sign-in, never from a name a caller makes up)."""
    row = conn.execute(select(USERS).where(USERS.c.username == username)).first()
    if row is None:
        raise ActorRefused(f"{username!r} is not a user of the service, so the step is not recorded; "
                           "sign in as yourself", "actor")
    user = _record(row._mapping)
    if not user.active:
        raise ActorRefused(f"{username} may no longer sign in, so the step is not recorded", "actor")
    if user.role not in roles:
        raise ActorRefused(f"{username} is signed up as {user.role}; this step is taken by "
                           f"{' or '.join(sorted(roles))}", "actor")
    if user.council != council:
        works_for = f"council {user.council}" if user.council else "England as a whole"
        raise ActorRefused(f"{username} works for {works_for}, not for council {council} whose "
                           "case this is", "actor")
