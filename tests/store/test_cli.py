"""`carebudget audit ...` and `carebudget cases ...` as a compliance officer runs them."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from carebudget.policy.decide import decide
from carebudget.store import Store
from tests.store.conftest import tamper

ON = date(2025, 6, 1)
CASE = {
    "person": {"date_of_birth": "1960-01-01", "setting": "home"},
    "needs": {"arise_from_impairment_or_illness": True, "wellbeing_impact": "significant",
              "outcomes": {"nutrition": ["needs_assistance"], "toilet_needs": ["needs_assistance"]}},
}


def carebudget(store_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAREBUDGET_DATABASE_URL": store_url, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "carebudget.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


@pytest.fixture
def filled(store: Store) -> tuple[Store, int]:
    store.upsert_case("C-7:opened", "C-7", {"council": "demo", "stage": "assessment", "opened": ON,
                                            "due": date(2025, 6, 29), "name": "Ada Lovelace",
                                            "date_of_birth": date(1960, 1, 1)}, "system", "system")
    store.append_event("C-7:ev-2", "C-7", "jsmith", "social_worker", "update.accepted", {"step": "needs"})
    decision_id = store.record_decision("C-7:ev-3", "C-7", "eligibility", decide("eligibility", "demo", ON, CASE),
                                        "jsmith", "social_worker")
    return store, decision_id


def test_verify_says_intact_and_exits_zero(filled: tuple[Store, int], store_url: str) -> None:
    result = carebudget(store_url, "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert "intact: 3 rows" in result.stdout


def test_verify_names_the_first_broken_row_and_exits_non_zero(filled: tuple[Store, int], store_url: str) -> None:
    tamper(filled[0], "UPDATE ledger SET actor = 'mallory' WHERE seq = 2")
    result = carebudget(store_url, "audit", "verify")
    assert result.returncode == 1
    assert "broken at row 2" in result.stdout and "altered" in result.stdout


def test_trail_exports_json_and_csv(filled: tuple[Store, int], store_url: str) -> None:
    as_json = json.loads(carebudget(store_url, "audit", "trail", "C-7", "--format", "json").stdout)
    assert [e["action"] for e in as_json] == ["case.opened", "update.accepted", "decision.recorded"]
    assert as_json[0]["personal"]["name"] == "Ada Lovelace"
    rows = list(csv.DictReader(io.StringIO(carebudget(store_url, "audit", "trail", "C-7", "--format", "csv").stdout)))
    assert [r["seq"] for r in rows] == ["1", "2", "3"] and rows[2]["hash"] == as_json[2]["hash"]
    hidden = json.loads(carebudget(store_url, "audit", "trail", "C-7", "--role", "operations").stdout)
    assert "Ada" not in json.dumps(hidden)


def test_trail_of_an_unknown_case_is_a_clear_error(filled: tuple[Store, int], store_url: str) -> None:
    result = carebudget(store_url, "audit", "trail", "C-404")
    assert result.returncode == 2 and "C-404" in result.stderr


def test_replay_reports_identical(filled: tuple[Store, int], store_url: str) -> None:
    result = carebudget(store_url, "audit", "replay", str(filled[1]))
    assert result.returncode == 0, result.stderr
    assert "identical" in result.stdout


def test_replay_of_an_unknown_decision_is_a_clear_error(filled: tuple[Store, int], store_url: str) -> None:
    result = carebudget(store_url, "audit", "replay", "999")
    assert result.returncode == 2 and "no decision with id 999" in result.stderr


def test_cases_reindex_and_list(filled: tuple[Store, int], store_url: str, tmp_path: Path) -> None:
    result = carebudget(store_url, "cases", "reindex")
    assert result.returncode == 0 and "reindexed: 1 cases" in result.stdout
    listed = carebudget(store_url, "cases", "list", "--stage", "assessment", "--overdue")
    assert listed.returncode == 0 and "C-7" in listed.stdout and "Ada" not in listed.stdout


def test_verify_checks_one_councils_chain(filled: tuple[Store, int], store_url: str) -> None:
    filled[0].append_event("signin-1", None, "cora", "compliance", "user.signed_in", {})
    tamper(filled[0], "UPDATE ledger SET actor = 'mallory' WHERE chain = 'service'")
    demo = carebudget(store_url, "audit", "verify", "--council", "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "intact: 3 rows" in demo.stdout and "demo (3)" in demo.stdout and "service" not in demo.stdout
    whole = carebudget(store_url, "audit", "verify")
    assert whole.returncode == 1 and "broken at row 1 of the 'service' chain" in whole.stdout


def test_an_anchor_kept_elsewhere_shows_rows_cut_from_the_end(
    filled: tuple[Store, int], store_url: str, tmp_path: Path,
) -> None:
    anchor = tmp_path / "anchor.json"
    made = carebudget(store_url, "audit", "anchor", "--out", str(anchor))
    assert made.returncode == 0, made.stderr
    assert "anchored demo: row 3" in made.stdout
    assert carebudget(store_url, "audit", "verify", "--anchor", str(anchor)).returncode == 0
    tamper(filled[0], "DELETE FROM ledger WHERE chain = 'demo' AND seq = 3")
    tamper(filled[0], "DELETE FROM decision")
    tamper(filled[0], "UPDATE ledger_head SET seq = 2, hash = (SELECT hash FROM ledger WHERE chain = 'demo' AND seq = 2)")
    result = carebudget(store_url, "audit", "verify", "--council", "demo", "--anchor", str(anchor))
    assert result.returncode == 1
    assert "broken at row 2 of the 'demo' chain" in result.stdout and "cut from the end" in result.stdout


def test_a_missing_or_malformed_anchor_file_is_a_clear_error(
    filled: tuple[Store, int], store_url: str, tmp_path: Path,
) -> None:
    missing = carebudget(store_url, "audit", "verify", "--anchor", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read the anchor file" in missing.stderr
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    bad = carebudget(store_url, "audit", "verify", "--anchor", str(tmp_path / "bad.json"))
    assert bad.returncode == 2 and "not a ledger anchor" in bad.stderr
    unknown = carebudget(store_url, "audit", "anchor", "--out", str(tmp_path / "a.json"), "--council", "nowhere")
    assert unknown.returncode == 2 and "no 'nowhere' chain" in unknown.stderr
