"""Decision records: stored with their bundle, replayed exactly after the rule files move on."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from carebudget.decisions import decide_with_bundle
from carebudget.policy.decide import decide
from carebudget.rulebook import Registry
from carebudget.settings import REPO_ROOT
from carebudget.store import DuplicateEvent, Store

ON = date(2025, 6, 1)
CASE = {
    "person": {"date_of_birth": "1960-01-01", "setting": "home"},
    "needs": {"arise_from_impairment_or_illness": True, "wellbeing_impact": "significant",
              "outcomes": {"nutrition": ["needs_assistance"], "toilet_needs": ["needs_assistance"]}},
    "finances": {"capital": "18450", "weekly_income": "250.00"},
    "care": {"weekly_cost": "300.00"},
}


@pytest.fixture
def case(store: Store) -> str:
    store.upsert_case("C-1:opened", "C-1", {"council": "demo", "stage": "assessment", "opened": ON},
                      "system", "system")
    return "C-1"


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", target)
    return target


def test_a_decision_is_stored_whole_and_chained_in_the_ledger(store: Store, case: str) -> None:
    record = decide("assessment", "demo", ON, CASE)
    decision_id = store.record_decision("wf-1:assess", case, "assessment", record, "jsmith", "social_worker")
    stored = store.get_decision(decision_id, role="compliance")
    assert stored.record == record and stored.bundle_hash == record["rules"]["bundle"]
    assert store.get_bundle(stored.bundle_hash).content["council"] == "demo"
    entry = store.case_trail(case)[-1]
    assert (entry.action, entry.seq) == ("decision.recorded", stored.ledger_seq)
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry.payload["record_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert store.verify_chain().ok


def test_the_date_of_birth_in_a_decision_is_hidden_from_operations(store: Store, case: str) -> None:
    record = decide("eligibility", "demo", ON, CASE)
    decision_id = store.record_decision("wf-1:elig", case, "eligibility", record, "jsmith", "social_worker")
    assert store.get_decision(decision_id, role="operations").record["input"]["person"]["date_of_birth"] == "[redacted]"
    assert store.get_decision(decision_id, role="approver").record["input"]["person"]["date_of_birth"] == "1960-01-01"


def test_a_retried_decision_is_stored_once_and_a_different_one_under_the_same_key_refused(
        store: Store, case: str) -> None:
    record = decide("eligibility", "demo", ON, CASE)
    first = store.record_decision("wf-1:elig", case, "eligibility", record, "jsmith", "social_worker")
    assert store.record_decision("wf-1:elig", case, "eligibility", record, "jsmith", "social_worker") == first
    other = decide("eligibility", "demo", date(2025, 7, 1), CASE)
    with pytest.raises(DuplicateEvent, match="wf-1:elig"):
        store.record_decision("wf-1:elig", case, "eligibility", other, "jsmith", "social_worker")
    assert len(store.case_decisions(case)) == 1 and store.ledger_count() == 2


def test_replay_is_identical_after_the_rule_files_have_moved_on(store: Store, case: str, rules_copy: Path) -> None:
    registry = Registry(rules_copy, poll_seconds=0)
    bundle = registry.bundle("demo", ON)
    record = decide_with_bundle("assessment", bundle, ON, CASE)
    decision_id = store.record_decision("wf-1:assess", case, "assessment", record, "jsmith",
                                        "social_worker", bundle_content=bundle.content)
    # The council re-weights its resource allocation and the old file is gone.
    ras = rules_copy / "councils/demo/ras.yaml"
    ras.write_text(ras.read_text().replace("then: {add_points: 6}", "then: {add_points: 16}"))
    registry.refresh(force=True)
    assert registry.bundle("demo", ON).hash != bundle.hash
    shutil.rmtree(rules_copy)

    result = store.replay_decision(decision_id)
    assert result.identical, result.differences
    assert result.replayed == record and result.bundle_hash == bundle.hash


def test_replay_of_an_altered_decision_record_names_the_differences(store: Store, case: str) -> None:
    record = decide("charge", "demo", ON, CASE)
    decision_id = store.record_decision("wf-1:charge", case, "charge", record, "jsmith", "social_worker")
    forged = json.loads(json.dumps(record))
    forged["charge"]["weekly_charge"] = "0.00"
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE decision SET record = %s WHERE id = %s"
                             if store.engine.dialect.name == "postgresql" else
                             "UPDATE decision SET record = ? WHERE id = ?",
                             (json.dumps(forged, sort_keys=True), decision_id))
    result = store.replay_decision(decision_id)
    assert not result.identical
    assert [d.path for d in result.differences] == ["charge.weekly_charge"]
    assert result.differences[0].stored == "0.00"
    assert result.differences[0].replayed == record["charge"]["weekly_charge"]


def test_verify_finds_an_altered_decision_record_at_its_ledger_row(store: Store, case: str) -> None:
    record = decide("charge", "demo", ON, CASE)
    decision_id = store.record_decision("wf-1:charge", case, "charge", record, "jsmith", "social_worker")
    seq = store.get_decision(decision_id).ledger_seq
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE decision SET record = replace(record, '\"kind\"', '\"kind\" ')")
    report = store.verify_chain()
    assert not report.ok and report.first_broken is not None
    assert report.first_broken.seq == seq and f"decision {decision_id} was altered" in report.first_broken.reason


def test_verify_finds_an_altered_rule_bundle(store: Store, case: str) -> None:
    record = decide("charge", "demo", ON, CASE)
    store.record_decision("wf-1:charge", case, "charge", record, "jsmith", "social_worker")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE rule_bundle SET content = replace(content, '\"format\":1', '\"format\":2')")
    report = store.verify_chain()
    assert not report.ok and "rule bundle" in report.first_broken.reason  # type: ignore[union-attr]


def test_a_bundle_kept_at_decision_time_lets_the_record_be_written_after_the_files_change(
        store: Store, case: str, rules_copy: Path) -> None:
    registry = Registry(rules_copy, poll_seconds=0)
    bundle = registry.bundle("demo", ON)
    record = decide_with_bundle("eligibility", bundle, ON, CASE)
    assert store.keep_bundle(bundle.hash, bundle.council, bundle.content, bundle.effective_from)
    assert not store.keep_bundle(bundle.hash, bundle.council, bundle.content, bundle.effective_from)
    shutil.rmtree(rules_copy)
    decision_id = store.record_decision("wf-1:elig", case, "eligibility", record, "jsmith", "social_worker")
    assert store.replay_decision(decision_id).identical


def test_the_whatif_caseload_is_each_cases_latest_budget_decision_read_in_one_query(store: Store) -> None:
    from sqlalchemy import event

    for case_id, council in (("C-2", "demo"), ("C-1", "demo"), ("C-3", "demo"), ("X-1", "other")):
        store.upsert_case(f"{case_id}:opened", case_id, {"council": council, "stage": "assessment", "opened": ON},
                          "system", "system")
    older = decide("indicative-budget", "demo", ON, CASE)
    newer = decide("assessment", "demo", ON, {**CASE, "care": {"weekly_cost": "310.00"}})
    store.record_decision("C-1:1", "C-1", "indicative-budget", older, "jsmith", "social_worker")
    latest_c1 = store.record_decision("C-1:2", "C-1", "assessment", newer, "jsmith", "social_worker")
    store.record_decision("C-1:3", "C-1", "eligibility", decide("eligibility", "demo", ON, CASE), "jsmith",
                          "social_worker")  # not a budget decision: not what-if's input
    latest_c2 = store.record_decision("C-2:1", "C-2", "indicative-budget", older, "jsmith", "social_worker")
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    found = store.latest_decisions("demo", ("indicative-budget", "assessment"), 10, role="compliance")
    assert [(d.case_id, d.id) for d in found] == [("C-1", latest_c1), ("C-2", latest_c2)]  # C-3 has none
    assert found[0].record["input"]["care"]["weekly_cost"] == "310.00"
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert [d.case_id for d in store.latest_decisions("demo", ("indicative-budget",), 1)] == ["C-1"]
    assert store.latest_decisions("other", ("indicative-budget", "assessment"), 10) == []
