"""`report_budget` (migration 0014) holds every budget in the ledger with what came before it and
the case's circumstances when it was set: written by the trigger as budgets are appended, copied
in by the migration for budgets already there, and not rewritten when the case changes later."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from bench.caseload import generate
from carebudget.reports import run
from tests.reports.test_report_unmet import _to

TODAY = date(2026, 9, 30)
COLUMNS = ("seq, case_id, amount, detail, plan_before, budget_before, reassessed, outcomes, "
           "low, high, worker, team, area, age_band")


def _pence(value: Any) -> int | None:
    return None if value is None else int((Decimal(str(value)) * 100).to_integral_value())


def _band(born: date | None, on: date) -> str:
    if born is None:
        return "unknown"
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return "18-64" if age < 65 else "65-74" if age < 75 else "75-84" if age < 85 else "85+"


def expected_rows(store: Any) -> set[tuple[Any, ...]]:
    """Each budget.active ledger row with its case's earlier rows and its case-list row, worked
    out here from the ledger payloads, the case list and the users."""
    by_case: dict[str, list[Any]] = {}
    for action in ("plan.submitted", "budget.active", "review.completed", "assessment.verified"):
        for e in store.ledger_events(action):
            by_case.setdefault(e.case_id, []).append(e)
    teams = {u.username: u.team for u in store.list_users()}
    rows = set()
    for case_id, events in by_case.items():
        events.sort(key=lambda e: e.seq)
        case = store.get_case(case_id, role="compliance")
        for i, e in enumerate(events):
            if e.action != "budget.active":
                continue
            earlier = events[:i]
            plans = [p for p in earlier if p.action == "plan.submitted"]
            budgets = [b for b in earlier if b.action == "budget.active"]
            reassessed = bool(budgets) and any(
                r.action == "review.completed" and r.payload.get("support") is not None and r.seq > budgets[-1].seq
                for r in earlier)
            verified = [v.payload for v in earlier if v.action == "assessment.verified"]
            outcomes = None
            if verified:
                outcomes = len({o for part in ("needs", "predicted_needs")
                                for o, ways in ((verified[-1].get(part) or {}).get("outcomes") or {}).items() if ways})
            rows.add((e.seq, case_id, _pence(e.payload["weekly_cost"]), e.payload.get("appeal_outcome"),
                      _pence(plans[-1].payload["plan"]["weekly_total"]) if plans else None,
                      _pence(budgets[-1].payload["weekly_cost"]) if budgets else None, int(reassessed), outcomes,
                      _pence(case.amounts.get("indicative_low")), _pence(case.amounts.get("indicative_high")),
                      case.assigned_to, teams.get(case.assigned_to) if case.assigned_to else None, case.area,
                      _band(case.date_of_birth, e.at.date())))
    return rows


def stored_rows(store: Any) -> set[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return {tuple(r) for r in conn.execute(text(f"SELECT {COLUMNS} FROM report_budget WHERE chain = 'demo'"))}


def test_each_budget_is_kept_with_its_past_and_circumstances_as_it_is_appended(store: Any) -> None:
    generate(store, 120, TODAY)
    expected = expected_rows(store)
    # The caseload has budgets after plans, and after earlier budgets with a reassessment between
    # (a budget after one without is in the last test).
    assert any(r[4] is not None for r in expected) and any(r[6] == 1 for r in expected)
    assert stored_rows(store) == expected


def test_the_migration_copies_in_the_budgets_already_in_the_ledger(store: Any) -> None:
    _to(store, "0013", down=True)
    generate(store, 120, TODAY)
    _to(store, "head", down=False)
    expected = expected_rows(store)
    assert expected and stored_rows(store) == expected


def _workers(store: Any) -> dict[str, int]:
    """Budgets set by each worker, from the caseload's start to the real today (the new budget's day)."""
    report = run(store.engine, "fairness", "demo", date(2020, 1, 1), date.today(), today=date.today())
    return {row[0]: row[1] for row in report.section("By social worker").rows}


def test_a_budget_stays_with_the_worker_and_team_it_was_set_under(store: Any) -> None:
    """Fairness asks whether budgets vary with the social worker: a budget counts for the worker
    who held the case when it was set, not whoever holds the case or whatever team they are in
    later. A later budget counts for the worker then."""
    generate(store, 40, TODAY)
    with store.engine.connect() as conn:
        case_id, worker, team, amount = conn.execute(text(
            "SELECT case_id, worker, team, amount FROM report_budget WHERE worker IS NOT NULL "
            "ORDER BY seq LIMIT 1")).one()
    other = "sw-later"
    store.create_user(other, "Later Worker", "social_worker", "not a password hash", actor="test",
                      council="demo", team="North")
    before = _workers(store)
    store.upsert_case("test:reassign", case_id, {"assigned_to": other}, actor="test", role="operations")
    store.update_user(worker, team="Somewhere else", actor="test")
    assert _workers(store) == before
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT worker, team FROM report_budget WHERE case_id = :c ORDER BY seq LIMIT 1"),
                            {"c": case_id}).one() == (worker, team)

    store.record_step("test:new-budget", case_id, other, "social_worker", "budget.active",
                      {"weekly_cost": f"{(amount + 500) / 100:.2f}", "person_charge": "0.00"})
    after = _workers(store)
    assert after[other] == 1 and after[worker] == before[worker]
    with store.engine.connect() as conn:
        latest = conn.execute(text(
            "SELECT worker, team, budget_before, amount, reassessed FROM report_budget WHERE case_id = :c "
            "ORDER BY seq DESC LIMIT 1"), {"c": case_id}).one()
    # No review reassessed need between the two budgets.
    assert latest[0:2] == (other, "North") and latest[3] == amount + 500 and latest[2] is not None
    assert latest[4] == 0
