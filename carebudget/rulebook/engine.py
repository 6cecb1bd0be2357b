"""The one adapter to durable_rules 2.0.28, which is unmaintained and has hard limits.

What this module guarantees, so nothing else has to know about the engine:
- a ruleset is registered once under a name derived from its content hash (the engine cannot
  unregister or modify one), so a changed rule file simply gets a new ruleset;
- each evaluation uses a fresh session whose state is deleted straight after (the engine keeps at
  most 1024 live session states per ruleset and raises MemoryError past that);
- one lock serialises every call into the host (its Python host has no locks of its own), and the
  host's unlocked background dispatch threads are never started;
- messages are flat and carry only the fields the rules read;
- a stage is split into parts the engine can each run as one ruleset (alternatives that may hold
  at once, equality tests on one field, fields per message: carebudget.rulebook.limits, with the
  measured figures), and a rule no part could hold is refused before anything is registered;
- MessageNotHandledException ("no rule matched") is an ordinary empty result.
Workflow code never imports this module (durable_rules is not deterministic-sandbox safe).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Callable
from typing import Any

import durable_rules_engine as _native
from durable import engine as _durable

from carebudget.rulebook.limits import (
    RulesetLimitError,
    fields_read,
    left_field,
    param_field,
    partition,
)
from carebudget.rulebook.rules import Condition, FactRef, Group, ParamRef, Rule

__all__ = [
    "CompiledRuleset", "EngineError", "RulesEngine", "RulesetLimitError", "get_engine", "param_field",
]

SENTINEL = "cb__evaluation"



class EngineError(RuntimeError):
    """durable_rules failed an evaluation (its own errors carry only a code, such as 303)."""


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


class Part:
    """Some of a stage's rules, registered as one engine ruleset."""

    def __init__(self, name: str, indices: tuple[int, ...], fields: frozenset[str]) -> None:
        self.name = name
        self.indices = indices  # positions in the stage's rules, in order
        self.fields = fields


class CompiledRuleset:
    """A stage's rules registered in the engine (in one or more parts); `evaluate` returns the
    indices of rules that fired."""

    def __init__(self, name: str, rules: tuple[Rule, ...], fields: frozenset[str], parts: tuple[Part, ...]) -> None:
        self.name = name
        self.rules = rules
        self.fields = fields
        self.parts = parts


class _QuietHost(_durable.Host):
    """The engine's host without its background dispatch threads.

    durable_rules' Host starts timer threads that pick up pending actions of any ruleset, with no
    lock against the caller's thread; they would race our own evaluation of the same session and
    steal its matches. We use no timers or queued events: every evaluation completes in the call.
    """

    def _run(self) -> None:
        return None


class RulesEngine:
    def __init__(self) -> None:
        self._host = _QuietHost()
        self._lock = threading.Lock()
        self._compiled: dict[str, CompiledRuleset] = {}
        self._fired: list[int] = []
        self._sids = itertools.count(1)

    def compile(self, rules: tuple[Rule, ...], label: str) -> CompiledRuleset:
        key = hashlib.sha256(
            json.dumps([(r.id, repr(r.when), repr(r.then)) for r in rules]).encode()
        ).hexdigest()
        name = f"cb_{label}_{key[:20]}"
        with self._lock:
            if name in self._compiled:
                return self._compiled[name]
            # Split and counted before registering: a ruleset beyond the limits can hang the
            # process, and the engine can never unregister it.
            parts = []
            for number, indices in enumerate(partition(rules, label)):
                part_name = f"{name}_p{number}"
                definition = {
                    f"r{local}": {"all": [{"m": _expression(rules[index].when)}], "run": self._action(local)}
                    for local, index in enumerate(indices)
                }
                # A rule that always matches: every evaluation then creates its session state and
                # has at least one action, so the engine never takes its "message not handled"
                # path. Together with writing the state back before completing each action
                # (below), this stopped the SIGSEGVs seen in delete_state (durable_rules 2.0.28;
                # either change alone removed them in our stress runs, so both are kept).
                definition[f"r{len(indices)}"] = {"all": [{"m": {"$gte": {SENTINEL: 0}}}],
                                                  "run": self._action(len(indices))}
                self._host.register_rulesets({part_name: definition})
                part_fields = frozenset(f for i in indices for f in fields_read(rules[i].when))
                parts.append(Part(part_name, indices, part_fields))
            fields = frozenset(f for part in parts for f in part.fields)
            compiled = CompiledRuleset(name, rules, fields, tuple(parts))
            self._compiled[name] = compiled
            return compiled

    def _action(self, index: int) -> Callable[[Any], None]:
        def fired(_context: Any) -> None:
            self._fired.append(index)

        return fired

    def evaluate(self, compiled: CompiledRuleset, message: dict[str, Any]) -> list[int]:
        """Indices of the rules whose conditions hold for one flat message, in rule order.

        Drives the engine's native calls directly: assert the fact, then take each matched
        action in turn and complete it without the Python host's per-action JSON round trip of
        the whole state (our actions never change state). `evaluate_via_host` is the same
        evaluation through the public host API; a test keeps the two in agreement.
        """
        with self._lock:
            fired: list[int] = []
            for part in compiled.parts:
                local = self._evaluate_part(part, {k: v for k, v in message.items() if k in part.fields})
                fired.extend(part.indices[i] for i in local)
            return sorted(fired)

    def _evaluate_part(self, part: Part, message: dict[str, Any]) -> list[int]:
        """One part, under the lock the caller holds."""
        sid = str(next(self._sids))
        handle = self._host.get_ruleset(part.name)._handle
        fired: list[int] = []
        try:
            result = _native.assert_fact(handle, json.dumps({"sid": sid, SENTINEL: 1, **message}))
        except _native.error as exc:
            raise EngineError(f"the rules engine refused the evaluation ({exc})") from None
        try:
            if result[0] != 0:
                raise EngineError(f"the rules engine refused the evaluation (code {result[0]})")
            state = result[1]
            action = _native.start_action_for_state(handle, state)
            if not action:
                raise EngineError("the rules engine started no action despite the sentinel rule")
            document, pending = action[0], action[1]
            while pending:
                # The action message is {"r<index>": {...}}: the rule name is all we need.
                fired.append(int(pending[3:pending.index('"', 2)]))
                # As the engine's own host does: write the (unchanged) state back, then
                # complete the action and take the next one.
                _native.update_state(handle, document)
                pending = _native.complete_and_start_action(handle, state)
        finally:
            _native.delete_state(handle, sid)
        sentinel = len(part.indices)
        return [i for i in fired if i != sentinel]

    def evaluate_via_host(self, compiled: CompiledRuleset, message: dict[str, Any]) -> list[int]:
        """The same evaluation through durable_rules' public Host API (slower; the reference)."""
        with self._lock:
            fired: list[int] = []
            for part in compiled.parts:
                sid = str(next(self._sids))
                self._fired = []
                part_message = {k: v for k, v in message.items() if k in part.fields}
                try:
                    self._host.assert_fact(part.name, {"sid": sid, SENTINEL: 1, **part_message})
                except _durable.MessageNotHandledException:
                    pass
                finally:
                    self._host.delete_state(part.name, sid)
                fired.extend(part.indices[i] for i in self._fired if i != len(part.indices))
            return sorted(fired)


_ENGINE: RulesEngine | None = None
_ENGINE_LOCK = threading.Lock()


def get_engine() -> RulesEngine:
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = RulesEngine()
        return _ENGINE
