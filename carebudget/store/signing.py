"""HMAC-SHA256 signatures over chain heads and checkpoints, with the ledger key from settings.

A hash chain shows a row was changed; it cannot show rows were cut from the end if the head
record is moved back with them. A head or checkpoint signed with a key the database does not hold
can: whoever edits the tables without the key cannot sign the head they leave behind.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["head", "checkpoint"]


def key_id(key: bytes) -> str:
    """A short public name for a key, so a signature says which key made it (rotation)."""
    return hashlib.sha256(b"carebudget-ledger-key-id:" + key).hexdigest()[:16]


def message(kind: Kind, chain: str, seq: int, digest: str, at: str) -> bytes:
    # The kind is signed too, so a checkpoint's signature can never be passed off as a head's.
    return f"carebudget-ledger/1\n{kind}\n{chain}\n{seq}\n{digest}\n{at}".encode()


@dataclass(frozen=True)
class Keyring:
    """The current ledger key (signs) and keys retired by rotation (still verify)."""

    current: bytes
    previous: tuple[bytes, ...] = field(default=())

    @classmethod
    def from_text(cls, current: str, previous: list[str] | tuple[str, ...] = ()) -> Keyring:
        return cls(current.encode(), tuple(p.encode() for p in previous))

    @classmethod
    def from_settings(cls, settings: Any = None) -> Keyring:
        """The key from settings (the process's, unless given); refused (UnsafeLedgerKey) if weak
        outside development."""
        from carebudget.settings import get_settings
        from carebudget.store.errors import UnsafeLedgerKey

        settings = settings or get_settings()
        problem = settings.ledger_key_problem()
        if problem:
            raise UnsafeLedgerKey(f"refusing to open the ledger in {settings.environment!r} mode: {problem}",
                                  "ledger_key")
        return cls.from_text(settings.ledger_key, settings.ledger_previous_keys)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def sign(self, kind: Kind, chain: str, seq: int, digest: str, at: str) -> tuple[str, str]:
        """(key id, hex mac) of the current key."""
        mac = hmac.new(self.current, message(kind, chain, seq, digest, at), hashlib.sha256).hexdigest()
        return self.current_id, mac

    def problem(self, kind: Kind, chain: str, seq: int, digest: str, at: str, kid: str, mac: str) -> str | None:
        """Why this signature does not hold, in plain words; None when it does."""
        keys = {key_id(k): k for k in (self.current, *self.previous)}
        key = keys.get(kid)
        if key is None:
            return (f"it was signed with a ledger key this service does not hold (key id {kid}); "
                    "if the key was rotated, add the old key to CAREBUDGET_LEDGER_PREVIOUS_KEYS")
        expected = hmac.new(key, message(kind, chain, seq, digest, at), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, mac):
            return "its signature does not match: it was written or changed by someone without the ledger key"
        return None
