"""Council policy in the store: proposed changes (a lifecycle) and published versions (immutable).

A published version is one rule, parameter or rule-test file of one council, as text, with who
proposed and approved it, why, the checks it passed and the bundle it produced. Versions are only
ever added (the database refuses UPDATE and DELETE); each publication is also a ledger event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select

from carebudget.store import ledger
from carebudget.store.db import aware, canonical_json, read, utcnow, write
from carebudget.store.errors import DuplicateEvent, InvalidInput
from carebudget.store.models import LEDGER, POLICY_CHANGES, POLICY_VERSIONS

# Version numbers run across every council (national and council files are checked together), so
# publications take this lock first, then the council's chain lock (always in that order).
POLICY_LOCK = "policy"


def save_change(engine: Engine, change: Mapping[str, Any]) -> None:
    """Insert or update a proposed change (its document is the whole proposal as JSON)."""
    document = canonical_json(dict(change), "change")
    values = {
        "council": change["council"], "path": change["path"], "kind": change.get("kind", "change"),
        "status": change["status"], "document": document,
        "proposed_at": datetime.fromisoformat(str(change["proposed_at"])),
    }
    with write(engine, POLICY_LOCK) as conn:
        exists = conn.execute(select(POLICY_CHANGES.c.id).where(POLICY_CHANGES.c.id == change["id"])).first()
        if exists:
            conn.execute(POLICY_CHANGES.update().where(POLICY_CHANGES.c.id == change["id"]).values(**values))
        else:
            conn.execute(POLICY_CHANGES.insert().values(id=change["id"], **values))


def get_change(engine: Engine, change_id: str) -> dict[str, Any] | None:
    with read(engine) as conn:
        row = conn.execute(select(POLICY_CHANGES.c.document).where(POLICY_CHANGES.c.id == change_id)).first()
    return json.loads(row[0]) if row else None


def list_changes(engine: Engine, council: str | None = None) -> list[dict[str, Any]]:
    query = select(POLICY_CHANGES.c.document).order_by(POLICY_CHANGES.c.proposed_at.desc())
    if council is not None:
        query = query.where(POLICY_CHANGES.c.council == council)
    with read(engine) as conn:
        return [json.loads(row[0]) for row in conn.execute(query)]


def latest_seq(engine: Engine, council: str | None = None) -> int:
    """The newest published version's number (0 when none): cheap, polled by every process."""
    query = select(func.max(POLICY_VERSIONS.c.seq))
    if council is not None:
        query = query.where(POLICY_VERSIONS.c.council == council)
    with read(engine) as conn:
        return int(conn.execute(query).scalar() or 0)


def publish(
    engine: Engine, change: Mapping[str, Any], approver: str, base_seq: int,
    checks: Mapping[str, Any], bundle_hash: str, role: str = "policy_admin",
) -> dict[str, Any]:
    """Add the change's file as the council's next version, mark the change published and write
    the ledger event, in one transaction. Refused if any other version was published since the
    change was checked (`base_seq`): national and council files are checked together."""
    if approver == change["proposed_by"]:
        raise InvalidInput("a second policy officer must approve: you proposed this change", "approver")
    content = str(change["content"])
    now = utcnow()
    chain = ledger.chain_for_council(str(change["council"]))
    with write(engine, POLICY_LOCK, ledger.chain_lock(chain)) as conn:
        newest = int(conn.execute(select(func.max(POLICY_VERSIONS.c.seq))).scalar() or 0)
        if newest != base_seq:
            raise DuplicateEvent(
                "another change to the rules was published after this one was checked; "
                "upload it again so it is checked against the rules now in force", "proposal_id")
        seq = newest + 1
        version = {
            "seq": seq, "council": change["council"], "path": change["path"], "content": content,
            "sha256": hashlib.sha256(content.encode()).hexdigest(),
            "effective_from": date.fromisoformat(str(change["effective_from"])),
            "kind": change.get("kind", "change"), "change_id": change["id"],
            "proposed_by": change["proposed_by"], "approved_by": approver,
            "note": change.get("note", ""), "checks": canonical_json(dict(checks), "checks"),
            "bundle_hash": bundle_hash, "published_at": now,
        }
        payload = {k: v for k, v in version.items() if k not in ("content", "checks", "published_at")}
        payload["effective_from"] = version["effective_from"].isoformat()
        if change.get("kind") == "correction":
            payload["correction"] = change.get("correction")
        entry = ledger.append(
            conn, f"policy:{change['id']}:published", None, approver, role,
            "policy.correction_published" if change.get("kind") == "correction" else "policy.published", payload,
            chain=chain,
        )
        conn.execute(POLICY_VERSIONS.insert().values(**version, ledger_chain=chain, ledger_seq=entry.seq))
        document = {**dict(change), "status": "published", "approved_by": approver,
                    "decided_at": now.isoformat(), "version": seq, "bundle": bundle_hash}
        conn.execute(POLICY_CHANGES.update().where(POLICY_CHANGES.c.id == change["id"]).values(
            status="published", document=canonical_json(document, "change")))
    return version_json({**version, "ledger_chain": chain, "ledger_seq": entry.seq})


def version_json(row: Mapping[Any, Any], with_content: bool = True) -> dict[str, Any]:
    out = {
        "seq": row["seq"], "council": row["council"], "path": row["path"], "sha256": row["sha256"],
        "effective_from": row["effective_from"].isoformat(), "kind": row["kind"],
        "change_id": row["change_id"], "proposed_by": row["proposed_by"],
        "approved_by": row["approved_by"], "note": row["note"],
        "checks": json.loads(row["checks"]) if isinstance(row["checks"], str) else row["checks"],
        "bundle": row["bundle_hash"], "published_at": aware(row["published_at"]).isoformat(),
        "ledger_chain": row["ledger_chain"], "ledger_seq": row["ledger_seq"],
    }
    if with_content:
        out["content"] = row["content"]
    return out


def list_versions(engine: Engine, council: str | None = None, with_content: bool = False) -> list[dict[str, Any]]:
    query = select(POLICY_VERSIONS).order_by(POLICY_VERSIONS.c.seq)
    if council is not None:
        query = query.where(POLICY_VERSIONS.c.council == council)
    with read(engine) as conn:
        return [version_json(r._mapping, with_content) for r in conn.execute(query)]


def files_in_force(engine: Engine, up_to_seq: int | None = None) -> list[tuple[str, str, str]]:
    """(council, path, content) of the newest version of every file, as of version `up_to_seq`."""
    query = select(POLICY_VERSIONS.c.council, POLICY_VERSIONS.c.path, POLICY_VERSIONS.c.content,
                   POLICY_VERSIONS.c.seq).order_by(POLICY_VERSIONS.c.seq)
    if up_to_seq is not None:
        query = query.where(POLICY_VERSIONS.c.seq <= up_to_seq)
    latest: dict[tuple[str, str], str] = {}
    with read(engine) as conn:
        for council, path, content, _seq in conn.execute(query):
            latest[(council, path)] = content
    return [(council, path, content) for (council, path), content in sorted(latest.items())]


def check_versions(conn: Connection, chain: str) -> tuple[int, str] | None:
    """Each version published on this chain still hashes to its recorded sha256 (the sha256 is
    in the version's ledger row, so it cannot be changed to match)."""
    rows = conn.execute(
        select(POLICY_VERSIONS.c.seq, POLICY_VERSIONS.c.content, POLICY_VERSIONS.c.sha256,
               POLICY_VERSIONS.c.ledger_seq, LEDGER.c.payload)
        .outerjoin(LEDGER, and_(LEDGER.c.chain == POLICY_VERSIONS.c.ledger_chain,
                                LEDGER.c.seq == POLICY_VERSIONS.c.ledger_seq))
        .where(POLICY_VERSIONS.c.ledger_chain == chain).order_by(POLICY_VERSIONS.c.seq))
    for seq, content, digest, ledger_seq, payload in rows:
        if payload is None:
            return ledger_seq, f"policy version {seq} points at ledger row {ledger_seq}, which does not exist"
        if hashlib.sha256(content.encode()).hexdigest() != digest or json.loads(payload).get("sha256") != digest:
            return ledger_seq, f"policy version {seq} was altered: its content no longer matches ledger row {ledger_seq}"
    return None
