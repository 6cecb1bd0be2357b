"""Verify a chain: re-hash its rows, check its signed head, checkpoints and any exported anchors,
and check that the case list, decisions and rule versions of its council still match it.

Everything is read from one snapshot (REPEATABLE READ on PostgreSQL, one read transaction on
SQLite), so a write committed mid-verify can never look like tampering. Verifying one chain reads
only that chain's rows and its council's cases, decisions, bundles and policy versions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, select

from carebudget.store import bundles, cases, decisions, ledger, letters, policy
from carebudget.store.db import is_postgres
from carebudget.store.models import CASES, CHECKPOINTS, HEAD
from carebudget.store.schemas import BrokenRow, ChainHead, VerifyReport
from carebudget.store.signing import Keyring

COLUMNS = "seq, at, event_key, case_id, actor, role, action, payload, personal, prev_hash, hash"
Progress = Callable[[int, int], None]


class Broken(Exception):
    """The first thing wrong with a chain: raised out of the walk, turned into the report."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq, self.reason = seq, reason


def verify(engine: Engine, keys: Keyring, chain: str | None = None, progress: Progress | None = None,
           anchors: Iterable[Mapping[str, Any]] = (), batch: int = 20_000) -> VerifyReport:
    """One chain (`chain`) or every chain; stops at the first broken row."""
    anchors = list(anchors)
    with snapshot(engine) as conn:
        names = [ledger.check_chain(chain)] if chain is not None else all_chains(conn, anchors)
        total = sum(ledger.count(conn, c) for c in names) if progress else 0
        heads: list[ChainHead] = []
        done = 0
        for name in names:
            def step(rows: int, _total: int, base: int = done) -> None:
                if progress:
                    progress(base + rows, total)
            report = verify_one(conn, keys, name, step, [a for a in anchors if a.get("chain") == name], batch)
            if not report.ok or chain is not None:
                return report
            heads.append(ChainHead(chain=name, rows=report.rows, head_seq=report.head_seq,
                                   head_hash=report.head_hash))
            done += report.rows
    if progress:
        progress(done, done)
    digest = hashlib.sha256("".join(f"{h.chain} {h.head_seq} {h.head_hash}\n" for h in heads).encode())
    return VerifyReport(ok=True, rows=done, head_seq=done, head_hash=digest.hexdigest(), chains=heads,
                        anchors_checked=len(anchors))


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read transaction that sees one consistent state of the database from start to end."""
    with engine.connect() as conn:
        if is_postgres(engine):
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        tx = conn.begin()
        try:
            yield conn
        finally:
            tx.rollback()  # read only: nothing to keep


def all_chains(conn: Connection, anchors: list[Mapping[str, Any]]) -> list[str]:
    """Every chain with a head, a checkpoint, an anchor or a council on the case list."""
    found = set(ledger.chains(conn))
    found |= set(conn.execute(select(CHECKPOINTS.c.chain).distinct()).scalars())
    found |= {ledger.chain_for_council(c) for c in conn.execute(select(CASES.c.council).distinct()).scalars()}
    found |= {str(a["chain"]) for a in anchors if isinstance(a.get("chain"), str)}
    return sorted(found)


def verify_one(conn: Connection, keys: Keyring, chain: str, progress: Progress | None,
               anchors: list[Mapping[str, Any]], batch: int) -> VerifyReport:
    head_row = conn.execute(select(HEAD).where(HEAD.c.chain == chain)).first()
    head = dict(head_row._mapping) if head_row else None
    head_seq, head_hash = (head["seq"], head["hash"]) if head else (0, ledger.GENESIS)
    checkpoints = [dict(r._mapping) for r in conn.execute(
        select(CHECKPOINTS).where(CHECKPOINTS.c.chain == chain).order_by(CHECKPOINTS.c.seq))]
    wanted = {int(c["seq"]) for c in checkpoints} | {int(a["seq"]) for a in anchors if isinstance(a.get("seq"), int)}
    walk = Walk(chain, wanted)
    try:
        walk.run(conn, ledger.count(conn, chain) if progress else 0, progress, batch)
        check_head(chain, walk, head, keys)
        for point in checkpoints:
            check_point(chain, walk, point, keys, "checkpoint")
        for anchored in anchors:
            check_point(chain, walk, anchored, keys, "anchor")
        if (problem := cases.check_list(conn, chain, walk.cases)) is not None:
            raise Broken(*problem)
        if (problem := decisions.check_records(conn, chain)) is not None:
            raise Broken(*problem)
        if (problem := policy.check_versions(conn, chain)) is not None:
            raise Broken(*problem)
        if (problem := letters.check_letters(conn, chain)) is not None:
            raise Broken(*problem)
        council = ledger.NATIONAL_COUNCIL if chain == ledger.NATIONAL else chain
        if (message := bundles.check_contents(conn, council)) is not None:
            raise Broken(0, message)
    except Broken as exc:
        return VerifyReport(ok=False, rows=walk.last, head_seq=head_seq, head_hash=head_hash, chain=chain,
                            first_broken=BrokenRow(seq=exc.seq, reason=exc.reason, chain=chain))
    return VerifyReport(ok=True, rows=walk.last, head_seq=head_seq, head_hash=head_hash, chain=chain,
                        chains=[ChainHead(chain=chain, rows=walk.last, head_seq=head_seq, head_hash=head_hash)],
                        anchors_checked=len(anchors))


class Walk:
    """Re-hash a chain's rows in order, keeping the hashes asked for and the case-list events."""

    def __init__(self, chain: str, wanted: set[int]) -> None:
        self.chain, self.wanted = chain, wanted
        self.last, self.prev = 0, ledger.GENESIS
        self.hashes: dict[int, str] = {}
        self.cases: cases.Folded = {}

    def run(self, conn: Connection, total: int, progress: Progress | None, batch: int) -> None:
        dbapi: Any = conn.connection.driver_connection
        if conn.dialect.name == "postgresql":
            cursor = dbapi.cursor(name=f"carebudget_verify_{self.chain}")
            cursor.itersize = batch
            cursor.execute(f"SELECT {COLUMNS} FROM ledger WHERE chain = %s ORDER BY seq", (self.chain,))
        else:
            cursor = dbapi.cursor()
            cursor.execute(f"SELECT {COLUMNS} FROM ledger WHERE chain = ? ORDER BY seq", (self.chain,))
        try:
            while rows := cursor.fetchmany(batch):
                self.rows(rows)
                if progress:
                    progress(self.last, total)
        finally:
            cursor.close()

    def rows(self, rows: list[Any]) -> None:
        chain, wanted, folded = self.chain, self.wanted, self.cases
        expected, prev = self.last + 1, self.prev
        sha256, document = hashlib.sha256, ledger.row_document
        try:
            for seq, at, key, case_id, actor, role, action, payload, personal, prev_hash, digest in rows:
                if seq != expected:
                    what = "missing (deleted)" if seq > expected else "out of order"
                    raise Broken(expected, f"row {expected} is {what}: the next row in sequence is {seq}")
                if prev_hash != prev:
                    raise Broken(seq, f"row {seq} does not link to row {seq - 1}: its prev_hash differs "
                                      "from that row's hash")
                fresh = sha256(document(chain, seq, at, key, case_id, actor, role, action, payload,
                                        personal, prev_hash).encode()).hexdigest()
                if fresh != digest:
                    raise Broken(seq, f"row {seq} was altered: its content no longer matches its hash")
                if seq in wanted:
                    self.hashes[seq] = digest
                if action in cases.LIST_ACTIONS:
                    cases.fold(folded, case_id, payload, personal, seq, at)
                prev = digest
                expected += 1
        finally:
            self.last, self.prev = expected - 1, prev


def check_head(chain: str, walk: Walk, head: dict[str, Any] | None, keys: Keyring) -> None:
    last = walk.last
    if head is None:
        if last:
            raise Broken(last, f"the {chain!r} chain has {last} rows but no recorded head: the head was deleted")
        return
    if last < head["seq"]:
        raise Broken(last + 1, f"rows {last + 1}..{head['seq']} are missing: the recorded head is row {head['seq']}")
    if last > head["seq"] or walk.prev != head["hash"]:
        raise Broken(head["seq"] + 1 if last > head["seq"] else last,
                     f"the chain ends at row {last} but the recorded head is row {head['seq']}")
    problem = keys.problem("head", chain, head["seq"], head["hash"], head["at"], head["key_id"], head["mac"])
    if problem:
        raise Broken(last, f"the recorded head (row {head['seq']}) cannot be trusted: {problem}; "
                           "rows may have been cut from the end of the chain")


def check_point(chain: str, walk: Walk, point: Mapping[str, Any], keys: Keyring, what: str) -> None:
    """A signed checkpoint or exported anchor: its row must still be there with its hash."""
    seq, digest, at = point.get("seq"), point.get("hash"), point.get("at")
    if not isinstance(seq, int) or not isinstance(digest, str) or not isinstance(at, str):
        raise Broken(0, f"an {what} for the {chain!r} chain is malformed: it needs seq, hash and at")
    problem = keys.problem("checkpoint", chain, seq, digest, at, str(point.get("key_id")), str(point.get("mac")))
    if problem:
        raise Broken(seq, f"the {what} at row {seq} (signed {at}) cannot be trusted: {problem}")
    if seq > walk.last:
        raise Broken(walk.last + 1, f"rows {walk.last + 1}..{seq} are missing: the {what} signed {at} records "
                                    f"row {seq}, but the chain now ends at row {walk.last}")
    if walk.hashes.get(seq) != digest:
        raise Broken(seq, f"row {seq} is not the row the {what} signed {at} recorded: the chain was rewritten "
                          "at or before this row")
