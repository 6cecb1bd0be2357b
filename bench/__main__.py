"""Run every bench module's main() (bench/*.py). CAREBUDGET_BENCH_QUICK=1 for small sizes.

Usage: python -m bench [name-substring ...]
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def main() -> int:
    wanted = sys.argv[1:]
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))
    failures = 0
    for name in names:
        if wanted and not any(w in name for w in wanted):
            continue
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "main"):
            continue
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        try:
            module.main()
        except Exception:  # noqa: BLE001 - one broken bench must not hide the others' figures
            failures += 1
            traceback.print_exc()
        # On stderr, so each bench's output ends with its JSON line.
        print(f"(bench.{name} took {time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
