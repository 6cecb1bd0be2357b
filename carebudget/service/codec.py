"""UK GDPR art 5(1)(f) and art 32: personal data never rests in clear in Temporal.

A case's workflow history holds the person's name, date of birth, needs and finances. Every
workflow and activity payload is encrypted (AES-256-GCM) before it leaves the process, so the
Temporal database, its HTTP API and its UI hold only ciphertext. Each encrypted payload names
the key that sealed it, so keys rotate: a new key seals from now on, older keys still open what
they sealed. Payloads written before encryption (saved histories) are read as they are.
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class KeyringError(ValueError):
    """The payload keys setting is malformed: the message says what to change."""


def parse_keyring(text: str) -> tuple[str, dict[str, bytes]]:
    """`id:base64key,id:base64key,...`, the first sealing new payloads; each key 32 bytes."""
    keys: dict[str, bytes] = {}
    current = ""
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id.strip() or not encoded.strip():
            raise KeyringError("CAREBUDGET_PAYLOAD_KEYS: each key is written id:base64, separated by commas")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:
            raise KeyringError(f"CAREBUDGET_PAYLOAD_KEYS: key {key_id!r} is not valid base64") from None
        if len(key) != 32:
            raise KeyringError(f"CAREBUDGET_PAYLOAD_KEYS: key {key_id!r} must be 32 bytes (AES-256), not {len(key)}")
        if key_id in keys:
            raise KeyringError(f"CAREBUDGET_PAYLOAD_KEYS: key id {key_id!r} is listed twice")
        keys[key_id] = key
        current = current or key_id
    if not keys:
        raise KeyringError("CAREBUDGET_PAYLOAD_KEYS: no key given")
    return current, keys


def new_key_text(key_id: str) -> str:
    """A fresh key in the setting's format (for `carebudget keys new` and the docs)."""
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


class EncryptionCodec(PayloadCodec):
    def __init__(self, current: str, keys: dict[str, bytes]) -> None:
        self.current = current
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        key_id = self.current.encode()
        sealed = self._ciphers[self.current].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption, or a search attribute: never personal
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise ValueError(f"payload sealed with key {key_id!r}, which is not in CAREBUDGET_PAYLOAD_KEYS")
        try:
            plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise ValueError(f"payload sealed with key {key_id!r} was altered or the key is wrong") from None
        return Payload.FromString(plain)


def data_converter(keyring: str | None = None) -> DataConverter:
    """The converter every Temporal client and worker of the service uses (pydantic + encryption)."""
    if keyring is None:
        from carebudget.settings import get_settings

        keyring = get_settings().payload_keys
    current, keys = parse_keyring(keyring)
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(current, keys))
