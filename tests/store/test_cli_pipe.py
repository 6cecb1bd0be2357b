"""A case id arrives whole when the CLI's output is not a terminal (a pipe, a file, a script):
Rich would otherwise cut tables to 80 columns, "C-202612..." (issue 13)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

from carebudget.store import Store

LONG_ID = "C-20261201-59c3e068"


def test_case_ids_are_not_cut_when_the_output_is_piped(store: Store, store_url: str) -> None:
    for n in range(3):
        store.upsert_case(f"{LONG_ID}{n}:opened", f"{LONG_ID}{n}",
                          {"council": "a-council-with-a-long-name", "stage": "financial_assessment",
                           "opened": date(2026, 12, 1), "due": date(2026, 12, 29),
                           "assigned_to": "a-social-worker-with-a-long-username"}, "system", "system")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["CAREBUDGET_DATABASE_URL"] = store_url
    result = subprocess.run([sys.executable, "-m", "carebudget.cli", "cases", "list"], capture_output=True,
                            text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    for n in range(3):
        assert f"{LONG_ID}{n}" in result.stdout, result.stdout
    assert "a-social-worker-with-a-long-username" in result.stdout
