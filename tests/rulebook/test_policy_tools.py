"""Policy officers' tools: rules validate, test, diff and what-if from the command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from carebudget.decisions import decide_with_bundle
from carebudget.policy.whatif import candidate_library, run_whatif
from carebudget.rulebook.library import load_library
from carebudget.settings import REPO_ROOT

ON = date(2025, 6, 1)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "carebudget.cli", *args], check=False, capture_output=True, text=True, timeout=300)


def generated(n: int) -> list[dict]:
    sys.path.insert(0, str(REPO_ROOT))
    from bench.cases import generate_cases

    return generate_cases(n, seed=3)


def raised_candidate(tmp_path: Path) -> Path:
    candidate = tmp_path / "demo"
    shutil.copytree(REPO_ROOT / "rules/councils/demo", candidate)
    ras = candidate / "ras.yaml"
    ras.write_text(ras.read_text().replace("then: {add_points: 8}", "then: {add_points: 20}"))
    return candidate


def test_whatif_agrees_with_deciding_each_case_under_each_bundle(tmp_path: Path) -> None:
    library = load_library(REPO_ROOT / "rules")
    proposed = candidate_library(library, "demo", raised_candidate(tmp_path))
    cases = generated(60)
    report = run_whatif(library, proposed, "demo", cases, ON)
    for case, change in zip(cases, report.changes, strict=True):
        if change.error:
            continue
        after = decide_with_bundle("indicative-budget", proposed.bundle("demo", ON), ON, case["input"])["indicative_budget"]
        assert change.after == (Decimal(after["weekly_low"]) + Decimal(after["weekly_high"])) / 2
    assert report.losers == []
    assert len(report.gainers) > 0
    assert report.total_change > 0


def test_whatif_cli_prints_who_gains_and_who_loses(tmp_path: Path) -> None:
    cases_file = tmp_path / "cases.jsonl"
    cases_file.write_text("\n".join(json.dumps(c) for c in generated(40)))
    result = cli("rules", "whatif", "--council", "demo", "--candidate", str(raised_candidate(tmp_path)), "--cases", str(cases_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gain" in result.stdout and "total weekly change" in result.stdout


def test_whatif_refuses_a_broken_candidate_naming_file_and_line(tmp_path: Path) -> None:
    candidate = raised_candidate(tmp_path)
    (candidate / "ras.yaml").write_text("name: demo-ras\nrules: [\n")
    cases_file = tmp_path / "cases.json"
    cases_file.write_text("[]")
    result = cli("rules", "whatif", "--council", "demo", "--candidate", str(candidate), "--cases", str(cases_file))
    assert result.returncode == 2
    assert "ras.yaml" in result.stdout.replace("\n", "")


def test_diff_between_two_dates_lists_the_changed_amounts() -> None:
    result = cli("rules", "diff", "--council", "england", "--from", "2023-04-05", "--to", "2023-04-06", "--json")
    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout)
    changed = {p["parameter"]: p for p in diff["parameters"]}
    assert changed["personal_expenses_allowance"]["from"] == "25.65"
    assert changed["personal_expenses_allowance"]["to"] == "28.25"
    assert diff["same"] is False


def test_validate_and_test_commands_pass_on_the_shipped_rules() -> None:
    assert cli("rules", "validate").returncode == 0
    result = cli("rules", "test", "demo")
    assert result.returncode == 0, result.stdout
    assert "0 failed" in result.stdout


def test_a_failing_rule_test_makes_rules_test_exit_non_zero(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    tests = rules / "councils/demo/tests/demo.yaml"
    tests.write_text(tests.read_text().replace("indicative_budget.points: 18", "indicative_budget.points: 19"))
    result = cli("rules", "test", "demo", "--rules-dir", str(rules))
    assert result.returncode == 1
    assert "expected 19, got 18" in result.stdout
