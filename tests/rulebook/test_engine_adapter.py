"""The durable_rules adapter respects the engine's limits and agrees with its public API."""

from __future__ import annotations

import random
from datetime import date

import pytest

from carebudget.decisions.facts import assess_facts
from carebudget.decisions.inputs import CaseFacts
from carebudget.rulebook import get_registry
from carebudget.rulebook.engine import EngineError, RulesEngine, RulesetLimitError, get_engine
from carebudget.rulebook.rules import Compare, Effects, Group, Rule
from carebudget.rulebook.vocabulary import OUTCOMES, WAYS

ON = date(2025, 6, 1)


def random_case(rng: random.Random) -> dict:
    outcomes = {o: rng.sample(WAYS, rng.randint(1, 4)) for o in rng.sample(OUTCOMES, rng.randint(0, 10))}
    return {
        "person": {"date_of_birth": "1970-01-01", "setting": rng.choice(["home", "care_home"])},
        "needs": {"arise_from_impairment_or_illness": rng.random() < 0.8,
                  "wellbeing_impact": rng.choice(["significant", "not_significant"]), "outcomes": outcomes},
    }


def test_fast_path_and_public_host_api_fire_the_same_rules() -> None:
    rng = random.Random(7)
    bundle = get_registry().bundle("demo", ON)
    compiled = bundle.compiled("assess")
    engine = get_engine()
    for _ in range(200):
        facts = assess_facts(CaseFacts.model_validate(random_case(rng)), ON)
        message = {k: facts[k] for k in compiled.fields if k in facts} | bundle.param_fields(compiled)
        assert engine.evaluate(compiled, message) == engine.evaluate_via_host(compiled, message)


def test_more_decisions_than_the_engines_1024_live_sessions_all_succeed() -> None:
    bundle = get_registry().bundle("demo", ON)
    compiled = bundle.compiled("assess")
    facts = assess_facts(CaseFacts.model_validate(random_case(random.Random(1))), ON)
    message = {k: facts[k] for k in compiled.fields if k in facts} | bundle.param_fields(compiled)
    results = {tuple(get_engine().evaluate(compiled, message)) for _ in range(3000)}
    assert len(results) == 1


def rule(i: int, fact: str, value: object, op: str = "==") -> Rule:
    return Rule(f"r{i}", "test", Compare(fact, op, value), Effects(add_points=1))


def test_a_rule_with_too_many_equality_tests_on_one_field_is_refused_before_it_can_hang() -> None:
    tests = tuple(Compare("age_years", "==", i) for i in range(490))
    rules = (Rule("wide", "test", Group("any", tests), Effects(add_points=1)),)
    with pytest.raises(RulesetLimitError, match="'age_years' for equality in 490 alternatives"):
        RulesEngine().compile(rules, "assess")


def test_a_stage_of_490_equality_rules_on_one_field_runs_split_into_parts() -> None:
    engine = RulesEngine()
    compiled = engine.compile(tuple(rule(i, "age_years", i) for i in range(490)), "assess")
    assert len(compiled.parts) == 9 and all(len(p.indices) <= 55 for p in compiled.parts)
    assert engine.evaluate(compiled, {"age_years": 312}) == [312]
    assert engine.evaluate(compiled, {"age_years": 312}) == engine.evaluate_via_host(compiled, {"age_years": 312})


def test_seventy_rules_that_all_hold_are_split_so_none_reaches_error_303() -> None:
    """70 rules `capital > N` firing at once made the engine fail with error 303 as one ruleset."""
    engine = RulesEngine()
    compiled = engine.compile(tuple(rule(i, "capital", i * 1000, ">") for i in range(70)), "charge")
    assert [len(p.indices) for p in compiled.parts] == [55, 15]
    assert engine.evaluate(compiled, {"capital": 10**9}) == list(range(70))
    assert engine.evaluate(compiled, {"capital": 2500}) == [0, 1, 2]


def test_one_rule_with_more_alternatives_than_the_engine_runs_at_once_is_refused() -> None:
    tests = tuple(Compare("age_years", ">", i) for i in range(60))
    rules = (Rule("wide", "test", Group("any", tests), Effects(add_points=1)),)
    with pytest.raises(RulesetLimitError, match="makes 60 'any:' alternatives"):
        RulesEngine().compile(rules, "assess")


def test_a_ruleset_reading_more_fields_than_a_message_holds_is_refused() -> None:
    reads = Group("all", tuple(Compare(f"f{i}", ">", 1) for i in range(260)))
    rules = (Rule("wide", "test", reads, Effects(add_points=1)),)
    with pytest.raises(RulesetLimitError, match="reads 260 facts"):
        RulesEngine().compile(rules, "assess")


def test_the_same_rules_compile_once_under_one_content_named_ruleset() -> None:
    engine = RulesEngine()
    rules = (rule(0, "age_years", 40, ">="),)
    first, second = engine.compile(rules, "assess"), engine.compile(rules, "assess")
    assert first is second
    assert engine.evaluate(first, {"age_years": 41}) == [0]
    assert engine.evaluate(first, {"age_years": 39}) == []


def test_an_evaluation_the_engine_refuses_replaces_that_session_and_the_next_evaluation_is_unaffected() -> None:
    engine = RulesEngine()
    compiled = engine.compile((rule(0, "age_years", 40, ">="),), "assess")
    part = compiled.parts[0]
    assert engine.evaluate(compiled, {"age_years": 41}) == [0]
    with pytest.raises(EngineError, match="refused the evaluation"):
        engine.evaluate(compiled, {"age_years": float("inf")})  # JSON `Infinity`: the engine's parser refuses it
    assert part.sessions == 2
    assert engine.evaluate(compiled, {"age_years": 41}) == [0]
    assert engine.evaluate(compiled, {"age_years": 39}) == []
    assert part.sessions == 2


def test_the_generated_message_is_what_the_json_module_writes() -> None:
    from carebudget.rulebook.engine import Part

    part = Part("p", (0,), frozenset(["b", "i", "f", "s", "z"]))
    part.sid = "17"
    values = [True, False, 0, 1, -5, 10**30, 0.0, -0.0, 1.5, 1e300, 1e-7, float("nan"), float("inf"),
              "home", 'a"b\\c', "é✓\n", None, 3.14159]
    rng = random.Random(3)
    for _ in range(3000):
        message = {name: rng.choice(values) for name in "bifsz"}
        assert part.engine_message(message) == part._message_of(message), message
    assert part.engine_message({"b": True}) == '{"a0":true,"sid":"17","id":"case","cb__evaluation":1}'
    assert part.retraction() == '{"sid":"17","id":"case"}'
