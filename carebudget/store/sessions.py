"""Server-side sessions: a session is valid only while its row says so (sign-out revokes it)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Engine, select

from carebudget.store.db import aware, read, utcnow, write
from carebudget.store.models import SESSIONS


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def create(engine: Engine, username: str, role: str, kind: str, ttl_seconds: int) -> str:
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    with write(engine) as conn:
        conn.execute(SESSIONS.insert().values(
            sid_hash=_hash(sid), username=username, role=role, kind=kind, created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds), revoked_at=None))
    return sid


def active(engine: Engine, sid: str) -> tuple[str, str] | None:
    """(username, role) of a live session, or None if unknown, expired or revoked."""
    if not isinstance(sid, str) or not 20 <= len(sid) <= 100:
        return None
    with read(engine) as conn:
        row = conn.execute(select(SESSIONS).where(SESSIONS.c.sid_hash == _hash(sid))).first()
    if row is None:
        return None
    m = row._mapping
    if m["revoked_at"] is not None or aware(m["expires_at"]) <= utcnow():
        return None
    return str(m["username"]), str(m["role"])


def revoke(engine: Engine, sid: str) -> None:
    with write(engine) as conn:
        conn.execute(SESSIONS.update().where(SESSIONS.c.sid_hash == _hash(sid))
                     .where(SESSIONS.c.revoked_at.is_(None)).values(revoked_at=utcnow()))


def revoke_user(engine: Engine, username: str) -> None:
    with write(engine) as conn:
        conn.execute(SESSIONS.update().where(SESSIONS.c.username == username)
                     .where(SESSIONS.c.revoked_at.is_(None)).values(revoked_at=utcnow()))
