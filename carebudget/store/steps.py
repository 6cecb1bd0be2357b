"""One step of a case, written all or nothing (Care Act 2014 s13(2), s24(2), s25: the written record).

A step's case-list row, the decisions it made and its ledger event go in one transaction, keyed by
the step's event key: a retried or replayed step with the same content finds its rows and succeeds;
different content under the same key is refused (nothing written) and an `alarm.event_conflict`
row says so on the case's chain. A step Temporal lost after the store kept it is voided by
reconciliation (`void`); the step taken again then writes under the next free key (`KEY~1`, ...),
so the record shows both the voided attempt and the one that counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Container, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, select

from carebudget.store import cases, decisions, ledger, users
from carebudget.store import letters as letter_rows
from carebudget.store.db import canonical_json, read, write
from carebudget.store.errors import DuplicateEvent, UnknownCase
from carebudget.store.models import LEDGER
from carebudget.store.roles import SYSTEM_ROLE
from carebudget.store.schemas import LedgerEntry

SERVICE_ACTOR = "carebudget"
VOIDED = "case.step_voided"
ALARM = "alarm.event_conflict"


def void_key(event_key: str) -> str:
    return f"void:{event_key}"


def _used(conn: Connection, key: str) -> bool:
    return conn.execute(select(LEDGER.c.seq).where(LEDGER.c.event_key == key)).first() is not None


def _any_used(conn: Connection, keys: list[str]) -> bool:
    return conn.execute(select(LEDGER.c.seq).where(LEDGER.c.event_key.in_(keys))).first() is not None


def live_key(conn: Connection, event_key: str) -> str:
    """The key a step writes under: its own, or the next after any voided attempts."""
    return _live_key(conn, event_key)[0]


def _live_key(conn: Connection, event_key: str) -> tuple[str, bool]:
    """(the key a step writes under, whether it is unused: the step's first attempt)."""
    key, n = event_key, 0
    while (used := _used(conn, key)) and _used(conn, void_key(key)):
        n += 1
        key = f"{event_key}~{n}"
    return key, not used


def record(
    engine: Engine, event_key: str, case_id: str, actor: str, role: str, action: str,
    payload: Mapping[str, Any], personal: Mapping[str, Any] | None = None,
    index: Any = None, made: Mapping[str, Mapping[str, Any]] | None = None,
    actor_roles: Collection[str] | None = None, letters: Sequence[letter_rows.Draft] = (),
    stored_bundles: Container[str] = (),
) -> LedgerEntry:
    """Write the step (list row `index`, decisions `made` by kind, the event, then the `letters`
    its decisions produce, each issued once per its key) in one transaction.

    With `actor_roles`, the actor must be an active user in one of those roles and of the case's
    council (its chain), or nothing is written (ActorRefused)."""
    ledger.check_text(event_key, "event_key", 180)
    for draft in letters:
        draft.check()
    if index is not None:
        chain, listed, person = cases.prepare(engine, case_id, index)
    else:
        with read(engine) as conn:
            found = ledger.case_chain(conn, case_id)
        if found is None:
            raise UnknownCase(f"case {case_id!r} is not on the case list", "case_id")
        chain, listed, person = found, {}, {}
    prepared = [decisions.Prepared(engine, f"{event_key}:{kind}", kind, rec, stored=stored_bundles)
                for kind, rec in sorted((made or {}).items())]
    try:
        with write(engine, ledger.chain_lock(chain)) as conn:
            if actor_roles is not None:
                users.check_actor(conn, actor, actor_roles, chain)
            key, first = _live_key(conn, event_key)
            council = ledger.council_for_chain(chain)
            if first and not _any_used(conn, [f"{key}:index", *(f"decision:{key}:{p.kind}" for p in prepared),
                                              *(d.ledger_key for d in letters)]):
                # The usual case, a step's first attempt: nothing of it is written yet.
                return _record_new(conn, chain, key, case_id, actor, role, action, payload,
                                   personal, (listed, person) if index is not None else None, prepared,
                                   council, letters)
            # A retry or a replay: each row is checked against the one already written.
            if index is not None:
                cases.upsert_in(conn, chain, f"{key}:index", case_id, listed, person, actor, role)
            for p in prepared:
                p.key = f"{key}:{p.kind}"
                decisions.record_in(conn, chain, p, case_id, actor, role)
            entry = ledger.append(conn, key, case_id, actor, role, action, payload, personal, chain=chain)
            for draft in letters:  # a letter already issued under its key is left as it is
                letter_rows.issue_in(conn, chain, council, case_id, draft)
            return entry
    except DuplicateEvent as exc:
        content = canonical_json({"actor": actor, "role": role, "action": action, "payload": dict(payload),
                                  "personal": personal and dict(personal), "index": _plain(index),
                                  "decisions": {k: dict(v) for k, v in (made or {}).items()}})
        digest = hashlib.sha256(content.encode()).hexdigest()
        _alarm(engine, chain, event_key, case_id, action, digest, exc.message)
        raise DuplicateEvent(
            f"ALARM: step {action!r} of case {case_id!r} came again under event key {event_key!r} "
            f"with different content (sha256 {digest[:12]}): {exc.message}. Recorded as "
            f"{ALARM!r} on the {chain!r} chain", "event_key") from None


def _record_new(
    conn: Connection, chain: str, key: str, case_id: str, actor: str, role: str, action: str,
    payload: Mapping[str, Any], personal: Mapping[str, Any] | None,
    index: tuple[dict[str, Any], dict[str, Any]] | None, prepared: list[decisions.Prepared],
    council: str = "", letters: Sequence[letter_rows.Draft] = (),
) -> LedgerEntry:
    """A step none of whose keys is used (its rows are written together, so none are): every row
    appended to the chain in one batch, without looking each key up first."""
    batch = ledger.Batch(conn, chain)
    if index is not None:
        cases.upsert_new(batch, f"{key}:index", case_id, index[0], index[1], actor, role)
    for p in prepared:
        p.key = f"{key}:{p.kind}"
        decisions.record_new(batch, p, case_id, actor, role)
    entry = batch.add(key, case_id, actor, role, action, payload, personal)
    issued = letter_rows.issue_new(batch, council, case_id, letters)
    batch.flush()
    letter_rows.insert_new(conn, issued)
    return entry


def _plain(index: Any) -> Any:
    return index.model_dump(mode="json", exclude_unset=True) if hasattr(index, "model_dump") else index and dict(index)


def _alarm(engine: Engine, chain: str, event_key: str, case_id: str, action: str, digest: str,
           why: str) -> None:
    with write(engine, ledger.chain_lock(chain)) as conn:
        ledger.append(conn, f"alarm:{event_key}:{digest[:16]}", case_id, SERVICE_ACTOR, SYSTEM_ROLE, ALARM,
                      {"event_key": event_key, "action": action, "content_sha256": digest, "refused": why},
                      chain=chain)


def void(engine: Engine, case_id: str, event_keys: Iterable[str], reason: str) -> list[str]:
    """Mark steps the workflow does not have as void (one row each); returns the keys newly voided."""
    with read(engine) as conn:
        chain = ledger.case_chain(conn, case_id)
    if chain is None:
        raise UnknownCase(f"case {case_id!r} is not on the case list", "case_id")
    done: list[str] = []
    with write(engine, ledger.chain_lock(chain)) as conn:
        for key in event_keys:
            if not _used(conn, key) or _used(conn, void_key(key)):
                continue
            ledger.append(conn, void_key(key), case_id, SERVICE_ACTOR, SYSTEM_ROLE, VOIDED,
                          {"event_key": key, "reason": reason}, chain=chain)
            done.append(key)
    return done


def voided(engine: Engine, case_id: str) -> set[str]:
    """The event keys of a case's voided steps."""
    with read(engine) as conn:
        rows = conn.execute(select(LEDGER.c.event_key).where(LEDGER.c.case_id == case_id,
                                                             LEDGER.c.action == VOIDED))
        return {str(k)[len("void:"):] for k in rows.scalars()}
