"""Checkpoints on demand and the anchor document a council keeps outside this database.

Anyone who can write the database could cut rows from the end of a chain and every checkpoint
after them. An anchor exported to somewhere they cannot reach (the council's records system, a
signed email, paper) still names the row and hash the chain had reached; verifying against it
shows anything cut or rewritten since, even by someone holding the ledger key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, select

from carebudget.store import ledger
from carebudget.store.db import read, utcnow, write
from carebudget.store.errors import InvalidInput
from carebudget.store.models import HEAD
from carebudget.store.signing import Keyring

FORMAT = "carebudget-ledger-anchor/1"
FIELDS = ("chain", "seq", "hash", "at", "key_id", "mac")


class UntrustedHead(InvalidInput):
    """A chain's head fails its signature: it must be investigated, not signed again."""


def checkpoint(engine: Engine, keys: Keyring, chain: str | None = None) -> list[dict[str, Any]]:
    """Sign each chain's current head (or one chain's) as a checkpoint; returns them."""
    with read(engine) as conn:
        names = [chain] if chain is not None else ledger.chains(conn)
    out = []
    for name in names:
        with write(engine, ledger.chain_lock(name)) as conn:
            head = conn.execute(select(HEAD).where(HEAD.c.chain == name)).first()
            if head is None:
                raise InvalidInput(f"there is no {name!r} chain: no event has been written to it", "council")
            h = head._mapping
            problem = keys.problem("head", name, h["seq"], h["hash"], h["at"], h["key_id"], h["mac"])
            if problem:
                raise UntrustedHead(f"the head of the {name!r} chain cannot be trusted ({problem}); "
                                    "run `carebudget audit verify` and investigate before anchoring", "council")
            point = ledger.write_checkpoint(conn, name, h["seq"], h["hash"], keys)
        out.append({k: point[k] for k in FIELDS})
    return out


def export(points: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": FORMAT, "exported_at": ledger.format_at(utcnow()), "anchors": points}


def entries(document: Any) -> list[dict[str, Any]]:
    """The anchors of an exported document, checked for shape (their signatures are checked
    by verify, against the rows they name)."""
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        raise InvalidInput(f"this is not a ledger anchor: expected a JSON object with format {FORMAT!r}", "anchor")
    points = document.get("anchors")
    if not isinstance(points, list) or not points:
        raise InvalidInput("the anchor lists no chains: expected a non-empty 'anchors' list", "anchor")
    out = []
    for i, point in enumerate(points, 1):
        if not isinstance(point, Mapping) or set(FIELDS) - set(point):
            raise InvalidInput(f"anchor entry {i} needs {', '.join(FIELDS)}", "anchor")
        if not isinstance(point["seq"], int) or isinstance(point["seq"], bool) or point["seq"] < 1:
            raise InvalidInput(f"anchor entry {i}: seq must be a row number, got {point['seq']!r}", "anchor")
        if not all(isinstance(point[k], str) for k in FIELDS if k != "seq"):
            raise InvalidInput(f"anchor entry {i}: chain, hash, at, key_id and mac must be text", "anchor")
        ledger.check_chain(point["chain"])
        out.append(dict(point))
    return out
