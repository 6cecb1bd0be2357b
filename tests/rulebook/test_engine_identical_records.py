"""The reused-session adapter makes exactly the records the adapter before it made (issue 12).

The reference is that adapter itself (bench/legacy_engine.py: a fresh session per evaluation,
long names, state written back) and durable_rules' public Host API; every decision kind, on a
generated caseload with carers, care homes, finances and counter-proposals.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from bench.cases import generate_cases
from bench.legacy_engine import LegacyEngine
from carebudget.decisions.contract import DecisionError, decide_with_bundle
from carebudget.rulebook import get_registry
from carebudget.rulebook.engine import CompiledRuleset, RulesEngine, get_engine
from carebudget.rulebook.vocabulary import CARER_OUTCOMES, WAYS
from carebudget.service.examples import make_case

ON = date(2025, 6, 1)
CASE_KINDS = ("eligibility", "carer-eligibility", "charge", "indicative-budget", "assessment")


class ViaHost:
    """The reference evaluation through the engine's public API, as a StageEvaluator."""

    def __init__(self, engine: RulesEngine) -> None:
        self.engine = engine

    def evaluate(self, compiled: CompiledRuleset, message: dict[str, Any]) -> list[int]:
        return self.engine.evaluate_via_host(compiled, message)


def caseload(n: int) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(12)
    load = []
    for number, case in enumerate(generate_cases(n, seed=12)):
        payload = case["input"]
        if number % 3 == 0:
            payload["carer"] = {
                "needs_arise_from_providing_necessary_care": rng.random() < 0.9,
                "health_at_risk": rng.random() < 0.3,
                "wellbeing_impact": rng.choice(["significant", "not_significant"]),
                "outcomes": {o: rng.sample(WAYS, rng.randint(1, 2)) for o in rng.sample(CARER_OUTCOMES, rng.randint(0, 4))},
            }
        load.append((CASE_KINDS[number % len(CASE_KINDS)], payload))
    for number in range(n // 10):
        script = make_case(number, seed=12)
        load.append(("counter-proposal", {"needs": script.verification["support"], "plan": script.plan["plan"],
                                          "proposal": script.counter["proposal"]}))
    return load


def decide_all(load: list[tuple[str, dict[str, Any]]], engine: Any) -> list[dict[str, Any]]:
    bundle = get_registry().bundle("demo", ON)
    records = []
    for kind, payload in load:
        try:
            records.append(decide_with_bundle(kind, bundle, ON, payload, engine))
        except DecisionError as exc:
            records.append(exc.to_json())
    return records


def test_every_kind_of_decision_is_identical_to_the_fresh_session_adapters_on_a_large_caseload() -> None:
    load = caseload(5_000)
    records = decide_all(load, get_engine())
    assert sum("error" not in r for r in records) > 4_000  # most are real decisions, not refusals
    assert {r["kind"] for r in records if "kind" in r} == set(CASE_KINDS) | {"counter-proposal"}
    assert records == decide_all(load, LegacyEngine())


def test_the_reused_session_agrees_with_a_fresh_session_through_the_public_api() -> None:
    load = caseload(600)
    assert decide_all(load, get_engine()) == decide_all(load, ViaHost(get_engine()))


def test_each_part_keeps_one_session_over_thousands_of_evaluations() -> None:
    bundle = get_registry().bundle("demo", ON)
    decide_all(caseload(1_500), get_engine())
    for stage in ("assess", "charge", "counter_proposal"):
        assert all(part.sessions == 1 for part in bundle.compiled(stage).parts)
