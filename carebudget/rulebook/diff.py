"""A readable difference between two bundles: amounts before and after, and for each rule that
changed its condition and effect before and after, in the words of the rule files."""

from __future__ import annotations

from datetime import date
from typing import Any

from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.library import Library
from carebudget.rulebook.rules import Compare, Condition, Effects, FactRef, ParamRef, Rule, Value


def _value(value: Value) -> str:
    if isinstance(value, ParamRef):
        return f"param.{value.name}"
    if isinstance(value, FactRef):
        return f"fact.{value.name}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def describe_condition(cond: Condition, top: bool = True) -> str:
    """`a == 1 and (b > 2 or c == true)`: a condition as one line a policy officer can read."""
    if isinstance(cond, Compare):
        return f"{cond.fact} {cond.op} {_value(cond.value)}"
    joined = f" {'and' if cond.kind == 'all' else 'or'} ".join(describe_condition(c, False) for c in cond.items)
    return joined if top or len(cond.items) == 1 else f"({joined})"


def describe_effects(then: Effects) -> str:
    parts = [f"set {key} = {_value(value)}" for key, value in then.set]
    if then.add_points:
        parts.append(f"add {then.add_points} points" + (f" per {then.per}" if then.per else ""))
    if then.fail:
        parts.append(f"refuse: {' '.join(then.fail.split())}")
    if then.reason:
        parts.append(f"reason: {' '.join(then.reason.split())}")
    return "; ".join(parts)


def _rule_text(rule: Rule) -> dict[str, str]:
    return {"when": describe_condition(rule.when), "then": describe_effects(rule.then)}


def diff_two(a: Bundle, b: Bundle, council: str, first: str, second: str) -> dict[str, Any]:
    """What differs from bundle `a` (labelled `first`, a date or a version) to bundle `b`."""
    params: list[dict[str, Any]] = []
    for name in sorted(set(a.parameters) | set(b.parameters)):
        pa, pb = a.parameters.get(name), b.parameters.get(name)
        va = pa.value if pa else None
        vb = pb.value if pb else None
        if va != vb or (pa is None) != (pb is None):
            latest = pb or pa
            params.append({"parameter": name, "from": va, "to": vb, "since": pb.since if pb else None,
                           "reference": latest.reference if latest else None})
    rules_a = {r.id: r for f in a.rule_files for r in f.rules}
    rules_b = {r.id: r for f in b.rule_files for r in f.rules}
    rules = []
    for rid in sorted(set(rules_a) | set(rules_b)):
        ra, rb = rules_a.get(rid), rules_b.get(rid)
        if ra is None and rb is not None:
            rules.append({"rule": rid, "change": "added", "reference": rb.reference, "after": _rule_text(rb)})
        elif rb is None and ra is not None:
            rules.append({"rule": rid, "change": "removed", "reference": ra.reference, "before": _rule_text(ra)})
        elif ra is not None and rb is not None and (ra.when, ra.then, ra.reference) != (rb.when, rb.then, rb.reference):
            rules.append({"rule": rid, "change": "changed", "reference": rb.reference,
                          "before": _rule_text(ra), "after": _rule_text(rb)})
    return {
        "council": council,
        "from": {"date": first, "bundle": a.hash},
        "to": {"date": second, "bundle": b.hash},
        "same": a.hash == b.hash,
        "parameters": params,
        "rules": rules,
    }


def diff_bundles(library: Library, council: str, first: date, second: date) -> dict[str, Any]:
    """The bundles in force for a council on two dates."""
    return diff_two(library.bundle(council, first), library.bundle(council, second), council,
                    first.isoformat(), second.isoformat())
