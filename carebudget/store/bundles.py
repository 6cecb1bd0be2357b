"""Published rule bundles, stored by content hash so any past decision can be re-run exactly."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, select

from carebudget.store import ledger
from carebudget.store.db import aware, canonical_json, read, utcnow, write
from carebudget.store.errors import BundleMismatch, DuplicateEvent, InvalidInput, UnknownBundle
from carebudget.store.models import BUNDLES
from carebudget.store.schemas import BundleRecord

STATUSES: tuple[str, ...] = ("draft", "approved", "published", "withdrawn")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def content_text(hash: str, content: Any) -> str:
    if not isinstance(hash, str) or not HEX64.match(hash):
        raise InvalidInput(f"bundle hash must be 64 lower-case hex digits, got {hash!r}", "hash")
    if not isinstance(content, Mapping):
        raise InvalidInput("bundle content must be a JSON object", "content")
    text = canonical_json(dict(content), "content")
    actual = hashlib.sha256(text.encode()).hexdigest()
    if actual != hash:
        raise BundleMismatch(f"bundle content hashes to {actual}, not {hash}", "content")
    return text


def to_record(m: Mapping[Any, Any]) -> BundleRecord:
    return BundleRecord(hash=m["hash"], council=m["council"], content=json.loads(m["content"]),
                        effective_from=m["effective_from"], published_by=m["published_by"],
                        approved_by=m["approved_by"], status=m["status"], saved_at=aware(m["saved_at"]))


def store_content(conn: Connection, hash: str, text: str, council: str, effective_from: date,
                  published_by: str, approved_by: str | None, status: str) -> bool:
    """Insert the bundle if absent (inside the caller's write transaction); True if inserted."""
    if conn.execute(select(BUNDLES.c.hash).where(BUNDLES.c.hash == hash)).first():
        return False
    conn.execute(BUNDLES.insert().values(
        hash=hash, council=council, content=text, effective_from=effective_from,
        published_by=published_by, approved_by=approved_by, status=status, saved_at=utcnow()))
    return True


def save(engine: Engine, hash: str, council: str, content: Any, effective_from: date,
         published_by: str, approved_by: str | None, status: str) -> BundleRecord:
    text = content_text(hash, content)
    ledger.check_text(council, "council", 60)
    ledger.check_text(published_by, "published_by", 200)
    if approved_by is not None:
        ledger.check_text(approved_by, "approved_by", 200)
    if status not in STATUSES:
        raise InvalidInput(f"unknown bundle status {status!r}; one of {', '.join(STATUSES)}", "status")
    if not isinstance(effective_from, date):
        raise InvalidInput("effective_from must be a date", "effective_from")
    if status in ("approved", "published") and approved_by is not None and approved_by == published_by:
        raise InvalidInput("a bundle's approver must be someone other than its publisher", "approved_by")
    if json.loads(text).get("council", council) != council:
        raise InvalidInput(f"bundle content is for council {json.loads(text)['council']!r}, not {council!r}", "council")
    actor = approved_by if status == "approved" and approved_by else published_by
    payload = {"hash": hash, "council": council, "effective_from": effective_from.isoformat(),
               "status": status, "published_by": published_by, "approved_by": approved_by}
    chain = ledger.chain_for_council(council)
    with write(engine, ledger.chain_lock(chain)) as conn:
        row = conn.execute(select(BUNDLES).where(BUNDLES.c.hash == hash)).first()
        if row is not None and row._mapping["council"] != council:
            raise DuplicateEvent(f"bundle {hash} is stored for council {row._mapping['council']!r}", "council")
        ledger.append(conn, f"bundle:{hash}:{status}", None, actor, "policy_admin", f"rules.{status}", payload,
                      chain=chain)
        if not store_content(conn, hash, text, council, effective_from, published_by, approved_by, status):
            conn.execute(BUNDLES.update().where(BUNDLES.c.hash == hash).values(
                status=status, approved_by=approved_by, published_by=published_by,
                effective_from=effective_from))
        return to_record(conn.execute(select(BUNDLES).where(BUNDLES.c.hash == hash)).one()._mapping)


def keep(engine: Engine, hash: str, council: str, content: Any, effective_from: date) -> bool:
    """Store the content of a bundle a decision was made under, if not already stored."""
    ledger.check_text(council, "council", 60)
    with read(engine) as conn:
        if conn.execute(select(BUNDLES.c.hash).where(BUNDLES.c.hash == hash)).first():
            return False
    text = content_text(hash, content)
    # The council's chain lock also serialises decisions.record storing the same bundle.
    with write(engine, ledger.chain_lock(ledger.chain_for_council(council))) as conn:
        return store_content(conn, hash, text, council, effective_from, "rule-files", None, "published")


def get(engine: Engine, hash: str) -> BundleRecord:
    with read(engine) as conn:
        row = conn.execute(select(BUNDLES).where(BUNDLES.c.hash == hash)).first()
    if row is None:
        raise UnknownBundle(f"no stored rule bundle with hash {hash!r}", "hash")
    return to_record(row._mapping)


def list_all(engine: Engine, council: str | None) -> list[BundleRecord]:
    q = select(BUNDLES).order_by(BUNDLES.c.council, BUNDLES.c.effective_from)
    if council is not None:
        q = q.where(BUNDLES.c.council == council)
    with read(engine) as conn:
        return [to_record(r._mapping) for r in conn.execute(q)]


def check_contents(conn: Connection, council: str) -> str | None:
    """Bundles are content-addressed: each of the council's must still hash to its own key."""
    for hash, text in conn.execute(select(BUNDLES.c.hash, BUNDLES.c.content).where(BUNDLES.c.council == council)
                                   .order_by(BUNDLES.c.hash)):
        if hashlib.sha256(text.encode()).hexdigest() != hash:
            return f"rule bundle {hash} was altered: its content no longer hashes to its key"
    return None
