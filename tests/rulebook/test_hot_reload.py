"""A running process picks up rule changes without restart; a broken file changes nothing."""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

import pytest

from carebudget.decisions import decide_with_bundle
from carebudget.rulebook import Registry, RuleFileError
from carebudget.settings import REPO_ROOT

ON = date(2025, 6, 1)
CASE = {
    "person": {"date_of_birth": "1980-01-01", "setting": "home"},
    "needs": {"arise_from_impairment_or_illness": True, "wellbeing_impact": "significant",
              "outcomes": {"nutrition": ["needs_assistance"], "toilet_needs": ["needs_assistance"]}},
}


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", target)
    return target


def points(registry: Registry) -> tuple[int, str]:
    bundle = registry.bundle("demo", ON)
    record = decide_with_bundle("indicative-budget", bundle, ON, CASE)
    return record["indicative_budget"]["points"], record["rules"]["bundle"]


def touch_and_wait(registry: Registry) -> None:
    time.sleep(registry.poll_seconds + 0.05)


def test_an_edited_rule_file_is_used_by_the_next_decision_without_restart(rules_copy: Path) -> None:
    registry = Registry(rules_copy, poll_seconds=0.05)
    before, first_bundle = points(registry)
    ras = rules_copy / "councils/demo/ras.yaml"
    ras.write_text(ras.read_text().replace("when: unable_nutrition == true\n    then: {add_points: 6}",
                                           "when: unable_nutrition == true\n    then: {add_points: 16}"))
    touch_and_wait(registry)
    after, second_bundle = points(registry)
    assert after == before + 10
    assert second_bundle != first_bundle


def test_a_broken_rule_file_is_refused_with_file_and_line_and_the_old_bundle_stays(rules_copy: Path) -> None:
    registry = Registry(rules_copy, poll_seconds=0.05)
    before = points(registry)
    ras = rules_copy / "councils/demo/ras.yaml"
    text = ras.read_text()
    ras.write_text(text.replace("when: unable_toilet_needs == true", "when: unable_toilet_needs == maybe"))
    touch_and_wait(registry)
    assert points(registry) == before
    assert isinstance(registry.refused, RuleFileError)
    assert registry.refused.path.endswith("ras.yaml")
    assert registry.refused.line == text[: text.index("unable_toilet_needs == true")].count("\n") + 1
    assert "true/false" in registry.refused.reason


def test_a_new_dated_version_of_a_rule_file_takes_effect_from_its_date(rules_copy: Path) -> None:
    registry = Registry(rules_copy, poll_seconds=0.05)
    ras = rules_copy / "councils/demo/ras.yaml"
    newer = ras.read_text().replace("effective_from: 2025-04-01", "effective_from: 2026-04-01").replace(
        "then: {add_points: 6}", "then: {add_points: 7}")
    (rules_copy / "councils/demo/ras-2026.yaml").write_text(newer)
    touch_and_wait(registry)
    old = decide_with_bundle("indicative-budget", registry.bundle("demo", date(2026, 3, 31)), date(2026, 3, 31), CASE)
    new = decide_with_bundle("indicative-budget", registry.bundle("demo", date(2026, 4, 1)), date(2026, 4, 1), CASE)
    assert new["indicative_budget"]["points"] == old["indicative_budget"]["points"] + 1


@pytest.mark.parametrize(
    ("edit", "reason"),
    [(("stage: assess", "stage: later"), "stage must be one of"),
     (("add_points: 6}", "add_points: -6}"), "add_points must be a whole number"),
     (("when: unable_nutrition == true", "when: unable_nutrition = true"), "cannot read condition"),
     (("when: unable_nutrition == true", "when: flying == true"), "unknown fact 'flying'"),
     (("reference: SI 2015/313 reg 2(2)(a); Demo BC RAS 2025 table 1", "reference: ''"), "needs a reference"),
     (("rules:\n", "rules: [\n"), "not valid YAML")],
)
def test_invalid_rule_files_name_file_line_and_reason(rules_copy: Path, edit, reason: str) -> None:
    ras = rules_copy / "councils/demo/ras.yaml"
    ras.write_text(ras.read_text().replace(*edit, 1))
    with pytest.raises(RuleFileError) as refused:
        Registry(rules_copy)
    assert refused.value.path.endswith("ras.yaml")
    assert refused.value.line is not None
    assert reason in str(refused.value)


def test_a_bundle_decided_under_stays_known_by_hash_after_the_files_change(rules_copy: Path) -> None:
    registry = Registry(rules_copy, poll_seconds=0.05)
    before = registry.bundle("demo", ON)
    ras = rules_copy / "councils/demo/ras.yaml"
    ras.write_text(ras.read_text().replace("then: {add_points: 6}", "then: {add_points: 9}"))
    touch_and_wait(registry)
    assert registry.bundle("demo", ON).hash != before.hash
    kept = registry.known_bundle(before.hash)
    assert kept is not None and kept.content == before.content
