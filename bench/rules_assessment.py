"""Full `assessment` decisions per second through durable_rules, beside the same decisions with the
rule conditions evaluated in plain Python and in zen-engine (GoRules JDM), all in one run; and
what-if over a generated caseload. Every evaluator must give identical records, or the bench fails.
Goals (issue 2): >= 10,000 assessment decisions/s per core; what-if on 20,000 cases under 5 s.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import zen

from bench.cases import generate_cases
from carebudget.decisions.contract import decide_with_bundle
from carebudget.policy.whatif import candidate_library, run_whatif
from carebudget.rulebook.engine import CompiledRuleset, get_engine, param_field
from carebudget.rulebook.library import load_library
from carebudget.rulebook.rules import Condition, FactRef, Group, ParamRef
from carebudget.settings import REPO_ROOT

QUICK = os.environ.get("CAREBUDGET_BENCH_QUICK") == "1"
ON = date(2025, 6, 1)
_PY_OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
           "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _left(fact: str) -> str:
    return param_field(fact[len("param."):]) if fact.startswith("param.") else fact


def _right(value: Any) -> Any:
    if isinstance(value, ParamRef):
        return ("field", param_field(value.name))
    if isinstance(value, FactRef):
        return ("field", value.name)
    return ("literal", value)


class PythonEvaluator:
    """Baseline: the same compiled rule conditions, interpreted in plain Python."""

    def _holds(self, cond: Condition, m: dict[str, Any]) -> bool:
        if isinstance(cond, Group):
            results = (self._holds(c, m) for c in cond.items)
            return all(results) if cond.kind == "all" else any(results)
        left = m.get(_left(cond.fact))
        kind, value = _right(cond.value)
        right = m.get(value) if kind == "field" else value
        if left is None or right is None:
            return False
        return _PY_OPS[cond.op](left, right)

    def evaluate(self, compiled: CompiledRuleset, message: dict[str, Any]) -> list[int]:
        return [i for i, rule in enumerate(compiled.rules) if self._holds(rule.when, message)]


def _zen_expression(cond: Condition) -> str:
    if isinstance(cond, Group):
        joiner = " and " if cond.kind == "all" else " or "
        return "(" + joiner.join(_zen_expression(c) for c in cond.items) + ")"
    kind, value = _right(cond.value)
    if kind == "field":
        right = value
    elif isinstance(value, bool):
        right = "true" if value else "false"
    elif isinstance(value, str):
        right = json.dumps(value)
    else:
        right = repr(value)
    return f"({_left(cond.fact)} {cond.op} {right})"


class ZenEvaluator:
    """Comparison: the same conditions compiled to one GoRules JDM expression node per stage."""

    def __init__(self) -> None:
        self._engine = zen.ZenEngine()
        self._decisions: dict[str, Any] = {}

    def _decision(self, compiled: CompiledRuleset) -> Any:
        if compiled.name not in self._decisions:
            expressions = [{"id": f"e{i}", "key": f"r{i}", "value": _zen_expression(rule.when)}
                           for i, rule in enumerate(compiled.rules)]
            jdm = {
                "nodes": [
                    {"id": "in", "type": "inputNode", "name": "facts", "position": {"x": 0, "y": 0}, "content": {}},
                    {"id": "rules", "type": "expressionNode", "name": "rules", "position": {"x": 1, "y": 0},
                     "content": {"expressions": expressions}},
                    {"id": "out", "type": "outputNode", "name": "fired", "position": {"x": 2, "y": 0}, "content": {}},
                ],
                "edges": [{"id": "a", "sourceId": "in", "targetId": "rules", "type": "edge"},
                          {"id": "b", "sourceId": "rules", "targetId": "out", "type": "edge"}],
            }
            self._decisions[compiled.name] = self._engine.create_decision(json.dumps(jdm))
        return self._decisions[compiled.name]

    def evaluate(self, compiled: CompiledRuleset, message: dict[str, Any]) -> list[int]:
        result = self._decision(compiled).evaluate(message)["result"]
        return [i for i in range(len(compiled.rules)) if result.get(f"r{i}") is True]


def _rate(label: str, cases: list[dict[str, Any]], bundle: Any, engine: Any) -> tuple[float, list[dict]]:
    for case in cases[:50]:
        decide_with_bundle("assessment", bundle, ON, case["input"], engine)
    started = time.perf_counter()
    records = [decide_with_bundle("assessment", bundle, ON, case["input"], engine) for case in cases]
    elapsed = time.perf_counter() - started
    rate = len(cases) / elapsed
    print(f"  {label:<34} {rate:10,.0f} decisions/s  ({elapsed * 1e6 / len(cases):7.1f} us each)")
    return rate, records


def _stage_rate(label: str, cases: list[dict[str, Any]], bundle: Any, engine: Any) -> float:
    from carebudget.decisions.facts import assess_facts
    from carebudget.decisions.inputs import CaseFacts

    compiled = bundle.compiled("assess")
    params = bundle.param_fields(compiled)
    messages = []
    for case in cases:
        facts = assess_facts(CaseFacts.model_validate(case["input"]), ON)
        messages.append({k: facts[k] for k in compiled.fields if k in facts} | params)
    started = time.perf_counter()
    for message in messages:
        engine.evaluate(compiled, message)
    rate = len(messages) / (time.perf_counter() - started)
    print(f"  {label:<34} {rate:10,.0f} evaluations/s")
    return rate


def main() -> None:
    n = 1_000 if QUICK else 5_000
    cases = generate_cases(n)
    library = load_library(REPO_ROOT / "rules")
    bundle = library.bundle("demo", ON)
    print(f"assessment decisions, demo council, {n} generated cases, one process (one core):")
    dr_rate, dr_records = _rate("durable_rules (the service)", cases, bundle, get_engine())
    py_rate, py_records = _rate("plain Python conditions", cases, bundle, PythonEvaluator())
    zen_rate, zen_records = _rate("zen-engine (JDM expressions)", cases, bundle, ZenEvaluator())
    if not (dr_records == py_records == zen_records):
        raise SystemExit("evaluators disagree: the bench is not comparing like with like")
    print(f"  ratio durable_rules / plain Python: {dr_rate / py_rate:.2f}x;  durable_rules / zen-engine: {dr_rate / zen_rate:.2f}x")
    print(f"  goal >= 10,000 decisions/s per core: {'met' if dr_rate >= 10_000 else 'NOT met'} ({dr_rate:,.0f}/s)")
    print("rule-condition evaluation alone (assess stage, facts prepared in advance):")
    e1 = _stage_rate("durable_rules", cases, bundle, get_engine())
    e2 = _stage_rate("plain Python", cases, bundle, PythonEvaluator())
    e3 = _stage_rate("zen-engine", cases, bundle, ZenEvaluator())
    print(f"  ratio durable_rules / plain Python: {e1 / e2:.2f}x;  durable_rules / zen-engine: {e1 / e3:.2f}x")

    whatif_n = 2_000 if QUICK else 20_000
    caseload = generate_cases(whatif_n, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        candidate = Path(tmp) / "demo"
        shutil.copytree(REPO_ROOT / "rules/councils/demo", candidate)
        ras = candidate / "ras.yaml"
        ras.write_text(ras.read_text().replace("then: {add_points: 6}", "then: {add_points: 7}"))
        started = time.perf_counter()
        proposed = candidate_library(library, "demo", candidate)
        report = run_whatif(library, proposed, "demo", caseload, ON)
        elapsed = time.perf_counter() - started
    summary = report.summary()
    print(f"what-if over {whatif_n:,} cases (each decided under both bundles): {elapsed:.2f} s "
          f"({whatif_n / elapsed:,.0f} cases/s); {summary['gain']} gain, {summary['lose']} lose, "
          f"total weekly change £{summary['total_weekly_change']}")
    if not QUICK:
        print(f"  goal 20,000 cases under 5 s: {'met' if elapsed < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
