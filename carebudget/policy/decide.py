"""One decision under the rules in force for a council on a date: the decision core's contract
(`decide_with_bundle`, pure) given the bundle from a registry, which only this layer reads."""

from __future__ import annotations

from datetime import date
from typing import Any

from carebudget.decisions.contract import DecisionError, decide_with_bundle
from carebudget.decisions.inputs import KINDS
from carebudget.rulebook.library import UnknownCouncil
from carebudget.rulebook.registry import Registry, get_registry


def decide(kind: str, council: str, on: date, payload: Any, registry: Registry | None = None) -> dict[str, Any]:
    """Make one decision under the rules in force for `council` on `on` (national for 'england'),
    from `registry` (by default the shipped rules of CAREBUDGET_RULES_DIR)."""
    if kind not in KINDS:
        raise DecisionError("invalid input", "kind", f"unknown decision kind {kind!r}; one of {', '.join(KINDS)}")
    try:
        bundle = (registry or get_registry()).bundle(council, on)
    except UnknownCouncil as exc:
        raise DecisionError("unknown council", "council", str(exc)) from None
    return decide_with_bundle(kind, bundle, on, payload)
