"""Every YAML rule test kept beside the rules, run through the real durable_rules engine."""

from __future__ import annotations

import pytest

from carebudget.policy.ruletests import discover, run_test
from carebudget.rulebook.library import load_library
from carebudget.settings import REPO_ROOT

LIBRARY = load_library(REPO_ROOT / "rules")
TESTS = discover(LIBRARY)


def test_every_council_ships_rule_tests() -> None:
    assert {t.council for t in TESTS} == {"england", "demo"}


@pytest.mark.parametrize("case", TESTS, ids=[f"{t.council}: {t.name}" for t in TESTS])
def test_rule_file_case(case) -> None:
    result = run_test(LIBRARY, case)
    assert result.passed, "; ".join(result.problems)


def test_every_rule_and_amount_cites_its_source() -> None:
    for code in LIBRARY.codes():
        for layer in LIBRARY.layers(code):
            for rule_file in layer.rule_files:
                assert rule_file.reference.strip()
                for rule in rule_file.rules:
                    assert rule.reference.strip(), rule.id
            for param in layer.parameters.values():
                assert param.reference.strip(), param.name
                if param.unit == "GBP":  # every legal amount names where its figure came from
                    for value in param.values:
                        assert value.value is None or value.source, (param.name, value.since)
                        assert value.grade, (param.name, value.since)
