"""What-if in a pool of worker processes decides exactly as single decisions do (issue 12 point 3)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

from bench.cases import generate_cases
from carebudget.decisions import decide_with_bundle
from carebudget.policy.whatif import candidate_library, run_whatif
from carebudget.policy.whatif_pool import BATCH, batch_size
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
    assert sum(seen) == len(cases) and len(seen) == -(-len(cases) // batch_size(len(cases)))
    assert pooled.changes[3].error and "under 18" in pooled.changes[3].error
    assert pooled.changes[7].case_id == "8"
    assert pooled.gainers
    for case, change in list(zip(cases, pooled.changes, strict=True))[::25]:
        if change.error:
            continue
        for lib, amount in ((library, change.before), (proposed, change.after)):
            budget = decide_with_bundle("indicative-budget", lib.bundle("demo", ON), ON, case["input"])["indicative_budget"]
            assert amount == (Decimal(budget["weekly_low"]) + Decimal(budget["weekly_high"])) / 2


def test_full_decisions_in_the_pool_are_the_records_of_single_decisions() -> None:
    from carebudget.policy.whatif_pool import RECORDS_BATCH, decide_records_in_pool

    library = load_library(REPO_ROOT / "rules")
    cases = generate_cases(RECORDS_BATCH + 61, seed=11)
    cases[5]["input"]["person"]["date_of_birth"] = "2015-01-01"  # refused: a child
    seen: list[int] = []
    texts = decide_records_in_pool(library, "demo", "assessment", cases, ON, 2, progress=seen.append)
    records = [record for text in texts for record in json.loads(text)]
    assert len(texts) == 2 and sorted(seen) == [61, RECORDS_BATCH]
    assert "under 18" in records[5]["refused"]["message"]
    bundle = library.bundle("demo", ON)
    for index in [*range(0, len(cases), 37), len(cases) - 1]:
        if index == 5:
            continue
        single = decide_with_bundle("assessment", bundle, ON, cases[index]["input"])
        assert records[index] == json.loads(json.dumps(single))
