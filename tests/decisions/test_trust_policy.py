"""Issue 15: the council's policy for savings, pools and reablement, tested from YAML sentences
under rules/councils/<code>/tests/trust/ (the same shape as the rule tests)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from carebudget.decisions import pools, reablement, savings
from carebudget.rulebook.library import load_library
from carebudget.settings import REPO_ROOT

RULES = REPO_ROOT / "rules"
FILES = sorted(RULES.glob("councils/*/tests/trust/*.yaml"))
KINDS: dict[str, Any] = {
    "savings-use": lambda b, i: savings.decide_savings_use(b, savings.SavingsUse.model_validate(i)),
    "review-depth": lambda b, i: savings.decide_review_depth(b, savings.SaverHistory.model_validate(i)),
    "pool-share": lambda b, i: pools.decide_share(b, pools.ShareRequest.model_validate(i)),
    "pool-reward": lambda b, i: pools.decide_reward(b, pools.PoolReview.model_validate(i)),
    "reablement": lambda b, i: reablement.cost_episode(b, reablement.Episode.model_validate(i)),
}


def _cases() -> list[Any]:
    found = []
    for path in FILES:
        council = path.parts[-4]
        for test in yaml.safe_load(path.read_text(encoding="utf-8")):
            found.append(pytest.param(council, test, id=test["name"]))
    return found


@pytest.fixture(scope="module")
def library() -> Any:
    return load_library(RULES)


def test_there_are_policy_sentences_for_every_kind() -> None:
    kinds = {t.values[1]["kind"] for t in _cases()}
    assert kinds == set(KINDS)


@pytest.mark.parametrize(("council", "test"), _cases())
def test_policy_sentence(library: Any, council: str, test: dict[str, Any]) -> None:
    bundle = library.bundle(council, date.fromisoformat(test["date"]))
    result = KINDS[test["kind"]](bundle, test["input"])
    for key, expected in test["expected"].items():
        assert result[key] == expected, (key, result)
    for phrase in test.get("reasons_include", []):
        assert any(phrase in r for r in result["reasons"]), result["reasons"]


def test_a_council_without_the_policy_refuses_uses_and_pools(library: Any) -> None:
    bundle = library.bundle("england", date(2025, 6, 1))
    use = savings.decide_savings_use(bundle, savings.SavingsUse(
        purpose="equipment", amount="10.00", balance="100.00", description="A kettle tipper for safety"))
    assert use["approved"] is False
    share = pools.decide_share(bundle, pools.ShareRequest(share="1.00", weekly_budget="100.00"))
    assert share == {"approved": False, "reasons": ["the council has no community pool policy in force"]}


def test_files_are_found() -> None:
    assert FILES and all(isinstance(p, Path) for p in FILES)
