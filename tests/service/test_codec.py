"""Personal data never rests in clear in Temporal (UK GDPR art 32): every payload is sealed with
AES-256-GCM under a named key, so keys rotate; a case driven through a real dev server leaves no
name, date of birth or income in its database file or behind its HTTP API."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from carebudget.service import cases
from carebudget.service.codec import (
    EncryptionCodec,
    KeyringError,
    data_converter,
    new_key_text,
    parse_keyring,
)
from carebudget.settings import DEV_PAYLOAD_KEYS, REPO_ROOT
from tests.web.temporal_support import case_worker
from workflows.case import COUNCIL, DUE_AT, OVERDUE, STAGE

NAME, BORN, INCOME = "Zebedee Quixote-Marchbanks", "1947-11-23", "12345.67"


def _codec(text: str) -> EncryptionCodec:
    return EncryptionCodec(*parse_keyring(text))


async def test_a_sealed_payload_opens_with_its_key_and_hides_its_content() -> None:
    codec = _codec(DEV_PAYLOAD_KEYS)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps({"name": NAME}).encode())
    [sealed] = await codec.encode([plain])
    assert NAME.encode() not in sealed.SerializeToString()
    assert sealed.metadata["encryption-key-id"] == b"dev-1"
    assert (await codec.decode([sealed]))[0] == plain


async def test_after_a_key_rotation_old_payloads_still_open_and_new_ones_use_the_new_key() -> None:
    old = _codec("k1:" + DEV_PAYLOAD_KEYS.split(":", 1)[1])
    [sealed_before] = await old.encode([Payload(data=b"before")])
    rotated = _codec(f"{new_key_text('k2')},k1:{DEV_PAYLOAD_KEYS.split(':', 1)[1]}")
    assert (await rotated.decode([sealed_before]))[0].data == b"before"
    [sealed_after] = await rotated.encode([Payload(data=b"after")])
    assert sealed_after.metadata["encryption-key-id"] == b"k2"
    with pytest.raises(ValueError, match="not in CAREBUDGET_PAYLOAD_KEYS"):
        await old.decode([sealed_after])


async def test_an_altered_payload_is_refused_not_misread() -> None:
    codec = _codec(DEV_PAYLOAD_KEYS)
    [sealed] = await codec.encode([Payload(data=b"amount 100")])
    tampered = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(ValueError, match="altered"):
        await codec.decode([tampered])


async def test_a_payload_written_before_encryption_is_read_as_it_is() -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"a":1}')
    assert (await _codec(DEV_PAYLOAD_KEYS).decode([plain]))[0] == plain


@pytest.mark.parametrize(
    ("text", "words"),
    [("", "no key"), ("nokey", "id:base64"), ("a:!!!", "not valid base64"),
     ("a:" + base64.b64encode(b"short").decode(), "must be 32 bytes"),
     (f"{DEV_PAYLOAD_KEYS},{DEV_PAYLOAD_KEYS}", "listed twice")],
)
def test_a_malformed_key_setting_is_refused_naming_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(KeyringError, match=words):
        parse_keyring(text)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _decoded_payload_bytes(value: Any) -> Iterator[bytes]:
    """Every base64 `data` field of a history in JSON, decoded: where payload bytes live."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "data" and isinstance(item, str):
                try:
                    yield base64.b64decode(item)
                except ValueError:
                    pass
            else:
                yield from _decoded_payload_bytes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _decoded_payload_bytes(item)


async def _drive_one_case(converter: Any, tmp_path: Path, store: Any) -> tuple[bytes, bytes]:
    """Drive a case to its plan through a dev server with its own database file; return the
    database file's bytes and the history as served by the HTTP API, payloads decoded."""
    db_file, http_port = tmp_path / f"temporal-{uuid.uuid4().hex[:6]}.db", _free_port()
    env = await WorkflowEnvironment.start_local(
        data_converter=converter, search_attributes=[STAGE, COUNCIL, DUE_AT, OVERDUE],
        dev_server_existing_path=shutil.which("temporal") or str(REPO_ROOT / ".venv/bin/temporal"),
        ui=False, dev_server_extra_args=["--db-filename", str(db_file), "--http-port", str(http_port)],
    )
    queue = f"codec-{uuid.uuid4().hex[:8]}"
    try:
        async with case_worker(env.client, store, queue):
            case_id = await cases.start_case(env.client, {
                "council": "demo", "person": {"name": NAME, "date_of_birth": BORN, "setting": "home"},
                "person_user": "demo-person", "opened_by": "demo-social-worker"}, task_queue=queue)
            for _ in range(200):
                state = await cases.describe(env.client, case_id)
                if state["stage"] == "assessment":
                    break
            needs = {"arise_from_impairment_or_illness": True, "wellbeing_impact": "significant",
                     "outcomes": {"nutrition": ["needs_assistance"], "personal_hygiene": ["needs_assistance"]}}
            await cases.act(env.client, case_id, "verify_assessment", "demo-social-worker", "social_worker", {
                "needs": needs, "finances": {"capital": "1000", "weekly_income": INCOME},
                "support": [{"outcome": o, "when": "current", "support": [{"provision": "home_care_hour", "units": "3"}]}
                            for o in ("nutrition", "personal_hygiene")],
                "care": {"weekly_cost": "200.00"}})
        async with httpx.AsyncClient(timeout=30) as http:
            served = await http.get(
                f"http://127.0.0.1:{http_port}/api/v1/namespaces/default/workflows/{case_id}/history")
    finally:
        await env.shutdown()
    # The HTTP API shows JSON payloads as JSON and others as base64 `data`: search both.
    return db_file.read_bytes(), served.content + b"\n".join(_decoded_payload_bytes(served.json()))


@pytest.fixture(scope="module")
def codec_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from carebudget.store import Store
    from carebudget.web.demo_users import ensure_demo_users

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('codec') / 'store.db'}")
    store.migrate()
    ensure_demo_users(store)
    return store


async def test_no_name_birth_date_or_income_is_left_in_temporals_database_or_http_api(
    tmp_path: Path, codec_store: Any
) -> None:
    secrets = [NAME, BORN, INCOME]
    # The check can fail: without the codec the same case leaves all three in both places.
    plain_db, plain_api = await _drive_one_case(
        dataclasses.replace(pydantic_data_converter), tmp_path, codec_store)
    assert all(s.encode() in plain_db for s in secrets) and all(s.encode() in plain_api for s in secrets)
    sealed_db, sealed_api = await _drive_one_case(data_converter(), tmp_path, codec_store)
    assert [s for s in secrets if s.encode() in sealed_db] == []
    assert [s for s in secrets if s.encode() in sealed_api] == []
    assert sealed_api  # the history was served: it holds payloads, only sealed ones
