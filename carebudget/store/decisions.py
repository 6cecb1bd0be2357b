"""Decision records (Care Act 2014 s13(2), s24(2): written reasons) and their exact replay."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Container, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select

from carebudget.store import bundles, ledger
from carebudget.store.db import aware, canonical_json, read, utcnow, write
from carebudget.store.errors import (
    BundleMismatch,
    DuplicateEvent,
    InvalidInput,
    UnknownBundle,
    UnknownCase,
    UnknownDecision,
)
from carebudget.store.models import BUNDLES, CASES, DECISIONS, LEDGER
from carebudget.store.roles import can_read_personal
from carebudget.store.schemas import DecisionRecord, Difference, ReplayResult

KINDS = ("eligibility", "carer-eligibility", "charge", "indicative-budget", "assessment", "counter-proposal")


def _check_record(kind: str, record: Any) -> tuple[str, str, date, str]:
    if kind not in KINDS:
        raise InvalidInput(f"unknown decision kind {kind!r}; one of {', '.join(KINDS)}", "kind")
    if not isinstance(record, Mapping):
        raise InvalidInput("record must be a decision record (a JSON object)", "record")
    text = canonical_json(dict(record), "record")
    if record.get("kind") != kind:
        raise InvalidInput(f"record.kind is {record.get('kind')!r}, not {kind!r}", "record.kind")
    rules = record.get("rules")
    bundle_hash = rules.get("bundle") if isinstance(rules, Mapping) else None
    if not isinstance(bundle_hash, str) or not bundles.HEX64.match(bundle_hash):
        raise InvalidInput("record.rules.bundle must be the sha256 of the rule bundle used", "record.rules.bundle")
    council = record.get("council")
    if not isinstance(council, str) or not council:
        raise InvalidInput("record.council is missing", "record.council")
    try:
        on = date.fromisoformat(str(record.get("date")))
    except ValueError:
        raise InvalidInput(f"record.date {record.get('date')!r} is not a date", "record.date") from None
    if not isinstance(record.get("input"), Mapping):
        raise InvalidInput("record.input is missing: a decision cannot be replayed without its facts", "record.input")
    return text, council, on, bundle_hash


def _bundle_text(engine: Engine, bundle_hash: str, council: str, on: date,
                 bundle_content: Any) -> str | None:
    """Content of the record's bundle to store, or None when it is stored already."""
    with read(engine) as conn:
        if conn.execute(select(BUNDLES.c.hash).where(BUNDLES.c.hash == bundle_hash)).first():
            return None
    if bundle_content is not None:
        return bundles.content_text(bundle_hash, bundle_content)
    from carebudget.rulebook import get_registry

    current = get_registry().bundle(council, on)
    if current.hash != bundle_hash:
        raise BundleMismatch(
            f"bundle {bundle_hash} is not stored and the rule files now give {current.hash} for "
            f"{council} on {on}; pass bundle_content", "bundle_content")
    return bundles.content_text(bundle_hash, current.content)


class Prepared:
    """A decision record checked, and its bundle's content read, before any write lock."""

    def __init__(self, engine: Engine, decision_key: str, kind: str, record: Any,
                 bundle_content: Any = None, stored: Container[str] = ()) -> None:
        """`stored`: hashes of bundles known to be stored already (bundles are never removed),
        whose content is then not looked up again."""
        ledger.check_text(decision_key, "decision_key", 200)
        self.key, self.kind = decision_key, kind
        self.text, self.council, self.on, self.bundle_hash = _check_record(kind, record)
        self.record_sha = hashlib.sha256(self.text.encode()).hexdigest()
        self.content = (None if self.bundle_hash in stored else
                        _bundle_text(engine, self.bundle_hash, self.council, self.on, bundle_content))
        self.effective = (record.get("rules") or {}).get("effective_from") or self.on.isoformat()


def record(engine: Engine, decision_key: str, case_id: str | None, kind: str, record: Any,
           actor: str, role: str, bundle_content: Any = None) -> int:
    ledger.check_text(decision_key, "decision_key", 200)
    text = _check_record(kind, record)[0]
    with read(engine) as conn:
        done = _existing(conn, decision_key, case_id, kind, text, actor, role)
    if done is not None:
        return done
    prepared = Prepared(engine, decision_key, kind, record, bundle_content)
    with read(engine) as conn:
        chain = (ledger.chain_for_council(prepared.council) if case_id is None
                 else ledger.case_chain(conn, case_id))
    if chain is None:
        raise UnknownCase(f"case {case_id!r} is not on the case list", "case_id")
    with write(engine, ledger.chain_lock(chain)) as conn:
        return record_in(conn, chain, prepared, case_id, actor, role)


def record_in(conn: Connection, chain: str, p: Prepared, case_id: str | None, actor: str,
              role: str) -> int:
    """The decision and its ledger row, inside the caller's write transaction; idempotent."""
    done = _existing(conn, p.key, case_id, p.kind, p.text, actor, role)
    if done is not None:
        return done
    if p.content is not None:
        bundles.store_content(conn, p.bundle_hash, p.content, p.council, date.fromisoformat(p.effective),
                              "rule-files", None, "published")
    result = conn.execute(DECISIONS.insert().values(
        decision_key=p.key, case_id=case_id, kind=p.kind, council=p.council, on_date=p.on,
        bundle_hash=p.bundle_hash, record=p.text, actor=actor, role=role, recorded_at=utcnow(),
        ledger_chain=chain, ledger_seq=0))
    inserted = result.inserted_primary_key
    assert inserted is not None
    decision_id = int(inserted[0])
    entry = ledger.append(conn, f"decision:{p.key}", case_id, actor, role, "decision.recorded", {
        "decision_id": decision_id, "kind": p.kind, "council": p.council, "date": p.on.isoformat(),
        "bundle": p.bundle_hash, "record_sha256": p.record_sha}, chain=chain)
    conn.execute(DECISIONS.update().where(DECISIONS.c.id == decision_id).values(ledger_seq=entry.seq))
    return decision_id


def record_new(batch: ledger.Batch, p: Prepared, case_id: str | None, actor: str, role: str) -> int:
    """`record_in` for a step whose keys are all unused (steps.record checked): the decision row
    is written knowing the ledger row it will have, so it is inserted once, never updated."""
    conn = batch.conn
    if p.content is not None:
        bundles.store_content(conn, p.bundle_hash, p.content, p.council, date.fromisoformat(p.effective),
                              "rule-files", None, "published")
    seq = batch.next_seq
    result = conn.execute(DECISIONS.insert().values(
        decision_key=p.key, case_id=case_id, kind=p.kind, council=p.council, on_date=p.on,
        bundle_hash=p.bundle_hash, record=p.text, actor=actor, role=role, recorded_at=utcnow(),
        ledger_chain=batch.chain, ledger_seq=seq))
    inserted = result.inserted_primary_key
    assert inserted is not None
    decision_id = int(inserted[0])
    entry = batch.add(f"decision:{p.key}", case_id, actor, role, "decision.recorded", {
        "decision_id": decision_id, "kind": p.kind, "council": p.council, "date": p.on.isoformat(),
        "bundle": p.bundle_hash, "record_sha256": p.record_sha})
    assert entry.seq == seq
    return decision_id


def _existing(conn: Connection, key: str, case_id: str | None, kind: str, text: str,
              actor: str, role: str) -> int | None:
    row = conn.execute(select(DECISIONS).where(DECISIONS.c.decision_key == key)).first()
    if row is None:
        return None
    m = row._mapping
    if (m["case_id"], m["kind"], m["record"], m["actor"], m["role"]) != (case_id, kind, text, actor, role):
        raise DuplicateEvent(f"decision key {key!r} was already used for a different decision "
                             f"(id {m['id']}); nothing written", "decision_key")
    return int(m["id"])


def to_record(m: Mapping[Any, Any], role: str | None) -> DecisionRecord:
    out = DecisionRecord(
        id=m["id"], decision_key=m["decision_key"], case_id=m["case_id"], kind=m["kind"],
        council=m["council"], on=m["on_date"],
        bundle_hash=m["bundle_hash"], record=json.loads(m["record"]), actor=m["actor"],
        role=m["role"], recorded_at=aware(m["recorded_at"]), ledger_seq=m["ledger_seq"])
    return out if can_read_personal(role) else out.redacted()


def get(engine: Engine, decision_id: int, role: str | None) -> DecisionRecord:
    if not isinstance(decision_id, int) or isinstance(decision_id, bool):
        raise InvalidInput(f"decision id must be an integer, got {decision_id!r}", "decision_id")
    with read(engine) as conn:
        row = conn.execute(select(DECISIONS).where(DECISIONS.c.id == decision_id)).first()
    if row is None:
        raise UnknownDecision(f"no decision with id {decision_id}", "decision_id")
    return to_record(row._mapping, role)


def for_case(engine: Engine, case_id: str, role: str | None) -> list[DecisionRecord]:
    with read(engine) as conn:
        rows = conn.execute(select(DECISIONS).where(DECISIONS.c.case_id == case_id).order_by(DECISIONS.c.id))
        return [to_record(r._mapping, role) for r in rows]


def latest_per_case(engine: Engine, council: str, kinds: Collection[str], limit: int,
                    role: str | None) -> list[DecisionRecord]:
    """Each case of the council's case list with a decision of one of `kinds`: its latest such
    decision, in case id order, at most `limit` of them (one query, not one per case)."""
    # Walk the case list in case id order, each case's latest such decision found by the
    # decision table's case index, and stop at `limit`: the cost follows `limit`, not the table.
    x = DECISIONS.alias("x")
    latest_id = (select(func.max(x.c.id)).where(x.c.case_id == CASES.c.case_id, x.c.kind.in_(list(kinds)))
                 .scalar_subquery())
    walk = (select(CASES.c.case_id, latest_id.label("id")).where(CASES.c.council == council)
            .order_by(CASES.c.case_id).subquery())
    chosen = select(walk.c.id).where(walk.c.id.is_not(None)).limit(limit).subquery()
    query = select(DECISIONS).join(chosen, DECISIONS.c.id == chosen.c.id).order_by(DECISIONS.c.case_id)
    with read(engine) as conn:
        return [to_record(r._mapping, role) for r in conn.execute(query)]


def replay(engine: Engine, decision_id: int) -> ReplayResult:
    """Re-run the decision under the bundle content stored with it; never reads rule files."""
    from carebudget.decisions import DecisionError, decide_with_bundle

    stored = get(engine, decision_id, "compliance")
    try:
        content = bundles.get(engine, stored.bundle_hash).content
    except UnknownBundle:
        raise UnknownBundle(f"decision {decision_id} names bundle {stored.bundle_hash}, which is not stored",
                            "bundle") from None
    try:
        replayed = decide_with_bundle(stored.kind, content, stored.on, stored.record["input"])
    except (DecisionError, ValueError) as exc:
        return ReplayResult(decision_id=decision_id, bundle_hash=stored.bundle_hash, identical=False,
                            differences=[], error=str(exc))
    diffs = list(differences(stored.record, replayed))
    return ReplayResult(decision_id=decision_id, bundle_hash=stored.bundle_hash,
                        identical=not diffs, differences=diffs, replayed=replayed)


def differences(stored: Any, replayed: Any, path: str = "") -> list[Difference]:
    if isinstance(stored, Mapping) and isinstance(replayed, Mapping):
        out: list[Difference] = []
        for key in sorted(set(stored) | set(replayed)):
            where = f"{path}.{key}" if path else str(key)
            if key not in stored or key not in replayed:
                out.append(Difference(path=where, stored=stored.get(key), replayed=replayed.get(key)))
            else:
                out += differences(stored[key], replayed[key], where)
        return out
    if isinstance(stored, list) and isinstance(replayed, list) and len(stored) == len(replayed):
        return [d for i, (a, b) in enumerate(zip(stored, replayed, strict=True))
                for d in differences(a, b, f"{path}[{i}]")]
    return [] if stored == replayed else [Difference(path=path or "$", stored=stored, replayed=replayed)]


def check_records(conn: Connection, chain: str) -> tuple[int, str] | None:
    """Each decision on this chain must still hash to the record_sha256 its ledger row holds."""
    rows = conn.execute(select(DECISIONS.c.id, DECISIONS.c.record, DECISIONS.c.ledger_seq, LEDGER.c.payload)
                        .outerjoin(LEDGER, and_(LEDGER.c.chain == DECISIONS.c.ledger_chain,
                                                LEDGER.c.seq == DECISIONS.c.ledger_seq))
                        .where(DECISIONS.c.ledger_chain == chain)
                        .order_by(DECISIONS.c.id))
    for decision_id, text, seq, payload in rows:
        if payload is None:
            return seq, f"decision {decision_id} points at ledger row {seq}, which does not exist"
        expected = json.loads(payload).get("record_sha256")
        if hashlib.sha256(text.encode()).hexdigest() != expected:
            return seq, f"decision {decision_id} was altered: its record no longer matches ledger row {seq}"
    return None
