"""The engine adapter as it was before issue 12, kept to measure against and to prove the new one by.

A fresh session per evaluation, deleted straight after; long fact names inside the engine; the
(unchanged) state written back after every action. Registered under its own ruleset names, from
the same compiled stage, so it decides exactly the rules the service decides.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import durable_rules_engine as _native

from carebudget.rulebook.engine import SENTINEL, CompiledRuleset, EngineError, _QuietHost
from carebudget.rulebook.limits import left_field, param_field
from carebudget.rulebook.rules import Condition, FactRef, Group, ParamRef

_OPS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


def _operand(value: Any) -> Any:
    if isinstance(value, ParamRef):
        return {"$m": param_field(value.name)}
    if isinstance(value, FactRef):
        return {"$m": value.name}
    return value


def _expression(cond: Condition) -> dict[str, Any]:
    if isinstance(cond, Group):
        return {"$and" if cond.kind == "all" else "$or": [_expression(c) for c in cond.items]}
    if cond.op == "==":
        return {left_field(cond.fact): _operand(cond.value)}
    return {_OPS[cond.op]: {left_field(cond.fact): _operand(cond.value)}}


class LegacyEngine:
    """`evaluate(compiled, message)` as main's adapter did it (a StageEvaluator)."""

    def __init__(self) -> None:
        self._host = _QuietHost()
        self._lock = threading.Lock()
        self._parts: dict[str, list[tuple[Any, tuple[int, ...], frozenset[str]]]] = {}
        self._sid = 0

    def _registered(self, compiled: CompiledRuleset) -> list[tuple[Any, tuple[int, ...], frozenset[str]]]:
        if compiled.name not in self._parts:
            parts = []
            for number, part in enumerate(compiled.parts):
                name = f"legacy_{compiled.name}_p{number}"
                definition: dict[str, Any] = {
                    f"r{local}": {"all": [{"m": _expression(compiled.rules[index].when)}], "run": _nothing}
                    for local, index in enumerate(part.indices)
                }
                definition[f"r{len(part.indices)}"] = {"all": [{"m": {"$gte": {SENTINEL: 0}}}], "run": _nothing}
                self._host.register_rulesets({name: definition})
                parts.append((self._host.get_ruleset(name)._handle, part.indices, part.fields))
            self._parts[compiled.name] = parts
        return self._parts[compiled.name]

    def evaluate(self, compiled: CompiledRuleset, message: dict[str, Any]) -> list[int]:
        with self._lock:
            fired: list[int] = []
            for handle, indices, fields in self._registered(compiled):
                local = self._evaluate_part(handle, len(indices), {k: v for k, v in message.items() if k in fields})
                fired.extend(indices[i] for i in local)
            return sorted(fired)

    def _evaluate_part(self, handle: Any, sentinel: int, message: dict[str, Any]) -> list[int]:
        self._sid += 1
        sid = str(self._sid)
        fired: list[int] = []
        result = _native.assert_fact(handle, json.dumps({"sid": sid, SENTINEL: 1, **message}))
        try:
            if result[0] != 0:
                raise EngineError(f"code {result[0]}")
            state = result[1]
            action = _native.start_action_for_state(handle, state)
            document, pending = action[0], action[1]
            while pending:
                fired.append(int(pending[3:pending.index('"', 2)]))
                _native.update_state(handle, document)
                pending = _native.complete_and_start_action(handle, state)
        finally:
            _native.delete_state(handle, sid)
        return [i for i in fired if i != sentinel]


def _nothing(_context: Any) -> None:
    return None
