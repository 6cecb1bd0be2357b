"""Fairness (Care Act 2014 s26, CSSG 11.7 and 11.24: a budget sufficient to meet need, set from
an indicative range): budgets set in the range against their indicative range, by who, when and
whose; counter-proposals, appeals, falls at review, and outliers named for review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from carebudget.reports.base import Report, Scope, Section, money
from carebudget.reports.sql import Dialect

MONTHS = ("January February March April May June July August September October November December").split()
OUTLIER_ABOVE, OUTLIER_BELOW = 125, 75  # % of the indicative high / low: named for review beyond these
OUTLIERS_SHOWN = 25


def _budgets(sql: Dialect) -> str:
    """Every budget put in place in the range, with the case's indicative range and who holds it."""
    pb = sql.pence(sql.j("b.payload", "weekly_cost"))
    low, high = sql.pence(sql.j("c.amounts", "indicative_low")), sql.pence(sql.j("c.amounts", "indicative_high"))
    age = f"({sql.ymd('b.at', False)} - {sql.ymd('pp.date_of_birth', True)}) / 10000"
    return (
        f"SELECT b.case_id, b.seq, b.at, {pb} AS pb, {low} AS lo, {high} AS hi, "
        f"COALESCE(c.assigned_to, '(not assigned)') AS worker, substr(b.at, 6, 2) AS month, "
        f"CASE WHEN pp.date_of_birth IS NULL THEN 'unknown' WHEN {age} < 65 THEN '18-64' "
        f"WHEN {age} < 75 THEN '65-74' WHEN {age} < 85 THEN '75-84' ELSE '85+' END AS age_band "
        "FROM ledger b JOIN case_list c ON c.case_id = b.case_id "
        "LEFT JOIN case_person pp ON pp.case_id = b.case_id "
        "WHERE b.chain = :council AND b.action = 'budget.active' AND b.at >= :at_from AND b.at < :at_to")


POSITION = ("SUM(CASE WHEN lo IS NOT NULL AND pb < lo THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN lo IS NOT NULL AND pb >= lo AND pb <= hi THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN lo IS NOT NULL AND pb > hi THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN lo IS NOT NULL THEN pb ELSE 0 END), SUM(lo + hi)")
COLUMNS = ["budgets", "below range", "within range", "above range", "% of mid-point"]


def _row(label: str, n: Any, below: Any, within: Any, above: Any, pb: Any, both: Any) -> list[Any]:
    # Budgets over mid-points, both summed: a ratio of sums, not an average of ratios.
    share = round(200 * int(pb or 0) / int(both), 1) if both else None
    return [label, int(n), int(below or 0), int(within or 0), int(above or 0), share]


def build(conn: Connection, sql: Dialect, s: Scope, report: Report) -> None:
    p = s.params()
    base = _budgets(sql)
    total = conn.execute(text(f"SELECT COUNT(*), {POSITION} FROM ({base}) x"), p).one()
    report.sections.append(Section("Budgets against their indicative range", ["all", *COLUMNS],
                                   [_row("all budgets set", *total)],
                                   note="Every budget put in place in the range, against the case's indicative range."))
    for title, key, label in (("By social worker", "worker", "social worker"), ("By month of the year", "month", "month"),
                              ("By age band", "age_band", "age band")):
        rows = conn.execute(text(f"SELECT {key}, COUNT(*), {POSITION} FROM ({base}) x GROUP BY {key} ORDER BY {key}"), p)
        out = [_row(MONTHS[int(k) - 1] if key == "month" else str(k), *rest) for k, *rest in rows]
        report.sections.append(Section(title, [label, *COLUMNS], out, chart=(0, 5)))
    _sign_off(conn, sql, report, p)
    _falls(conn, sql, report, p)
    outliers = conn.execute(text(
        f"SELECT case_id, at, pb, lo, hi FROM ({base}) x WHERE lo IS NOT NULL AND "
        f"(pb * 100 > hi * {OUTLIER_ABOVE} OR pb * 100 < lo * {OUTLIER_BELOW}) "
        f"ORDER BY case_id, seq LIMIT {OUTLIERS_SHOWN}"), p)
    report.sections.append(Section(
        "Outliers named for review", ["case", "set on", "weekly budget", "indicative low", "indicative high"],
        [[str(c), str(at)[:10], money(pb), money(lo), money(hi)] for c, at, pb, lo, hi in outliers],
        note=f"Budgets above {OUTLIER_ABOVE}% of the indicative high or below {OUTLIER_BELOW}% of the low "
             f"(first {OUTLIERS_SHOWN})."))
    report.not_held += [
        "By team: the store does not hold which team a social worker belongs to.",
        "By need profile: needs are held inside each eligibility record, not as a grouping.",
        "Appeal outcomes (upheld, part-upheld, dismissed) are not yet recorded as their own event; "
        "appeals decided are counted from the budget an appeals officer put in place.",
        "The indicative range compared is the case's current one, which a reassessment may have changed.",
    ]


def _sign_off(conn: Connection, sql: Dialect, report: Report, p: dict[str, Any]) -> None:
    """How often sign-off changed what the plan asked for: no published source gives this figure."""
    plans, cps, refused, appeals = conn.execute(text(
        "SELECT COUNT(DISTINCT CASE WHEN action = 'plan.submitted' THEN case_id END), "
        "SUM(CASE WHEN action = 'counter_proposal.made' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN action = 'counter_proposal.refused' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN action = 'appeal.made' THEN 1 ELSE 0 END) FROM ledger WHERE chain = :council "
        "AND action IN ('plan.submitted', 'counter_proposal.made', 'counter_proposal.refused', 'appeal.made') "
        "AND at >= :at_from AND at < :at_to"), p).one()
    plan_total = sql.pence(sql.j("pl.payload", "plan", "weekly_total"))
    set_, changed, decided = conn.execute(text(
        f"SELECT COUNT(*), SUM(CASE WHEN {sql.pence(sql.j('b.payload', 'weekly_cost'))} <> {plan_total} "
        "THEN 1 ELSE 0 END), SUM(CASE WHEN b.role = 'appeals_officer' THEN 1 ELSE 0 END) FROM ledger b "
        "JOIN ledger pl ON pl.chain = b.chain AND pl.seq = (SELECT MAX(x.seq) FROM ledger x WHERE x.chain = b.chain "
        "AND x.case_id = b.case_id AND x.action = 'plan.submitted' AND x.seq < b.seq) "
        "WHERE b.chain = :council AND b.action = 'budget.active' AND b.at >= :at_from AND b.at < :at_to"), p).one()
    report.sections.append(Section(
        "Sign-off, counter-proposals and appeals", ["measure", "count"],
        [["cases with a plan submitted", int(plans)], ["counter-proposals made", int(cps or 0)],
         ["counter-proposals refused by the rules", int(refused or 0)], ["appeals made", int(appeals or 0)],
         ["appeals decided", int(decided or 0)], ["budgets set after a plan", int(set_)],
         ["of which differ from the plan's total", int(changed or 0)]],
        note="Budgets that differ from the plan's total measure the council's own share of budgets "
             "changed at sign-off."))


def _falls(conn: Connection, sql: Dialect, report: Report, p: dict[str, Any]) -> None:
    pb = sql.pence(sql.j("payload", "weekly_cost"))
    support = sql.j("r.payload", "support")
    fell, reassessed = conn.execute(text(
        f"WITH b AS (SELECT case_id, seq, at, {pb} AS pb, LAG({pb}) OVER (PARTITION BY case_id ORDER BY seq) AS prev, "
        "LAG(seq) OVER (PARTITION BY case_id ORDER BY seq) AS prev_seq FROM ledger "
        "WHERE chain = :council AND action = 'budget.active') "
        "SELECT COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM ledger r WHERE r.chain = :council "
        f"AND r.case_id = b.case_id AND r.action = 'review.completed' AND {support} IS NOT NULL "
        "AND r.seq > b.prev_seq AND r.seq < b.seq) THEN 1 ELSE 0 END) FROM b "
        "WHERE b.prev IS NOT NULL AND b.pb < b.prev AND b.at >= :at_from AND b.at < :at_to"), p).one()
    report.sections.append(Section(
        "Budgets that fell", ["measure", "count"],
        [["budgets lower than the one before", int(fell)], ["of which after a reassessment of need", int(reassessed or 0)]],
        note="CSSG 13.32: a budget is cut only on a reassessment showing reduced need."))
