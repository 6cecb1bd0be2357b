"""What-if in a pool of worker processes decides exactly as single decisions do (issue 12 point 3)."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

from bench.cases import generate_cases
from carebudget.decisions import decide_with_bundle
from carebudget.policy.whatif import candidate_library, run_whatif
from carebudget.policy.whatif_pool import BATCH
from carebudget.rulebook.library import load_library
from carebudget.settings import REPO_ROOT

ON = date(2025, 6, 1)


def candidate(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(REPO_ROOT / "rules/councils/demo", folder)
    ras = folder / "ras.yaml"
    ras.write_text(ras.read_text().replace("then: {add_points: 6}", "then: {add_points: 7}"))
    return folder


def test_a_caseload_decided_in_two_worker_processes_matches_one_process_and_single_decisions(tmp_path: Path) -> None:
    library = load_library(REPO_ROOT / "rules")
    proposed = candidate_library(library, "demo", candidate(tmp_path))
    cases = generate_cases(2 * BATCH + 137, seed=5)
    for case in cases[::7]:
        del case["id"]  # named by position in the whole caseload, whichever batch decides it
    cases[3]["input"]["person"]["date_of_birth"] = "2015-01-01"  # refused: a child
    seen: list[int] = []
    pooled = run_whatif(library, proposed, "demo", cases, ON, progress=seen.append, workers=2)
    alone = run_whatif(library, proposed, "demo", cases, ON, workers=1)
    assert pooled.changes == alone.changes
    assert sum(seen) == len(cases) and len(seen) == 3
    assert pooled.changes[3].error and "under 18" in pooled.changes[3].error
    assert pooled.changes[7].case_id == "8"
    assert pooled.gainers
    for case, change in list(zip(cases, pooled.changes, strict=True))[::25]:
        if change.error:
            continue
        for lib, amount in ((library, change.before), (proposed, change.after)):
            budget = decide_with_bundle("indicative-budget", lib.bundle("demo", ON), ON, case["input"])["indicative_budget"]
            assert amount == (Decimal(budget["weekly_low"]) + Decimal(budget["weekly_high"])) / 2
