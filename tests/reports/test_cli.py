"""`carebudget report KIND --council C` as an officer runs it: table, CSV, JSON, and refusals."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest

from bench.caseload import generate
from carebudget.reports import run
from tests.store.test_cli import carebudget


@pytest.fixture
def filled(store: Any, store_url: str) -> str:
    generate(store, 60, date.today())
    return store_url


def test_report_as_json_gives_the_same_figures_as_the_library(filled: str, store: Any) -> None:
    out = carebudget(filled, "report", "fairness", "--council", "demo", "--format", "json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    expected = run(store.engine, "fairness", "demo").to_json()
    assert got == expected and got["rules_bundles"]


def test_report_as_csv_heads_each_section_and_the_cld_table_reads_back(filled: str) -> None:
    out = carebudget(filled, "report", "cld", "--council", "demo", "--format", "csv",
                     "--from", (date.today() - timedelta(days=400)).isoformat())
    assert out.returncode == 0, out.stderr
    lines = list(csv.reader(io.StringIO(out.stdout)))
    assert lines[0][0].startswith("Client Level Data, council demo")
    assert ["Event rows"] in lines and any(r and r[0] == "not held" for r in lines)


def test_report_as_table_names_the_range(filled: str) -> None:
    out = carebudget(filled, "report", "timeliness", "--council", "demo", "--from", "2025-01-01", "--to", "2025-12-31")
    assert out.returncode == 0, out.stderr
    assert "2025-01-01 to 2025-12-31" in out.stdout and "Durations in days" in out.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["report", "money", "--council", "demo"], "there is no report"),
    (["report", "finance", "--council", "nowhere"], "no records"),
    (["report", "finance", "--council", "demo", "--from", "1 April"], "not a date"),
])
def test_bad_input_exits_2_with_a_sentence(filled: str, args: list[str], words: str) -> None:
    out = carebudget(filled, *args)
    assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr
