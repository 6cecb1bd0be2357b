"""A long run of the reused-session adapter in a fresh process: no crash, the same answers from
start to finish, and memory that does not grow with the number of evaluations (issue 12).

durable_rules 2.0.28 once crashed (SIGSEGV in delete_state) only after thousands of evaluations,
and a session that kept what it was given would grow with every case: both show only in a long
run, so the run is long, and in a process of its own so a crash fails the test, not the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys

from carebudget.settings import REPO_ROOT

SCRIPT = """
import json, resource
from datetime import date
from bench.cases import generate_cases
from carebudget.decisions.facts import assess_facts
from carebudget.decisions.inputs import CaseFacts
from carebudget.rulebook.engine import get_engine
from carebudget.rulebook.registry import get_registry
on = date(2025, 6, 1)
bundle = get_registry().bundle("demo", on)
engine = get_engine()
messages = []
for stage in ("assess", "charge"):
    compiled = bundle.compiled(stage)
    params = bundle.param_fields(compiled)
    for case in generate_cases(500, seed=3):
        facts = assess_facts(CaseFacts.model_validate(case["input"]), on)
        messages.append((compiled, {k: facts[k] for k in compiled.fields if k in facts} | params))
first = [engine.evaluate(c, m) for c, m in messages]
rss = []
for round in range(ROUNDS):
    for (c, m), expected in zip(messages, first):
        assert engine.evaluate(c, m) == expected
    rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sessions = [p.sessions for s in ("assess", "charge") for p in bundle.compiled(s).parts]
print(json.dumps({"evaluations": len(messages) * (ROUNDS + 1), "rss_kb": rss, "sessions": sessions}))
"""


def test_a_hundred_thousand_evaluations_in_a_fresh_process_keep_their_answers_and_their_memory() -> None:
    script = SCRIPT.replace("ROUNDS", "100")
    result = subprocess.run([sys.executable, "-c", script], check=False, cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=900, env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["evaluations"] == 101_000
    assert set(report["sessions"]) == {1}
    # Peak memory after the first tenth of the run against the end: a session that kept even a
    # small part of each case (1 KB a case) would add about 90 MB.
    growth_mb = (report["rss_kb"][-1] - report["rss_kb"][9]) / 1024
    assert growth_mb < 16, report["rss_kb"]
