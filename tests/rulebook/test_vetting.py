"""The vetting child (issue 10 point 3): whatever happens to it, the parent gets a sentence back,
and a child past its time is killed with everything it started."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from carebudget.rulebook import vetting
from carebudget.settings import REPO_ROOT
from tests.hostile import files


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    shutil.copytree(REPO_ROOT / "rules", tmp_path / "rules")
    return tmp_path / "rules"


def test_the_shipped_rules_pass_vetting_in_a_child_process(rules: Path) -> None:
    assert vetting.vet_in_subprocess(rules, "demo", timeout_s=120, memory_mb=1024) == []


def test_a_child_past_its_wall_clock_limit_is_killed_and_reported(rules: Path) -> None:
    problems = vetting.vet_in_subprocess(rules, "demo", timeout_s=0.01, memory_mb=1024)
    assert problems == [
        ("checking these rules did not finish within 0.01 seconds: the rules engine hangs on "
        "them; make the change smaller or split it")
    ]


def test_a_child_past_its_memory_limit_is_reported_not_raised(rules: Path) -> None:
    problems = vetting.vet_in_subprocess(rules, "demo", timeout_s=120, memory_mb=30)
    assert problems == [
        "checking these rules needed more than 30 MB of memory: the rules engine cannot run them"
    ]


def test_a_child_that_crashes_is_reported_by_its_signal() -> None:
    assert vetting._outcome(-11, "", "", 1024) == [
        "the rules engine crashed on these rules (SIGSEGV); they cannot be used"
    ]


def test_a_council_overlay_the_engine_cannot_run_is_refused_naming_the_file(rules: Path) -> None:
    (rules / "councils/demo/capital.yaml").write_text(files.capital_rules(), encoding="utf-8")
    [problem] = vetting.vet_in_subprocess(rules, "demo", timeout_s=120, memory_mb=1024)
    assert problem.startswith("rules/councils/demo/capital.yaml: from 2030-01-01: stage 'charge'")


def test_the_generated_caseload_makes_every_rule_that_can_hold_hold(rules: Path) -> None:
    """`capital > N` for each N the rules name: the highest case makes every one of them hold."""
    from carebudget.rulebook.engine import get_engine
    from carebudget.rulebook.library import load_library

    (rules / "councils/demo/capital.yaml").write_text(files.capital_rules(40), encoding="utf-8")
    bundle = load_library(rules).bundle("demo", date(2030, 1, 1))
    compiled = bundle.compiled("charge")
    fired = [
        len(get_engine().evaluate(compiled, {**facts, **bundle.param_fields(compiled)}))
        for facts in vetting.caseload("charge", compiled.rules, compiled.fields)
    ]
    assert len(fired) == vetting.CASES_PER_STAGE
    assert max(fired) >= 40
