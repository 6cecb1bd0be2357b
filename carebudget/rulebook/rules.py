"""Rule files: `when` conditions on case facts, `then` effects from a small fixed set.

A rule file holds one named set of rules in force from a date (a later file of the same name
replaces it from its own date). Each rule has an `id` and a `reference` to the clause it models.
Conditions are written `fact op value`, where value is a literal, `param.NAME` or `fact.NAME`,
combined with `all:` / `any:`. Effects: `set` outputs, `add_points` (optionally `per` a count),
`reason` (a sentence for the written record) and `fail` (a reason the proposal is refused, with
its `code` and, where it is about one need, the `outcome`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from carebudget.rulebook import vocabulary as vocab
from carebudget.rulebook.yamlsource import RuleFileError, line_of, strip_lines

OPS = ("==", "!=", "<=", ">=", "<", ">")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_COND = re.compile(r"^\s*((?:param\.)?[a-z][a-z0-9_.]*)\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*$")


@dataclass(frozen=True)
class ParamRef:
    name: str


@dataclass(frozen=True)
class FactRef:
    name: str


Value = bool | int | float | str | ParamRef | FactRef


@dataclass(frozen=True)
class Compare:
    fact: str
    op: str
    value: Value


@dataclass(frozen=True)
class Group:
    kind: str  # "all" or "any"
    items: tuple[Condition, ...]


Condition = Compare | Group


@dataclass(frozen=True)
class Effects:
    set: tuple[tuple[str, Any], ...] = ()
    add_points: int = 0
    per: str | None = None
    reason: str | None = None
    fail: str | None = None
    code: str | None = None  # with `fail`: a short name for the failure, e.g. unit_cost_below_local_rate
    outcome: str | None = None  # with `fail`: the reg 2(2) outcome the failure is about


@dataclass(frozen=True)
class Rule:
    id: str
    reference: str
    when: Condition
    then: Effects
    line: int | None = None


@dataclass(frozen=True)
class RuleFile:
    path: str
    name: str
    stage: str
    effective_from: date
    reference: str
    rules: tuple[Rule, ...]
    raw: dict[str, Any] = field(compare=False, repr=False)

    def params_used(self) -> set[str]:
        names: set[str] = set()
        for rule in self.rules:
            names |= {v.name for v in _values(rule.when) if isinstance(v, ParamRef)}
        return names


def _values(cond: Condition) -> list[Value]:
    if isinstance(cond, Compare):
        left = [ParamRef(cond.fact[len("param."):])] if cond.fact.startswith("param.") else []
        return [*left, cond.value]
    return [v for item in cond.items for v in _values(item)]


def parse_date(value: Any, path: Path | str, line: int | None, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RuleFileError(path, line, f"{what} must be a date YYYY-MM-DD, got {value!r}") from None


def _literal(text: str) -> Value:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if text.startswith("param."):
        return ParamRef(text[len("param."):])
    if text.startswith("fact."):
        return FactRef(text[len("fact."):])
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _line_of_text(path: Path | str, start: int | None, text: str | None) -> int | None:
    """The line where a condition is written, at or after its rule's first line."""
    if text is None or start is None:
        return start
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return start
    for number in range(start, len(lines) + 1):
        if text.strip() in lines[number - 1]:
            return number
    return start


class _Parser:
    def __init__(self, path: Path | str, stage: str) -> None:
        self.path = path
        self.stage = stage
        self.facts = vocab.STAGE_FACTS[stage]

    def error(self, line: int | None, reason: str, text: str | None = None) -> RuleFileError:
        return RuleFileError(self.path, _line_of_text(self.path, line, text), reason)

    def condition(self, raw: Any, line: int | None) -> Condition:
        if isinstance(raw, list):
            return Group("all", tuple(self.condition(item, line) for item in raw))
        if isinstance(raw, dict):
            line = line_of(raw, line)
            keys = [k for k in raw if k != "__line__"]
            if len(keys) != 1 or keys[0] not in ("all", "any"):
                raise self.error(line, f"a condition group must have exactly one key, all or any; got {keys}")
            items = raw[keys[0]]
            if not isinstance(items, list) or not items:
                raise self.error(line, f"'{keys[0]}' needs a non-empty list of conditions")
            return Group(keys[0], tuple(self.condition(item, line) for item in items))
        if isinstance(raw, str):
            return self.compare(raw, line)
        raise self.error(line, f"a condition must be 'fact op value', a list, or all/any; got {raw!r}")

    def compare(self, text: str, line: int | None) -> Compare:
        match = _COND.match(text)
        if not match:
            raise self.error(line, f"cannot read condition {text!r}: write 'fact op value' with op one of {', '.join(OPS)}", text)
        fact, op, raw_value = match.groups()
        if fact.startswith("param."):
            # A policy switch tested on its own: its type is checked against the parameter file.
            return Compare(fact, op, _literal(raw_value))
        kind = self.facts.get(fact)
        if kind is None:
            raise self.error(line, f"unknown fact {fact!r} in stage {self.stage!r}", text)
        value = _literal(raw_value)
        if isinstance(value, FactRef) and value.name not in self.facts:
            raise self.error(line, f"unknown fact {value.name!r} in stage {self.stage!r}", text)
        if isinstance(value, ParamRef) and not _NAME.match(value.name.replace(".", "_")):
            raise self.error(line, f"bad parameter name {value.name!r}")
        if isinstance(value, (ParamRef, FactRef)):
            return Compare(fact, op, value)
        if kind == vocab.BOOL:
            if not isinstance(value, bool) or op not in ("==", "!="):
                raise self.error(line, f"fact {fact!r} is true/false: compare it with == or != true/false", text)
        elif kind == vocab.NUMBER:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.error(line, f"fact {fact!r} is a number; {raw_value!r} is not", text)
        elif isinstance(kind, tuple) and (value not in kind or op not in ("==", "!=")):
            raise self.error(line, f"fact {fact!r} is one of {', '.join(kind)}: compare with == or !=", text)
        return Compare(fact, op, value)

    def effects(self, raw: Any, line: int | None) -> Effects:
        if not isinstance(raw, dict):
            raise self.error(line, "'then' must be a mapping of effects: set, add_points, per, reason, fail")
        line = line_of(raw, line)
        unknown = set(raw) - {"set", "add_points", "per", "reason", "fail", "code", "outcome", "__line__"}
        if unknown:
            raise self.error(line, f"unknown effect(s) {sorted(unknown)}: use set, add_points, per, reason, fail (with code, outcome)")
        sets: list[tuple[str, Any]] = []
        for key, value in (raw.get("set") or {}).items():
            if key == "__line__":
                continue
            kind = vocab.OUTPUTS.get(key)
            if kind is None:
                raise self.error(line, f"unknown output {key!r}; outputs are: {', '.join(vocab.OUTPUTS)}")
            if kind == vocab.BOOL and not isinstance(value, bool):
                raise self.error(line, f"output {key!r} takes true or false, got {value!r}")
            if isinstance(kind, tuple) and value not in kind:
                raise self.error(line, f"output {key!r} takes one of {', '.join(kind)}, got {value!r}")
            sets.append((key, value))
        points = raw.get("add_points", 0)
        # Points are never negative, so more unmet need never lowers a score (CSSG 11.24 sufficiency).
        if isinstance(points, bool) or not isinstance(points, int) or points < 0:
            raise self.error(line, f"add_points must be a whole number of zero or more, got {points!r}")
        per = raw.get("per")
        if per is not None and self.facts.get(per) != vocab.NUMBER:
            raise self.error(line, f"'per' must name a count fact of stage {self.stage!r}, got {per!r}")
        for key in ("reason", "fail"):
            if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
                raise self.error(line, f"'{key}' must be a sentence")
        if "fail" in raw and self.stage != "counter_proposal":
            raise self.error(line, "'fail' is only for counter_proposal rules")
        code, outcome = raw.get("code"), raw.get("outcome")
        if ("code" in raw or "outcome" in raw) and "fail" not in raw:
            raise self.error(line, "'code' and 'outcome' go with 'fail'")
        if "fail" in raw and (not isinstance(code, str) or not _NAME.match(code)):
            raise self.error(line, f"'fail' needs a 'code': a lower-case name for the failure, got {code!r}")
        if outcome is not None and outcome not in vocab.OUTCOMES:
            raise self.error(line, f"'outcome' must be one of {', '.join(vocab.OUTCOMES)}, got {outcome!r}")
        effects = Effects(tuple(sets), points, per, raw.get("reason"), raw.get("fail"), code, outcome)
        if not (effects.set or effects.add_points or effects.reason or effects.fail):
            raise self.error(line, "'then' has no effect")
        return effects


def parse_rule_file(raw: Any, path: Path | str) -> RuleFile:
    if not isinstance(raw, dict):
        raise RuleFileError(path, 1, "a rule file is a mapping with name, stage, effective_from, reference, rules")
    line = line_of(raw, 1)
    for key in ("name", "effective_from", "reference", "rules"):
        if key not in raw:
            raise RuleFileError(path, line, f"missing '{key}'")
    unknown = set(raw) - {"name", "stage", "effective_from", "reference", "description", "rules", "__line__"}
    if unknown:
        raise RuleFileError(path, line, f"unknown key(s) {sorted(unknown)}")
    name = raw["name"]
    if not isinstance(name, str) or not _NAME.match(name.replace("-", "_")):
        raise RuleFileError(path, line, f"name must be lower-case words, got {name!r}")
    stage = raw.get("stage", "assess")
    if stage not in vocab.STAGES:
        raise RuleFileError(path, line, f"stage must be one of {', '.join(vocab.STAGES)}, got {stage!r}")
    parser = _Parser(path, stage)
    if not isinstance(raw["rules"], list) or not raw["rules"]:
        raise RuleFileError(path, line, "'rules' must be a non-empty list")
    rules: list[Rule] = []
    seen: set[str] = set()
    for item in raw["rules"]:
        rline = line_of(item, line)
        if not isinstance(item, dict):
            raise RuleFileError(path, rline, "each rule is a mapping with id, reference, when, then")
        missing = [k for k in ("id", "reference", "when", "then") if k not in item]
        if missing:
            raise RuleFileError(path, rline, f"rule is missing {', '.join(missing)}")
        extra = set(item) - {"id", "reference", "when", "then", "description", "__line__"}
        if extra:
            raise RuleFileError(path, rline, f"rule {item['id']!r} has unknown key(s) {sorted(extra)}")
        rid = str(item["id"])
        if rid in seen:
            raise RuleFileError(path, rline, f"duplicate rule id {rid!r}")
        seen.add(rid)
        if not str(item["reference"]).strip():
            raise RuleFileError(path, rline, f"rule {rid!r} needs a reference to the law or policy")
        rules.append(
            Rule(rid, str(item["reference"]), parser.condition(item["when"], rline),
                 parser.effects(item["then"], rline), rline)
        )
    return RuleFile(
        path=str(path),
        name=name,
        stage=stage,
        effective_from=parse_date(raw["effective_from"], path, line, "effective_from"),
        reference=str(raw["reference"]),
        rules=tuple(rules),
        raw=strip_lines(raw),
    )
