"""Properties: any JSON payload round-trips, and the chain over it verifies."""

from __future__ import annotations

import json
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carebudget.store import InvalidInput, Store
from carebudget.store.ledger import row_document

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(max_size=10), json_values, max_size=5)
names = st.text(min_size=1, max_size=30).filter(str.strip)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=payloads, actor=names, key=names)
def test_any_json_payload_round_trips_and_the_chain_verifies(store: Store, payload: dict, actor: str, key: str) -> None:
    try:
        entry = store.append_event(f"{key}:{uuid.uuid4().hex}", None, actor, "system", "property.checked", payload)
    except InvalidInput as exc:  # only identifiers with control characters or surrogates are refused
        assert exc.field in ("actor", "event_key", "payload")
        return
    assert entry.payload == json.loads(json.dumps(payload))
    assert store.verify_chain().ok


@given(payload=payloads, actor=names)
def test_the_fast_row_document_is_the_canonical_json_of_the_row(payload: dict, actor: str) -> None:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    row = {"chain": "demo", "seq": 7, "at": "2026-01-01T00:00:00.000000Z", "event_key": "k", "case_id": None, "actor": actor,
           "role": "system", "action": "a.b", "payload": payload, "personal": None, "prev_hash": "0" * 64}
    expected = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert row_document("demo", 7, row["at"], "k", None, actor, "system", "a.b", text, None, "0" * 64) == expected
