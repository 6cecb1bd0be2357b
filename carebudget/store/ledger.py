"""The append-only ledger: sha256 hash chains over canonical JSON rows, one chain per council.

Councils are separate legal entities, so each keeps its own chain ("demo", ...), with its own
signed head and checkpoints; events about no council (sign-ins, user admin) go on the "service"
chain and national rule publications on the "national" chain. Appends to different chains never
wait for each other on PostgreSQL; verifying one chain reads no other.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import Connection, func, select

from carebudget.store.db import canonical_json, take_lock, utcnow
from carebudget.store.errors import DuplicateEvent, InvalidInput, UnknownCase
from carebudget.store.models import CASES, CHECKPOINTS, HEAD, LEDGER
from carebudget.store.roles import LEDGER_ROLES
from carebudget.store.schemas import LedgerEntry
from carebudget.store.signing import Keyring

GENESIS = "0" * 64
ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_<>-]+)*$")
CHAIN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
SERVICE = "service"  # sign-ins, user administration: events of the service, not of a council
NATIONAL = "national"  # the national rules and figures (published by national rules officers)
NATIONAL_COUNCIL = "england"  # the rule tree's name for the national rules (carebudget.rulebook)
RESERVED = (SERVICE, NATIONAL)
Progress = Callable[[int, int], None]
KEYS_OPTION = "carebudget_ledger_keys"


def chain_for_council(council: str) -> str:
    """The chain a council's events go on: its own, or the national chain for the national rules."""
    return NATIONAL if council == NATIONAL_COUNCIL else check_chain(council)


def council_for_chain(chain: str) -> str:
    """The council whose events a chain holds: `chain_for_council` the other way."""
    return NATIONAL_COUNCIL if chain == NATIONAL else chain


def check_chain(chain: Any) -> str:
    if not isinstance(chain, str) or not CHAIN.match(chain):
        raise InvalidInput(f"chain {chain!r} must be a council code (lower-case letters, digits, - or _), "
                           f"{SERVICE!r} or {NATIONAL!r}", "chain")
    return chain


def chain_lock(chain: str) -> str:
    return f"chain:{chain}"


def keys_of(conn: Connection) -> Keyring:
    keys = conn.get_execution_options().get(KEYS_OPTION)
    if not isinstance(keys, Keyring):
        raise TypeError("this connection has no ledger key: open the database through Store")
    return keys


def row_document(chain: str, seq: int, at: str, event_key: str, case_id: str | None, actor: str,
                 role: str, action: str, payload: str, personal: str | None, prev_hash: str) -> str:
    """Canonical JSON of a row (sorted keys), built from the stored canonical payload texts.

    Equal to canonical_json of the same row as a dict when payload/personal are canonical, and
    fast enough to re-hash a million rows in a few seconds.
    """
    e = encode_basestring
    return (
        f'{{"action":{e(action)},"actor":{e(actor)},"at":{e(at)},'
        f'"case_id":{"null" if case_id is None else e(case_id)},"chain":{e(chain)},"event_key":{e(event_key)},'
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
        chain=m["chain"], seq=m["seq"], at=datetime.fromisoformat(m["at"]), event_key=m["event_key"],
        case_id=m["case_id"], actor=m["actor"], role=m["role"], action=m["action"],
        payload=json.loads(m["payload"]),
        personal=None if m["personal"] is None else json.loads(m["personal"]),
        prev_hash=m["prev_hash"], hash=m["hash"],
    )


def case_chain(conn: Connection, case_id: str) -> str | None:
    """The chain of a case on the case list (its council's), or None if it is not listed.

    A case's council never changes (cases.upsert refuses), so this may be read before any lock.
    """
    council = conn.execute(select(CASES.c.council).where(CASES.c.case_id == case_id)).scalar()
    return None if council is None else chain_for_council(council)


def resolve_chain(conn: Connection, case_id: str | None, chain: str | None, case_must_exist: bool) -> str:
    """The chain an event goes on: its case's council's; else as given; else the service chain."""
    listed = None if case_id is None else case_chain(conn, case_id)
    if listed is not None:
        if chain is not None and chain != listed:
            raise InvalidInput(f"case {case_id!r} is on the {listed!r} chain, not {chain!r}", "chain")
        return listed
    if case_id is not None and case_must_exist:
        raise UnknownCase(f"case {case_id!r} is not on the case list; open it with upsert_case first", "case_id")
    return SERVICE if chain is None else check_chain(chain)


def append(conn: Connection, event_key: str, case_id: str | None, actor: str, role: str,
           action: str, payload: Any, personal: Any = None, *, chain: str | None = None,
           case_must_exist: bool = True) -> LedgerEntry:
    """Append inside a write transaction (see db.write); the caller's transaction commits it.

    Takes the chain's lock itself (re-entrant), before reading anything the append depends on.
    """
    payload_text, personal_text = check_event(event_key, case_id, actor, role, action, payload, personal)
    chain = resolve_chain(conn, case_id, chain, case_must_exist)
    take_lock(conn, chain_lock(chain))
    existing = conn.execute(select(LEDGER).where(LEDGER.c.event_key == event_key)).first()
    if existing is not None:
        m = existing._mapping
        same = (m["chain"], m["case_id"], m["actor"], m["role"], m["action"], m["payload"], m["personal"]) == (
            chain, case_id, actor, role, action, payload_text, personal_text)
        if not same:
            raise DuplicateEvent(
                f"event key {event_key!r} was already used for a different event "
                f"(row {m['seq']} of the {m['chain']!r} chain, action {m['action']!r}); nothing written",
                "event_key")
        return to_entry(existing)
    head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.chain == chain)).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    at = format_at(utcnow())
    digest = row_hash(chain, seq, at, event_key, case_id, actor, role, action, payload_text, personal_text, prev)
    conn.execute(LEDGER.insert().values(
        chain=chain, seq=seq, at=at, event_key=event_key, case_id=case_id, actor=actor, role=role,
        action=action, payload=payload_text, personal=personal_text, prev_hash=prev, hash=digest))
    keys = keys_of(conn)
    key_id, mac = keys.sign("head", chain, seq, digest, at)
    values = {"seq": seq, "hash": digest, "at": at, "key_id": key_id, "mac": mac}
    if head:
        conn.execute(HEAD.update().where(HEAD.c.chain == chain).values(**values))
    else:
        conn.execute(HEAD.insert().values(chain=chain, **values))
    every = conn.get_execution_options().get("carebudget_checkpoint_every", 1000)
    if seq % every == 0:
        write_checkpoint(conn, chain, seq, digest, keys)
    return LedgerEntry(chain=chain, seq=seq, at=datetime.fromisoformat(at), event_key=event_key,
                       case_id=case_id, actor=actor, role=role, action=action,
                       payload=json.loads(payload_text),
                       personal=None if personal_text is None else json.loads(personal_text),
                       prev_hash=prev, hash=digest)


def write_checkpoint(conn: Connection, chain: str, seq: int, digest: str, keys: Keyring) -> dict[str, Any]:
    """Sign (chain, seq, hash) into ledger_checkpoint, once per row; returns it as an anchor."""
    row = conn.execute(select(CHECKPOINTS).where(CHECKPOINTS.c.chain == chain, CHECKPOINTS.c.seq == seq)).first()
    if row is not None:
        return dict(row._mapping)
    at = format_at(utcnow())
    key_id, mac = keys.sign("checkpoint", chain, seq, digest, at)
    values = {"chain": chain, "seq": seq, "hash": digest, "at": at, "key_id": key_id, "mac": mac}
    conn.execute(CHECKPOINTS.insert().values(**values))
    return values


def chains(conn: Connection) -> list[str]:
    return [str(c) for c in conn.execute(select(HEAD.c.chain).order_by(HEAD.c.chain)).scalars()]


def count(conn: Connection, chain: str | None = None) -> int:
    query = select(func.count()).select_from(LEDGER)
    if chain is not None:
        query = query.where(LEDGER.c.chain == chain)
    return int(conn.execute(query).scalar_one())


def trail(conn: Connection, case_id: str) -> list[LedgerEntry]:
    rows = conn.execute(select(LEDGER).where(LEDGER.c.case_id == case_id).order_by(LEDGER.c.chain, LEDGER.c.seq))
    return [to_entry(r) for r in rows]


def rows_by_action(conn: Connection, actions: Iterable[str]) -> Iterable[Any]:
    """Rows with these actions, every chain, each chain in its own order."""
    return conn.execute(select(LEDGER).where(LEDGER.c.action.in_(list(actions)))
                        .order_by(LEDGER.c.chain, LEDGER.c.seq))


class Batch:
    """Rows appended to one chain inside the caller's write transaction, for a step known to be
    new (none of its keys used): the head read once, the rows inserted together, the head signed
    and written once. Rows hash exactly as `append` would make them, one after another."""

    def __init__(self, conn: Connection, chain: str) -> None:
        take_lock(conn, chain_lock(chain))
        self.conn, self.chain = conn, chain
        head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.chain == chain)).first()
        self.had_head = head is not None
        self.seq, self.prev = (int(head[0]), str(head[1])) if head else (0, GENESIS)
        self.at = format_at(utcnow())
        self.rows: list[dict[str, Any]] = []

    @property
    def next_seq(self) -> int:
        return self.seq + 1

    def add(self, event_key: str, case_id: str | None, actor: str, role: str, action: str,
            payload: Any, personal: Any = None) -> LedgerEntry:
        payload_text, personal_text = check_event(event_key, case_id, actor, role, action, payload, personal)
        seq, prev, at = self.seq + 1, self.prev, self.at
        digest = row_hash(self.chain, seq, at, event_key, case_id, actor, role, action, payload_text,
                          personal_text, prev)
        self.rows.append({"chain": self.chain, "seq": seq, "at": at, "event_key": event_key,
                          "case_id": case_id, "actor": actor, "role": role, "action": action,
                          "payload": payload_text, "personal": personal_text, "prev_hash": prev,
                          "hash": digest})
        self.seq, self.prev = seq, digest
        return LedgerEntry(chain=self.chain, seq=seq, at=datetime.fromisoformat(at), event_key=event_key,
                           case_id=case_id, actor=actor, role=role, action=action,
                           payload=json.loads(payload_text),
                           personal=None if personal_text is None else json.loads(personal_text),
                           prev_hash=prev, hash=digest)

    def flush(self) -> None:
        """Insert the rows and move the signed head to the last (a checkpoint where one falls due)."""
        if not self.rows:
            return
        conn, keys = self.conn, keys_of(self.conn)
        conn.execute(LEDGER.insert(), self.rows)
        key_id, mac = keys.sign("head", self.chain, self.seq, self.prev, self.at)
        values = {"seq": self.seq, "hash": self.prev, "at": self.at, "key_id": key_id, "mac": mac}
        if self.had_head:
            conn.execute(HEAD.update().where(HEAD.c.chain == self.chain).values(**values))
        else:
            conn.execute(HEAD.insert().values(chain=self.chain, **values))
        every = conn.get_execution_options().get("carebudget_checkpoint_every", 1000)
        for row in self.rows:
            if row["seq"] % every == 0:
                write_checkpoint(conn, self.chain, row["seq"], row["hash"], keys)
        self.rows, self.had_head = [], True
