"""The one adapter to durable_rules 2.0.28, which is unmaintained and has hard limits.

What this module guarantees, so nothing else has to know about the engine:
- a ruleset is registered once under a name derived from its content hash (the engine cannot
  unregister or modify one), so a changed rule file simply gets a new ruleset;
- each engine ruleset has one session, made once and reused by every evaluation: the case is
  asserted as a fact, the fired actions are drained, and the fact is retracted (the engine keeps
  at most 1024 live session states per ruleset and raises MemoryError past that, so one is far
  inside it; a session that fails mid-evaluation is deleted and a new one takes its place);
- inside the engine fields have compact names (`a0`, `a1`, ...; the message is serialised twice
  per evaluation, so long fact names cost real time), and actions never write state back;
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
_ENCODE = json.JSONEncoder(check_circular=False, separators=(",", ":")).encode
_STRING = json.encoder.encode_basestring_ascii  # what _ENCODE writes for a string



class EngineError(RuntimeError):
    """durable_rules failed an evaluation (its own errors carry only a code, such as 303)."""


_OPS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


def _operand(value: Any) -> Any:
    if isinstance(value, ParamRef):
        return {"$m": param_field(value.name)}
    if isinstance(value, FactRef):
        return {"$m": value.name}
    return value


def _expression(cond: Condition, short: dict[str, str]) -> dict[str, Any]:
    """The condition in the engine's terms, with every field under its compact name."""
    if isinstance(cond, Group):
        return {"$and" if cond.kind == "all" else "$or": [_expression(c, short) for c in cond.items]}
    value = _operand(cond.value)
    if isinstance(value, dict):
        value = {"$m": short[value["$m"]]}
    if cond.op == "==":
        return {short[left_field(cond.fact)]: value}
    return {_OPS[cond.op]: {short[left_field(cond.fact)]: value}}


class Part:
    """Some of a stage's rules, registered as one engine ruleset, and the one session it runs in."""

    def __init__(self, name: str, indices: tuple[int, ...], fields: frozenset[str]) -> None:
        self.name = name
        self.indices = indices  # positions in the stage's rules, in order
        self.fields = fields
        # Compact names inside the engine, given in sorted order so the same rules always make the
        # same engine definition, whatever the set's iteration order.
        self.short = {name: f"a{number}" for number, name in enumerate(sorted(fields))}
        self._fast = _json_writer(self.short)
        self.handle: Any = None  # the engine's ruleset handle, once registered
        self.sid = ""  # the session every evaluation of this part reuses
        self.sessions = 0  # sessions ever made for this part (one, unless an evaluation failed)

    def engine_message(self, message: dict[str, Any]) -> str:
        """The fields this part reads, under their compact names, as the engine's JSON."""
        try:
            # Usually every field is there: the JSON made by one generated expression.
            return self._fast(message, self.sid)
        except KeyError:
            return self._message_of(message)

    def retraction(self) -> str:
        """What the engine needs to forget the case: its session and id, not the whole message
        (the engine looks the stored fact up by id; parsing the full message again is wasted)."""
        return f'{{"sid":"{self.sid}","id":"case"}}'

    def _message_of(self, message: dict[str, Any]) -> str:
        """The general path (some field absent): a dict, encoded by the json module."""
        fact = {short: message[name] for name, short in self.short.items() if name in message}
        fact["sid"] = self.sid
        # An id of our own spares the engine hashing the whole message to name the fact; the
        # session holds one fact at a time, so one id serves every evaluation.
        fact["id"] = "case"
        fact[SENTINEL] = 1
        return _ENCODE(fact)


def _json_writer(short: dict[str, str]) -> Callable[[dict[str, Any], str], str]:
    """One generated function that writes a part's message as the engine's JSON, byte for byte
    what `_message_of` writes when every field is there: true and false for booleans, repr for
    ints and finite floats and the json module's string escape for strings (what the json module
    writes for them), the json module itself for anything else. Encoding a dict through the json
    module cost more instructions than the engine's own parse of the result."""
    pieces = []
    for name in short:
        pieces.append(f"(T if (v := m[{name!r}]) is True else F if v is False else R(v) if (c := v.__class__) is int "
                      "or c is float and v - v == 0 else S(v) if c is str else J(v))")
    template = "{" + "".join(f'"{compact}":%s,' for compact in short.values())
    template += '"sid":"%s","id":"case","' + SENTINEL + '":1}'
    source = (f"def write(m, sid):\n    return {template!r} % (" + "".join(p + ", " for p in pieces)
              + "sid)\n")
    namespace: dict[str, Any] = {"T": "true", "F": "false", "R": repr, "S": _STRING, "J": _ENCODE}
    exec(compile(source, "<engine message>", "exec"), namespace)  # noqa: S102 - field names are ours, quoted by repr
    return namespace["write"]  # type: ignore[no-any-return]


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
                part = Part(f"{name}_p{number}", indices,
                            frozenset(f for i in indices for f in fields_read(rules[i].when)))
                definition = {
                    f"r{local}": {"all": [{"m": _expression(rules[index].when, part.short)}],
                                  "run": self._action(local)}
                    for local, index in enumerate(indices)
                }
                # A rule that always matches: every evaluation then has at least one action, so
                # the engine never takes its "message not handled" path, and every asserted fact
                # is held in the session until we retract it. (With a fresh session deleted after
                # each evaluation, that path corrupted memory in delete_state: SIGSEGV, durable_rules
                # 2.0.28; the reused session no longer deletes states at all on the normal path.)
                definition[f"r{len(indices)}"] = {"all": [{"m": {"$gte": {SENTINEL: 0}}}],
                                                  "run": self._action(len(indices))}
                self._host.register_rulesets({part.name: definition})
                part.handle = self._host.get_ruleset(part.name)._handle
                self._new_session(part)
                parts.append(part)
            fields = frozenset(f for part in parts for f in part.fields)
            compiled = CompiledRuleset(name, rules, fields, tuple(parts))
            self._compiled[name] = compiled
            return compiled

    def _action(self, index: int) -> Callable[[Any], None]:
        def fired(_context: Any) -> None:
            self._fired.append(index)

        return fired

    def _new_session(self, part: Part) -> None:
        part.sid = str(next(self._sids))
        part.sessions += 1

    def evaluate(self, compiled: CompiledRuleset, message: dict[str, Any]) -> list[int]:
        """Indices of the rules whose conditions hold for one flat message, in rule order.

        Drives the engine's native calls directly in each part's one session: assert the case as
        a fact, take each matched action in turn and complete it, then retract the fact. Nothing
        is written back (our actions never change state), which saves the Python host's JSON
        round trip of the state per action. `evaluate_via_host` is the same evaluation through
        the public host API, in a fresh session each time; tests keep the two in agreement.
        """
        with self._lock:
            fired: list[int] = []
            for part in compiled.parts:
                indices = part.indices
                fired.extend(indices[i] for i in self._evaluate_part(part, message))
            if len(compiled.parts) > 1:
                fired.sort()
            return fired

    def _evaluate_part(self, part: Part, message: dict[str, Any]) -> list[int]:
        """One part, under the lock the caller holds; local rule indices in rule order."""
        handle = part.handle
        fact = part.engine_message(message)
        try:
            result = _native.assert_fact(handle, fact)
        except _native.error as exc:
            self._replace_session(part)
            raise EngineError(f"the rules engine refused the evaluation ({exc})") from None
        fired: list[int] = []
        try:
            if result[0] != 0:
                raise EngineError(f"the rules engine refused the evaluation (code {result[0]})")
            state = result[1]
            action = _native.start_action_for_state(handle, state)
            if not action:
                raise EngineError("the rules engine started no action despite the sentinel rule")
            pending = action[1]
            while pending:
                # The action message is {"r<index>": {...}}: the rule name is all we need.
                fired.append(int(pending[3:pending.index('"', 2)]))
                pending = _native.complete_and_start_action(handle, state)
            retracted = _native.retract_fact(handle, part.retraction())
            if retracted[0] != 0:
                raise EngineError(f"the rules engine kept a case it was asked to forget (code {retracted[0]})")
        except BaseException:
            # The session may hold the fact or an action half taken: never reuse it.
            self._replace_session(part)
            raise
        sentinel = len(part.indices)
        fired.remove(sentinel)
        # The engine takes actions in its own order; effects apply in rule order.
        fired.sort()
        return fired

    def _replace_session(self, part: Part) -> None:
        old = part.sid
        self._new_session(part)
        try:
            _native.delete_state(part.handle, old)
        except _native.error:
            pass  # a session that never came to exist; its replacement is already in place

    def evaluate_via_host(self, compiled: CompiledRuleset, message: dict[str, Any]) -> list[int]:
        """The same evaluation through durable_rules' public Host API, in a fresh session each
        time (slower; the reference)."""
        with self._lock:
            fired: list[int] = []
            for part in compiled.parts:
                sid = f"host{next(self._sids)}"
                self._fired = []
                fact = {part.short[k]: v for k, v in message.items() if k in part.short}
                try:
                    self._host.assert_fact(part.name, {"sid": sid, SENTINEL: 1, **fact})
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
