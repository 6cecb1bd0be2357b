"""The append-only ledger: a sha256 hash chain over canonical JSON rows, idempotent on event key."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from carebudget.store.db import canonical_json, is_postgres, utcnow
from carebudget.store.errors import DuplicateEvent, InvalidInput, UnknownCase
from carebudget.store.models import CASES, HEAD, LEDGER
from carebudget.store.roles import LEDGER_ROLES
from carebudget.store.schemas import BrokenRow, LedgerEntry, VerifyReport

GENESIS = "0" * 64
ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_<>-]+)*$")
COLUMNS = "seq, at, event_key, case_id, actor, role, action, payload, personal, prev_hash, hash"
Progress = Callable[[int, int], None]


def row_document(seq: int, at: str, event_key: str, case_id: str | None, actor: str, role: str,
                 action: str, payload: str, personal: str | None, prev_hash: str) -> str:
    """Canonical JSON of a row (sorted keys), built from the stored canonical payload texts.

    Equal to canonical_json of the same row as a dict when payload/personal are canonical, and
    fast enough to re-hash a million rows in a few seconds.
    """
    e = encode_basestring
    return (
        f'{{"action":{e(action)},"actor":{e(actor)},"at":{e(at)},'
        f'"case_id":{"null" if case_id is None else e(case_id)},"event_key":{e(event_key)},'
        f'"payload":{payload},"personal":{"null" if personal is None else personal},'
        f'"prev_hash":{e(prev_hash)},"role":{e(role)},"seq":{seq}}}'
    )


def row_hash(*fields: Any) -> str:
    return hashlib.sha256(row_document(*fields).encode()).hexdigest()


def format_at(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_text(value: Any, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must be a non-empty string, got {value!r}", field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field)
    if any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise InvalidInput(f"{field} contains a control character or lone surrogate: {value!r}", field)
    return value


def check_object(value: Any, field: str) -> str:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field} must be a JSON object, got {type(value).__name__}", field)
    for key in value:
        if not isinstance(key, str):
            raise InvalidInput(f"{field} has a non-string key {key!r}", field)
    text = canonical_json(dict(value), field)
    try:
        text.encode()
    except UnicodeEncodeError:
        raise InvalidInput(f"{field} contains text that is not valid Unicode (a lone surrogate)", field) from None
    return text


def check_event(event_key: str, case_id: str | None, actor: str, role: str, action: str,
                payload: Any, personal: Any) -> tuple[str, str | None]:
    check_text(event_key, "event_key", 200)
    if case_id is not None:
        check_text(case_id, "case_id", 100)
    check_text(actor, "actor", 200)
    if role not in LEDGER_ROLES:
        raise InvalidInput(f"unknown role {role!r}; one of {', '.join(LEDGER_ROLES)}", "role")
    check_text(action, "action", 100)
    if not ACTION.match(action):
        raise InvalidInput(f"action {action!r} must be dotted lower-case words, e.g. update.accepted", "action")
    payload_text = check_object(payload, "payload")
    personal_text = None if personal is None else check_object(personal, "personal")
    return payload_text, personal_text


def to_entry(row: Any) -> LedgerEntry:
    m = row._mapping
    return LedgerEntry(
        seq=m["seq"], at=datetime.fromisoformat(m["at"]), event_key=m["event_key"],
        case_id=m["case_id"], actor=m["actor"], role=m["role"], action=m["action"],
        payload=json.loads(m["payload"]),
        personal=None if m["personal"] is None else json.loads(m["personal"]),
        prev_hash=m["prev_hash"], hash=m["hash"],
    )


def append(conn: Connection, event_key: str, case_id: str | None, actor: str, role: str,
           action: str, payload: Any, personal: Any = None, *, case_must_exist: bool = True) -> LedgerEntry:
    """Append inside a write transaction (see db.write); the caller's transaction commits it."""
    payload_text, personal_text = check_event(event_key, case_id, actor, role, action, payload, personal)
    existing = conn.execute(select(LEDGER).where(LEDGER.c.event_key == event_key)).first()
    if existing is not None:
        m = existing._mapping
        same = (m["case_id"], m["actor"], m["role"], m["action"], m["payload"], m["personal"]) == (
            case_id, actor, role, action, payload_text, personal_text)
        if not same:
            raise DuplicateEvent(
                f"event key {event_key!r} was already used for a different event "
                f"(ledger row {m['seq']}, action {m['action']!r}); nothing written", "event_key")
        return to_entry(existing)
    if case_id is not None and case_must_exist:
        known = conn.execute(select(CASES.c.case_id).where(CASES.c.case_id == case_id)).first()
        if known is None:
            raise UnknownCase(f"case {case_id!r} is not on the case list; open it with upsert_case first", "case_id")
    head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    at = format_at(utcnow())
    digest = row_hash(seq, at, event_key, case_id, actor, role, action, payload_text, personal_text, prev)
    conn.execute(LEDGER.insert().values(
        seq=seq, at=at, event_key=event_key, case_id=case_id, actor=actor, role=role,
        action=action, payload=payload_text, personal=personal_text, prev_hash=prev, hash=digest))
    if head:
        conn.execute(HEAD.update().where(HEAD.c.id == 1)
                     .values(seq=seq, hash=digest))
    else:
        conn.execute(HEAD.insert().values(id=1, seq=seq, hash=digest))
    return LedgerEntry(seq=seq, at=datetime.fromisoformat(at), event_key=event_key, case_id=case_id,
                       actor=actor, role=role, action=action, payload=json.loads(payload_text),
                       personal=None if personal_text is None else json.loads(personal_text),
                       prev_hash=prev, hash=digest)


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(LEDGER)).scalar_one())


def trail(conn: Connection, case_id: str) -> list[LedgerEntry]:
    rows = conn.execute(select(LEDGER).where(LEDGER.c.case_id == case_id).order_by(LEDGER.c.seq))
    return [to_entry(r) for r in rows]


def rows_by_action(conn: Connection, actions: Iterable[str]) -> Iterable[Any]:
    return conn.execute(select(LEDGER).where(LEDGER.c.action.in_(list(actions)))
                        .order_by(LEDGER.c.seq))


def verify(engine: Engine, progress: Progress | None = None, batch: int = 20_000) -> VerifyReport:
    """Re-hash every row in order from one consistent snapshot; stop at the first broken row."""
    raw = engine.raw_connection()
    try:
        dbapi: Any = raw.driver_connection
        if is_postgres(engine):
            dbapi.rollback()
            dbapi.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor = dbapi.cursor(name="carebudget_verify")
            cursor.itersize = batch
        else:
            dbapi.execute("BEGIN")
            cursor = dbapi.cursor()
        head_cursor = dbapi.cursor()
        head_cursor.execute("SELECT seq, hash FROM ledger_head WHERE id = 1")
        head = head_cursor.fetchone() or (0, GENESIS)
        head_cursor.execute("SELECT count(*) FROM ledger")
        total = int(head_cursor.fetchone()[0])
        head_cursor.close()
        cursor.execute(f"SELECT {COLUMNS} FROM ledger ORDER BY seq")
        report = _walk(cursor, head, total, progress, batch)
        cursor.close()
        dbapi.rollback()
        return report
    finally:
        raw.close()


def _walk(cursor: Any, head: tuple[int, str], total: int, progress: Progress | None, batch: int) -> VerifyReport:
    expected, prev = 1, GENESIS
    sha256, document = hashlib.sha256, row_document

    def broken(seq: int, reason: str) -> VerifyReport:
        return VerifyReport(ok=False, rows=expected - 1, head_seq=head[0], head_hash=head[1],
                            first_broken=BrokenRow(seq=seq, reason=reason))

    while rows := cursor.fetchmany(batch):
        for seq, at, key, case_id, actor, role, action, payload, personal, prev_hash, digest in rows:
            if seq != expected:
                what = "missing (deleted)" if seq > expected else "out of order"
                return broken(expected, f"row {expected} is {what}: the next row in sequence is {seq}")
            if prev_hash != prev:
                return broken(seq, f"row {seq} does not link to row {seq - 1}: prev_hash differs from that row's hash")
            fresh = sha256(document(seq, at, key, case_id, actor, role, action, payload, personal,
                                    prev_hash).encode()).hexdigest()
            if fresh != digest:
                return broken(seq, f"row {seq} was altered: its content no longer matches its hash")
            prev = digest
            expected += 1
        if progress:
            progress(expected - 1, total)
    last = expected - 1
    if last < head[0]:
        return broken(last + 1, f"rows {last + 1}..{head[0]} are missing: the recorded head is row {head[0]}")
    if last > head[0] or (last and prev != head[1]):
        return broken(head[0] + 1 if last > head[0] else last,
                      f"the chain ends at row {last} but the recorded head is row {head[0]}")
    return VerifyReport(ok=True, rows=last, head_seq=head[0], head_hash=head[1])
