"""Regression: durable_rules 2.0.28 corrupted memory when a session was deleted after an evaluation
that matched no rule. This script crashed (SIGSEGV) on every run before the adapter's sentinel rule."""

from __future__ import annotations

import subprocess
import sys

from carebudget.settings import REPO_ROOT

SCRIPT = """
from carebudget.decisions.contract import decide_with_bundle
from carebudget.rulebook.library import load_library
from carebudget.policy.ruletests import discover, run_test
from carebudget.settings import REPO_ROOT
lib = load_library(REPO_ROOT / "rules")
for t in discover(lib):
    r = run_test(lib, t)
print("ok")
"""


def test_every_rule_test_in_a_fresh_process_runs_without_crashing_the_engine() -> None:
    for _ in range(3):
        result = subprocess.run([sys.executable, "-c", SCRIPT], check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == "ok"
