"""What durable_rules 2.0.28 can run, counted over a whole stage before anything reaches the engine.

A council's rules join the national rules of the same stage in one engine ruleset, so every limit
is counted over the stage as a bundle holds it (national plus overlay, on one date). The engine
turns each `any:` into separate alternatives (its rules are in disjunctive normal form), so
alternatives are what it really runs, and what is counted here.

Measured on this engine (durable_rules 2.0.28, the national rules and the demo overlay loaded,
each case in a throwaway process with a timeout; see docs/rules.md, "What the engine can run"):
- alternatives that hold at once: 60 national + overlay rules firing together in the charge stage
  ran, 61 failed with error 303 (70 rules `capital > N` is the known hostile upload); in the
  assess stage 64 ran and 65 failed. One rule with `any:` of 30 `>` tests failed the same way.
  Identical tests share an engine node: 200 rules on `unable_nutrition == true` ran.
- equality alternatives on one field: 470 rules `age_years == N` ran; at 475 the first evaluation
  hung, at 478 and above (480, 490, 511, 512, 600) registering the ruleset hung. One rule with
  `any:` of 480 equality tests hung too; `all:` of 600 equality tests on one field ran.
- fields per message: 251 fields read by the rules ran; 252 failed with error 302 (the engine
  also counts the session id and our sentinel field; the adapter now adds a fact id too, one
  field more, which the limit of 240 leaves room for).
Each limit below is set well inside what was measured. Counting alternatives rather than rules
that can hold together is deliberately coarse (it assumes every rule may fire at once), so a
part that passes here cannot reach error 303 whatever the case facts are.

So the engine adapter splits a stage into parts, each registered as its own engine ruleset and
within every limit (`partition`); rules are independent (effects are applied afterwards, in rule
order), so a split stage decides exactly as one ruleset would. A single rule beyond a part's
limits is refused. A council's own rules for one stage are held to one part's worth
(`overlay_problems`): more is not something a council's policy needs, and it keeps a careless or
hostile upload from multiplying the engine work of every decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from carebudget.rulebook.rules import Compare, Condition, FactRef, Group, ParamRef, Rule

MAX_ALTERNATIVES_PER_PART = 55  # 61 firing together failed with error 303
MAX_EQUALITY_ALTERNATIVES_PER_FIELD = 400  # 475 hung
MAX_FIELDS = 240  # 252 failed with error 302
_CAP = 10**6  # alternatives grow as a product; stop counting long before it overflows anything


class RulesetLimitError(ValueError):
    """A set of rules the engine cannot run safely."""


def param_field(name: str) -> str:
    return "p__" + name.replace(".", "__")


def left_field(fact: str) -> str:
    return param_field(fact[len("param."):]) if fact.startswith("param.") else fact


def alternatives(cond: Condition) -> int:
    """How many alternatives the engine makes of one condition (all: multiplies, any: adds)."""
    if isinstance(cond, Compare):
        return 1
    counts = [alternatives(c) for c in cond.items]
    if cond.kind == "any":
        return min(sum(counts), _CAP)
    total = 1
    for count in counts:
        total = min(total * count, _CAP)
    return total


def fields_read(cond: Condition) -> set[str]:
    if isinstance(cond, Group):
        return {f for c in cond.items for f in fields_read(c)}
    extra = set()
    if isinstance(cond.value, ParamRef):
        extra = {param_field(cond.value.name)}
    elif isinstance(cond.value, FactRef):
        extra = {cond.value.name}
    return {left_field(cond.fact)} | extra


def _equalities(cond: Condition) -> Counter[str]:
    """Equality tests per field, each weighed by the alternatives it is copied into."""
    if isinstance(cond, Compare):
        return Counter([left_field(cond.fact)] if cond.op == "==" else [])
    found: Counter[str] = Counter()
    if cond.kind == "any":
        for item in cond.items:
            found.update(_equalities(item))
        return found
    counts = [alternatives(c) for c in cond.items]
    for index, item in enumerate(cond.items):
        others = 1
        for other, count in enumerate(counts):
            if other != index:
                others = min(others * count, _CAP)
        for name, times in _equalities(item).items():
            found[name] += min(times * others, _CAP)
    return found


def _rule_counts(rule: Rule) -> tuple[int, Counter[str], set[str]]:
    return alternatives(rule.when), _equalities(rule.when), fields_read(rule.when)


def rule_problems(rule: Rule, stage: str) -> list[str]:
    """Why the engine could not run this one rule even on its own (empty: it can)."""
    count, equalities, fields = _rule_counts(rule)
    problems = []
    if count > MAX_ALTERNATIVES_PER_PART:
        problems.append(
            f"rule {rule.id!r} in stage {stage!r} makes {count} 'any:' alternatives; the rules engine "
            f"can run at most {MAX_ALTERNATIVES_PER_PART} at once (it fails with error 303 when about 60 hold)"
        )
    for name, times in sorted(equalities.items()):
        if times > MAX_EQUALITY_ALTERNATIVES_PER_FIELD:
            problems.append(
                f"rule {rule.id!r} tests {name!r} for equality in {times} alternatives; the rules "
                f"engine can take at most {MAX_EQUALITY_ALTERNATIVES_PER_FIELD} (it hangs at about 475)"
            )
    if len(fields) > MAX_FIELDS:
        problems.append(
            f"rule {rule.id!r} in stage {stage!r} reads {len(fields)} facts and parameters; the rules "
            f"engine can take at most {MAX_FIELDS} in one evaluation (it fails with error 302 above 251)"
        )
    return problems


def stage_problems(rules: Iterable[Rule], stage: str) -> list[str]:
    """Rules the engine could not run even in a part of their own (empty: the stage can run)."""
    return [p for rule in rules for p in rule_problems(rule, stage)]


def overlay_problems(rules: Iterable[Rule], stage: str) -> list[str]:
    """A council's own rules for one stage: at most one engine part's worth."""
    total, equalities = 0, Counter[str]()
    for rule in rules:
        count, found, _ = _rule_counts(rule)
        total = min(total + count, _CAP)
        equalities.update(found)
    problems = []
    if total > MAX_ALTERNATIVES_PER_PART:
        problems.append(
            f"stage {stage!r} has {total} council rules and 'any:' alternatives; a council's rules for "
            f"one stage may have at most {MAX_ALTERNATIVES_PER_PART}, what the rules engine can run at "
            "once (it fails with error 303 when about 60 hold together)"
        )
    for name, times in sorted(equalities.items()):
        if times > MAX_EQUALITY_ALTERNATIVES_PER_FIELD:
            problems.append(
                f"stage {stage!r} tests {name!r} for equality in {times} alternatives; the rules "
                f"engine can take at most {MAX_EQUALITY_ALTERNATIVES_PER_FIELD} (it hangs at about 475)"
            )
    return problems


def partition(rules: tuple[Rule, ...], stage: str) -> list[tuple[int, ...]]:
    """Indices of the rules in parts the engine can each run as one ruleset, in rule order.
    Raises RulesetLimitError for a rule no part could hold."""
    problems = stage_problems(rules, stage)
    if problems:
        raise RulesetLimitError("; ".join(problems))
    parts: list[tuple[int, ...]] = []
    current: list[int] = []
    total, equalities, fields = 0, Counter[str](), set[str]()
    for index, rule in enumerate(rules):
        count, found, read = _rule_counts(rule)
        merged = equalities + found
        fits = (total + count <= MAX_ALTERNATIVES_PER_PART
                and all(v <= MAX_EQUALITY_ALTERNATIVES_PER_FIELD for v in merged.values())
                and len(fields | read) <= MAX_FIELDS)
        if current and not fits:
            parts.append(tuple(current))
            current, total, merged, fields = [], 0, Counter(found), set()
        current.append(index)
        total, equalities, fields = total + count, merged, fields | read
    if current:
        parts.append(tuple(current))
    return parts


def check_stage(rules: Iterable[Rule], stage: str) -> None:
    problems = stage_problems(rules, stage)
    if problems:
        raise RulesetLimitError("; ".join(problems))
