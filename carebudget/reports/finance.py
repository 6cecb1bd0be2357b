"""Money (Care Act 2014 s26 personal budgets, s14 and s17 charges): committed spend now, the
pipeline at the mid-point of indicative ranges, banked underspend, a five-year projection under a
stated uplift, and each policy change's what-if set against the council's annual budget."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, text

from carebudget.reports.base import Report, Scope, Section, money
from carebudget.reports.sql import Dialect

WEEKS = 52  # a year of weekly budgets; stated in the report as an assumption
YEARS = 5


def build(conn: Connection, sql: Dialect, s: Scope, report: Report) -> None:
    p = s.params()
    budget, charge, share = (sql.j("amounts", k) for k in ("personal_budget", "weekly_charge", "council_share"))
    low, high = sql.j("amounts", "indicative_low"), sql.j("amounts", "indicative_high")
    n, pb, ch, sh = conn.execute(text(
        f"SELECT COUNT(*), SUM({sql.pence(budget)}), SUM({sql.pence(charge)}), SUM({sql.pence(share)}) "
        f"FROM case_list WHERE council = :council AND stage <> 'closed' AND {budget} IS NOT NULL"), p).one()
    weekly = [money(pb), money(ch), money(sh)]
    report.sections.append(Section(
        "Committed now", ["measure", "budgets", "weekly", "annual"],
        [[name, int(n), w, w * WEEKS] for name, w in
         zip(("personal budgets", "people's charges", "council share"), weekly, strict=True)],
        chart=(0, 3), note=f"Every budget in force as at {s.today}; annual = weekly x {WEEKS}."))
    pipe = conn.execute(text(
        f"SELECT stage, COUNT(*), SUM({sql.pence(low)} + {sql.pence(high)}) FROM case_list "
        f"WHERE council = :council AND stage <> 'closed' AND {budget} IS NULL AND {low} IS NOT NULL "
        "GROUP BY stage ORDER BY stage"), p).all()
    mids = [(str(st), int(k), _mid(both)) for st, k, both in pipe]
    pipe_weekly = sum((m for _, _, m in mids), Decimal("0.00"))
    rows: list[list[object]] = [[st, k, m, m * WEEKS] for st, k, m in mids]
    report.sections.append(Section(
        "Pipeline", ["stage", "cases", "weekly at mid-point", "annual"], rows, chart=(0, 3),
        note="Cases with an indicative range and no budget yet, at the mid-point of the range."))
    # report_step (migration 0009): amount is the budget's weekly cost or the review's underspend,
    # charge the person's weekly charge or the amount banked at the review.
    found = {str(a): (int(n), b, c) for a, n, b, c in conn.execute(text(
        "SELECT action, COUNT(*), SUM(amount), SUM(charge) FROM report_step WHERE chain = :council "
        "AND action IN ('budget.active', 'review.completed') AND at >= :at_from AND at < :at_to "
        "GROUP BY action"), p)}
    k, new, _ = found.get("budget.active", (0, 0, 0))
    r, under, banked = found.get("review.completed", (0, 0, 0))
    held = conn.execute(text(
        "SELECT SUM(charge) FROM report_step WHERE chain = :council AND action = 'review.completed' "
        "AND at < :at_to"), p).scalar()
    report.sections.append(Section(
        "In the range", ["measure", "count", "amount"],
        [["budgets set (weekly)", k, money(new)], ["underspend reported at reviews", r, money(under)],
         ["of which banked", r, money(banked)], ["banked underspend to the range's end, all reviews", None, money(held)]],
        note="Budgets set counts every budget put in place, first or after an appeal or review. Banked "
             "underspend is what reviews banked (s27, the council's direct payments policy), before any "
             "use of savings."))
    report.sections.append(_trust(conn, sql, s))
    report.sections.append(Section(
        "Five-year projection", ["year", "committed (council share)", "pipeline (mid-point)", "total"],
        _projection(weekly[2], pipe_weekly, s.uplift), chart=(0, 3),
        note=f"Council share of budgets in force and of the pipeline, uplifted {s.uplift * 100:.1f}% a year "
             "(the stated assumption); budgets are assumed to continue at their current amounts."))
    _policy_changes(conn, s, report, weekly[2] * WEEKS)
    report.not_held += [
        "Banked savings held now, per person, are kept on each case (its workflow), not summed here; "
        "what was banked and spent in the range is.",
        "The council's annual budget is not held in the store: it is stated with the report "
        "(--annual-budget, or the page's field), as the uplift is.",
        "Review dates are not projected: a review may change a budget, and nothing predicts by how much.",
        "The pipeline mid-point is the council's whole cost; the person's charge is not known until the budget.",
    ]


def _policy_changes(conn: Connection, s: Scope, report: Report, committed_annual: Decimal) -> None:
    """Each change waiting for its second officer, and each published in the range, with its what-if
    (the weekly change over the caseload it was tried on) a year, against the annual budget."""
    rows = conn.execute(text(
        "SELECT document FROM policy_change WHERE council = :council AND (status = 'draft' OR "
        "(status = 'published' AND proposed_at >= :start)) ORDER BY proposed_at"), s.params()).scalars()
    budget = s.annual_budget
    out: list[list[Any]] = []
    for document in rows:
        change = json.loads(document)
        whatif = change.get("whatif") or {}
        try:
            weekly = Decimal(str(whatif["total_weekly_change"]))
        except (KeyError, InvalidOperation):
            continue  # refused before its what-if was run
        annual = (weekly * WEEKS).quantize(Decimal("0.01"))
        share = f"{100 * annual / budget:.2f}%" if budget else None
        headroom = (budget - committed_annual - annual).quantize(Decimal("0.01")) if budget else None
        out.append([str(change.get("id")), str(change.get("path")), str(change.get("status")),
                    int(whatif.get("cases") or 0), weekly.quantize(Decimal("0.01")), annual, share, headroom])
    stated = f"the stated annual budget of {budget:,.2f}" if budget else "no annual budget (state one to compare)"
    report.sections.append(Section(
        "Policy changes against the annual budget",
        ["change", "rule file", "status", "cases tried", "weekly change", "annual change", "% of annual budget",
         "budget left after committed spend and the change"], out,
        note=f"Changes waiting for approval, and those published since {s.start}, each with its what-if over "
             f"the caseload it was tried on, x {WEEKS} weeks, against {stated}."))


# Issue 15: savings that earn trust, reablement in the open, community pools (ledger action, amount).
TRUST = (
    ("underspend banked at reviews", "review.completed", "banked"),
    ("banked savings spent (approved)", "savings.approved", "amount"),
    ("requests to use savings refused", "savings.refused", "amount"),
    ("reablement and intermediate care (free to the person, SI 2014/2672 reg 3)", "reablement.recorded", "cost"),
    ("community pools' emergency fund draws paid", "pool.draw_paid", "amount"),
)


def _trust(conn: Connection, sql: Dialect, s: Scope) -> Section:
    rows: list[list[object]] = []
    for name, action, field in TRUST:
        if action == "review.completed":  # reviews that banked: report_step's charge is the amount banked
            query = ("SELECT COUNT(*), SUM(charge) FROM report_step WHERE chain = :council AND action = :action "
                     "AND at >= :at_from AND at < :at_to AND charge > 0")
        else:  # rarer actions, read from their payloads
            amount = sql.pence(sql.j("payload", field))
            query = (f"SELECT COUNT(*), SUM({amount}) FROM ledger WHERE chain = :council AND action = :action "
                     "AND at >= :at_from AND at < :at_to")
        k, total = conn.execute(text(query), {**s.params(), "action": action}).one()
        rows.append([name, int(k), money(total)])
    return Section(
        "Savings, reablement and pools in the range", ["measure", "count", "amount"], rows,
        note="Reablement is paid by the council and is not part of any personal budget (SI 2014/2840); "
             "its cost is shown to the person on their statement.")


def _mid(both_pence: object) -> Decimal:
    return (money(both_pence) / 2).quantize(Decimal("0.01"))


def _projection(committed: Decimal, pipeline: Decimal, uplift: Decimal) -> list[list[object]]:
    rows: list[list[object]] = []
    for year in range(1, YEARS + 1):
        factor = (1 + uplift) ** (year - 1)
        c = (committed * WEEKS * factor).quantize(Decimal("0.01"))
        pl = (pipeline * WEEKS * factor).quantize(Decimal("0.01"))
        rows.append([f"year {year}", c, pl, c + pl])
    return rows
