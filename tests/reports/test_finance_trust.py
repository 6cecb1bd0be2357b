"""Issue 15 in the council's view: the money report counts and sums, for the range, underspend
banked at reviews, banked savings spent and refused, reablement's cost to the council, and pools'
emergency-fund draws, from the ledger rows the workflows write (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from carebudget.reports import run


def _case(store: Any, case_id: str, council: str) -> None:
    store.upsert_case(f"{case_id}:opened", case_id, {"council": council, "stage": "active_budget",
                                                     "opened": date(2026, 1, 5)}, actor="system", role="system")


def test_the_money_report_shows_savings_reablement_and_pool_draws_in_the_range(store: Any) -> None:
    _case(store, "T-1", "demo")
    _case(store, "T-2", "demo")
    rows = [
        ("T-1", "review.completed", {"underspend": "40.00", "banked": "10.00", "banked_total": "10.00"}),
        ("T-2", "review.completed", {"underspend": "20.00", "banked": "5.50", "banked_total": "5.50"}),
        ("T-2", "review.completed", {"underspend": "0.00", "banked": "0.00", "banked_total": "5.50"}),
        ("T-1", "savings.approved", {"purpose": "home_adaptation", "amount": "6.00", "balance": "4.00"}),
        ("T-2", "savings.refused", {"purpose": "equipment", "amount": "900.00", "balance": "5.50"}),
        ("T-1", "reablement.recorded", {"weeks": 8, "weekly_cost": "240.00", "cost": "1920.00"}),
        ("T-2", "reablement.recorded", {"weeks": 6, "weekly_cost": "240.00", "cost": "1440.00"}),
        ("T-1", "pool.draw_paid", {"draw": 1, "amount": "2.76", "balance": "2.77"}),
    ]
    for n, (case_id, action, payload) in enumerate(rows):
        store.append_event(f"trust-{n}", case_id, "demo-social-worker", "social_worker", action, payload)
    today = date.today()
    report = run(store.engine, "finance", "demo", today - timedelta(days=1), today, today=today)
    got = {r[0]: r[1:] for r in report.section("Savings, reablement and pools in the range").rows}
    assert got == {
        "underspend banked at reviews": [2, Decimal("15.50")],
        "banked savings spent (approved)": [1, Decimal("6.00")],
        "requests to use savings refused": [1, Decimal("900.00")],
        "reablement and intermediate care (free to the person, SI 2014/2672 reg 3)": [2, Decimal("3360.00")],
        "community pools' emergency fund draws paid": [1, Decimal("2.76")],
    }
    # A range before any of it gives zeros, not an error.
    earlier = run(store.engine, "finance", "demo", date(2025, 4, 1), date(2025, 4, 30), today=today)
    assert {r[0]: r[1] for r in earlier.section("Savings, reablement and pools in the range").rows} == dict.fromkeys(got, 0)
