"""Instructions per decision from callgrind: a count that does not move with the machine's load.

Two runs of the same script under valgrind, one making N more decisions than the other; the
difference over N is the cost of one decision with everything warm (bundle loaded, stages
compiled, caches filled). Both runs generate the same cases: generating a case costs about 255K
instructions, which the first version of this script (generating only the cases it decided)
counted into every decision. None when valgrind is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from carebudget.settings import REPO_ROOT

SCRIPT = """
import sys
from datetime import date
from bench.cases import generate_cases
from carebudget.decisions.contract import decide_with_bundle
from carebudget.rulebook.library import load_library
from carebudget.settings import REPO_ROOT
engine_name, n, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if engine_name == "legacy":
    from bench.legacy_engine import LegacyEngine
    engine = LegacyEngine()
elif engine_name == "compiled_python":
    from bench.rules_assessment import CompiledPythonEvaluator
    engine = CompiledPythonEvaluator()
else:
    from carebudget.rulebook.engine import get_engine
    engine = get_engine()
on = date(2025, 6, 1)
bundle = load_library(REPO_ROOT / "rules").bundle("demo", on)
cases = generate_cases(100 + total)  # the same cases in both runs, however many are decided
for case in cases[:100]:
    decide_with_bundle("assessment", bundle, on, case["input"], engine)
for case in cases[100:100 + n]:
    decide_with_bundle("assessment", bundle, on, case["input"], engine)
"""


# The batch path's worker: a batch of cases as it arrives (pickled), decided, its records written
# as one JSON text (carebudget.policy.whatif_pool._decide_records).
BATCH_SCRIPT = """
import pickle, sys
from datetime import date
from bench.cases import generate_cases
from carebudget.policy.whatif_pool import _decide_records, _packed
from carebudget.rulebook.library import load_library
from carebudget.settings import REPO_ROOT
n, total = int(sys.argv[2]), int(sys.argv[3])
on = date(2025, 6, 1)
packed = _packed(load_library(REPO_ROOT / "rules"))
cases = generate_cases(100 + total)
_decide_records(packed, "demo", "assessment", pickle.loads(pickle.dumps(cases[:100])), on)
if n:
    _decide_records(packed, "demo", "assessment", pickle.loads(pickle.dumps(cases[100:100 + n])), on)
"""


def _instructions(engine: str, n: int, total: int, workdir: str) -> int:
    out = os.path.join(workdir, f"cg.{engine}.{n}")
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(REPO_ROOT)}
    script = BATCH_SCRIPT if engine == "batch" else SCRIPT
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", script,
                    engine, str(n), str(total)], check=True, cwd=REPO_ROOT, env=env, capture_output=True, timeout=1800)
    with open(out) as handle:
        summary = re.search(r"^summary:\s*(\d+)", handle.read(), re.MULTILINE)
    if summary is None:
        raise RuntimeError("callgrind wrote no summary")
    return int(summary.group(1))


def per_assessment(engine: str = "durable_rules", n: int = 200) -> int | None:
    """Instructions for one full `assessment` decision (engine: durable_rules, legacy, or
    compiled_python: the decision core with next to nothing spent on conditions; or batch: one
    case in the batch path's worker, through durable_rules, with its share of unpickling the
    batch and of writing the batch's records as JSON)."""
    if shutil.which("valgrind") is None:
        return None
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(2) as pool:
        base, more = pool.map(lambda k: _instructions(engine, k, n, workdir), (0, n))
    return round((more - base) / n)
