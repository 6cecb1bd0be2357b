"""One ledger chain per council, signed heads and checkpoints (issues 16 and 11).

The single chain is split: each row goes to its case's council's chain (or the council its
payload names; else the "service" chain), renumbered from 1 and re-hashed with the chain in the
hash. The old chain is verified first: a broken ledger is never migrated, since re-hashing it
would hide the break. Each new chain ends with a `ledger.resharded` row naming the old chain's
head, so a copy of that head kept elsewhere still checks out. Decisions, policy versions and the
case list are re-pointed at their rows' new places.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
NATIONAL_COUNCIL = "england"
LEDGER_MESSAGE = "ledger is append-only: rows cannot be changed or deleted"
CHECKPOINT_MESSAGE = "ledger checkpoints are append-only: they cannot be changed or deleted"
POLICY_MESSAGE = "policy versions are immutable: publish a new version or a correction instead"
OLD_COLUMNS = "seq, at, event_key, case_id, actor, role, action, payload, personal, prev_hash, hash"


def _e(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


# Frozen copies of the row documents before and after this revision: later code may change.
def old_document(seq: int, at: str, key: str, case_id: str | None, actor: str, role: str, action: str,
                 payload: str, personal: str | None, prev: str) -> str:
    return (f'{{"action":{_e(action)},"actor":{_e(actor)},"at":{_e(at)},"case_id":{_e(case_id)},'
            f'"event_key":{_e(key)},"payload":{payload},"personal":{personal or "null"},'
            f'"prev_hash":{_e(prev)},"role":{_e(role)},"seq":{seq}}}')


def new_document(chain: str, seq: int, at: str, key: str, case_id: str | None, actor: str, role: str,
                 action: str, payload: str, personal: str | None, prev: str) -> str:
    return (f'{{"action":{_e(action)},"actor":{_e(actor)},"at":{_e(at)},"case_id":{_e(case_id)},'
            f'"chain":{_e(chain)},"event_key":{_e(key)},"payload":{payload},"personal":{personal or "null"},'
            f'"prev_hash":{_e(prev)},"role":{_e(role)},"seq":{seq}}}')


def chain_for(council: str) -> str:
    return "national" if council == NATIONAL_COUNCIL else council


def chain_of(case_id: str | None, payload: str, councils: dict[str, str]) -> str:
    if case_id is not None and case_id in councils:
        return chain_for(councils[case_id])
    data = json.loads(payload)
    council = data.get("council") or (data.get("case") or {}).get("council")
    return chain_for(council) if isinstance(council, str) and council else "service"


def keyring() -> Any:
    from carebudget.store.signing import Keyring

    return context.config.attributes.get("ledger_keys") or Keyring.from_settings()


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    keys = keyring()
    op.create_table(
        "ledger_v4",
        sa.Column("chain", sa.String(60), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False, unique=True),
        sa.Column("case_id", sa.String(100), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("personal", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    moved, heads = move_rows(bind)
    op.drop_table("ledger")  # its triggers go with it
    op.rename_table("ledger_v4", "ledger")
    if postgres:
        op.execute("ALTER TABLE ledger RENAME CONSTRAINT ledger_v4_pkey TO ledger_pkey")
        op.execute("ALTER TABLE ledger RENAME CONSTRAINT ledger_v4_event_key_key TO ledger_event_key_key")
    op.create_index("ix_ledger_case_id", "ledger", ["case_id"])
    append_only("ledger", LEDGER_MESSAGE, postgres, "ledger_append_only", "ledger_no", create_function=False)

    op.drop_table("ledger_head")
    op.create_table(
        "ledger_head",
        sa.Column("chain", sa.String(60), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    op.create_table(
        "ledger_checkpoint",
        sa.Column("chain", sa.String(60), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    append_only("ledger_checkpoint", CHECKPOINT_MESSAGE, postgres, "ledger_checkpoint_append_only",
                "ledger_checkpoint_no")
    head_table = sa.table("ledger_head", *(sa.column(c) for c in ("chain", "seq", "hash", "at", "key_id", "mac")))
    for chain, (seq, digest, at) in sorted(heads.items()):
        key_id, mac = keys.sign("head", chain, seq, digest, at)
        bind.execute(head_table.insert().values(chain=chain, seq=seq, hash=digest, at=at, key_id=key_id, mac=mac))

    repoint(bind, postgres, moved)
    op.create_index("ix_case_list_council", "case_list", ["council"])


def move_rows(bind: Any) -> tuple[dict[int, tuple[str, int]], dict[str, tuple[int, str, str]]]:
    """Verify the old chain while copying each row to its new chain; old seq -> (chain, seq)."""
    councils = dict(bind.exec_driver_sql("SELECT case_id, council FROM case_list").all())
    old_head = bind.exec_driver_sql("SELECT seq, hash FROM ledger_head WHERE id = 1").first()
    new = sa.table("ledger_v4", *(sa.column(c) for c in (
        "chain", "seq", "at", "event_key", "case_id", "actor", "role", "action", "payload", "personal",
        "prev_hash", "hash")))
    moved: dict[int, tuple[str, int]] = {}
    heads: dict[str, tuple[int, str, str]] = {}
    expected, prev = 1, GENESIS
    # Per statement: Connection.execution_options would switch every later statement to streaming.
    result = bind.exec_driver_sql(f"SELECT {OLD_COLUMNS} FROM ledger ORDER BY seq",
                                  execution_options={"stream_results": True, "yield_per": 20_000})
    for part in result.partitions():
        batch = []
        for seq, at, key, case_id, actor, role, action, payload, personal, prev_hash, digest in part:
            old = old_document(seq, at, key, case_id, actor, role, action, payload, personal, prev_hash)
            if seq != expected or prev_hash != prev or hashlib.sha256(old.encode()).hexdigest() != digest:
                refuse(f"row {expected} is missing, out of order or altered")
            chain = chain_of(case_id, payload, councils)
            chain_seq, chain_prev, _ = heads.get(chain, (0, GENESIS, ""))
            chain_seq += 1
            fresh = hashlib.sha256(new_document(chain, chain_seq, at, key, case_id, actor, role, action, payload,
                                                personal, chain_prev).encode()).hexdigest()
            batch.append({"chain": chain, "seq": chain_seq, "at": at, "event_key": key, "case_id": case_id,
                          "actor": actor, "role": role, "action": action, "payload": payload,
                          "personal": personal, "prev_hash": chain_prev, "hash": fresh})
            heads[chain] = (chain_seq, fresh, at)
            moved[seq] = (chain, chain_seq)
            prev, expected = digest, expected + 1
        if batch:
            bind.execute(new.insert(), batch)
    last = expected - 1
    if (old_head is None and last) or (old_head is not None and (old_head[0], old_head[1]) != (last, prev)):
        refuse(f"the chain ends at row {last} but its recorded head is {None if old_head is None else old_head[0]}")
    for chain in sorted(heads) if last else ():
        seq, chain_prev, _ = heads[chain]
        at, key = now(), f"ledger:resharded:{chain}"
        payload = json.dumps({"from_head_hash": prev, "from_head_seq": last, "rows_moved": seq},
                             sort_keys=True, separators=(",", ":"))
        fresh = hashlib.sha256(new_document(chain, seq + 1, at, key, None, "system", "system", "ledger.resharded",
                                            payload, None, chain_prev).encode()).hexdigest()
        bind.execute(new.insert().values(chain=chain, seq=seq + 1, at=at, event_key=key, case_id=None,
                                         actor="system", role="system", action="ledger.resharded",
                                         payload=payload, personal=None, prev_hash=chain_prev, hash=fresh))
        heads[chain] = (seq + 1, fresh, at)
    return moved, heads


def refuse(reason: str) -> None:
    raise RuntimeError(
        f"not splitting the ledger into per-council chains: the existing chain is broken ({reason}). "
        "Re-hashing it would hide the break: run `carebudget audit verify` on the previous release, "
        "investigate and restore the ledger from a backup first.")


def repoint(bind: Any, postgres: bool, moved: dict[int, tuple[str, int]]) -> None:
    """Decisions, policy versions and case-list rows name their ledger row by (chain, seq) now."""
    def where(seq: int, council: str) -> tuple[str, int]:
        return moved.get(seq, (chain_for(council), seq))

    decisions = bind.exec_driver_sql("SELECT id, council, ledger_seq FROM decision").all()
    op.add_column("decision", sa.Column("ledger_chain", sa.String(60), nullable=False, server_default="service"))
    updates = [{"i": i, "c": where(s, c)[0], "s": where(s, c)[1]} for i, c, s in decisions]
    if updates:
        bind.execute(sa.text("UPDATE decision SET ledger_chain = :c, ledger_seq = :s WHERE id = :i"), updates)
    with op.batch_alter_table("decision") as batch:
        batch.alter_column("ledger_chain", server_default=None)
        batch.create_index("ix_decision_ledger_chain", ["ledger_chain"])

    drop_append_only("policy_version", postgres, "policy_version_immutable", "policy_version_no")
    versions = bind.exec_driver_sql("SELECT seq, council, ledger_seq FROM policy_version").all()
    op.add_column("policy_version", sa.Column("ledger_chain", sa.String(60), nullable=False,
                                              server_default="service"))
    updates = [{"v": v, "c": where(s, c)[0], "s": where(s, c)[1]} for v, c, s in versions]
    if updates:
        bind.execute(sa.text("UPDATE policy_version SET ledger_chain = :c, ledger_seq = :s WHERE seq = :v"), updates)
    with op.batch_alter_table("policy_version") as batch:
        batch.alter_column("ledger_chain", server_default=None)
        batch.create_index("ix_policy_version_ledger_chain", ["ledger_chain"])
    append_only("policy_version", POLICY_MESSAGE, postgres, "policy_version_immutable", "policy_version_no",
                create_function=False)

    listed = bind.exec_driver_sql("SELECT case_id, council, last_seq FROM case_list").all()
    updates = [{"i": i, "s": where(s, c)[1]} for i, c, s in listed]
    if updates:
        bind.execute(sa.text("UPDATE case_list SET last_seq = :s WHERE case_id = :i"), updates)


def append_only(table: str, message: str, postgres: bool, pg_name: str, sqlite_prefix: str,
                create_function: bool = True) -> None:
    if postgres:
        if create_function:
            op.execute(f"""CREATE FUNCTION {pg_name}() RETURNS trigger LANGUAGE plpgsql AS $$
                           BEGIN RAISE EXCEPTION '{message}'; END $$""")
        op.execute(f"""CREATE TRIGGER {pg_name} BEFORE UPDATE OR DELETE ON {table}
                       FOR EACH ROW EXECUTE FUNCTION {pg_name}()""")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"""CREATE TRIGGER {sqlite_prefix}_{verb.lower()} BEFORE {verb} ON {table}
                       BEGIN SELECT RAISE(ABORT, '{message}'); END""")


def drop_append_only(table: str, postgres: bool, pg_name: str, sqlite_prefix: str) -> None:
    if postgres:
        op.execute(f"DROP TRIGGER {pg_name} ON {table}")
    else:
        op.execute(f"DROP TRIGGER {sqlite_prefix}_update")
        op.execute(f"DROP TRIGGER {sqlite_prefix}_delete")


def downgrade() -> None:
    raise RuntimeError("the per-council chains cannot be merged back into one chain: restore a backup "
                       "taken before revision 0005 instead")
