"""Timeliness (Care Act 2014 s9 assessment, s24-25 plan, s27 review; CQC "assessing needs"): how
long each step of the chain took for cases opened in the range, what is waiting now, what is overdue."""

from __future__ import annotations

from sqlalchemy import Connection, text

from carebudget.reports.base import Report, Scope, Section, ranks
from carebudget.reports.sql import Dialect

# (label, from-step, to-step): a step is the first ledger row of that action; "opened" is the
# case list's opening date. Eligibility is decided in the same step as the verified assessment.
STEPS = [
    ("first contact to assessment and eligibility", "opened", "assessment.verified"),
    ("assessment to plan", "assessment.verified", "plan.submitted"),
    ("plan to budget in place", "plan.submitted", "budget.active"),
    ("budget in place to first review", "budget.active", "review.completed"),
    ("first contact to budget in place", "opened", "budget.active"),
]
ACTIONS = sorted({a for _, x, y in STEPS for a in (x, y) if a != "opened"})


def _firsts(sql: Dialect) -> str:
    """One row per case opened in the range: its opening day and the first day of each step.

    SQLite seeks each case's first row of each step (report_step is ordered by chain, action,
    case, seq: one seek each; 0.56 -> 0.35 s at 100,000 cases); PostgreSQL joins and groups, as
    its seeks cost more (0.53 -> 1.43 s)."""
    if not sql.postgres:
        cols = ", ".join(
            f"(SELECT {sql.day('l.at')} FROM report_step l WHERE l.chain = :council AND l.action = '{a}' "
            f"AND l.case_id = c.case_id ORDER BY l.seq LIMIT 1) AS \"{a}\"" for a in ACTIONS)
        return (f"SELECT c.case_id, c.opened AS opened, {cols} FROM case_list c "
                "WHERE c.council = :council AND c.opened BETWEEN :start AND :end")
    cols = ", ".join(
        f"MIN(CASE WHEN l.action = '{a}' THEN {sql.day('l.at')} END) AS \"{a}\"" for a in ACTIONS)
    listed = ", ".join(f"'{a}'" for a in ACTIONS)
    return (f"SELECT c.case_id, c.opened AS opened, {cols} FROM case_list c "
            f"LEFT JOIN report_step l ON l.chain = :council AND l.action IN ({listed}) AND l.case_id = c.case_id "
            "WHERE c.council = :council AND c.opened BETWEEN :start AND :end GROUP BY c.case_id, c.opened")


def build(conn: Connection, sql: Dialect, s: Scope, report: Report) -> None:
    p = s.params()
    parts = []
    for label, a, b in STEPS:
        start, stop = f'f."{a}"', f'f."{b}"'
        parts.append(f"SELECT '{label}' AS grp, {sql.days(stop, start)} AS d FROM firsts f "
                     f"WHERE {start} IS NOT NULL AND {stop} IS NOT NULL")
    found = {str(g): (int(n), m, q) for g, n, m, q in conn.execute(text(_with(_firsts(sql), parts)), p)}
    report.sections.append(Section(
        "Durations in days", ["step", "cases", "median", "90th percentile"],
        [[label, *(found.get(label, (0, None, None)))] for label, _, _ in STEPS], chart=(0, 2),
        note="Cases opened in the range that reached both ends of the step; percentiles by nearest rank."))
    waiting = conn.execute(text(
        "SELECT stage, COUNT(*), SUM(CASE WHEN due < :today THEN 1 ELSE 0 END), MIN(opened) FROM case_list "
        "WHERE council = :council GROUP BY stage ORDER BY stage"), p)
    report.sections.append(Section(
        "Waiting now, by stage", ["stage", "cases", "overdue", "oldest opened"],
        [[str(st), int(n), int(o or 0), str(old)] for st, n, o, old in waiting], chart=(0, 1),
        note=f"Every case of the council as at {s.today}, whatever its opening date."))
    overdue = conn.execute(text(
        "SELECT COUNT(*), MIN(due) FROM case_list WHERE council = :council AND stage = 'review' "
        "AND due < :today"), p).one()
    report.sections.append(Section(
        "Overdue reviews", ["reviews overdue", "longest overdue since"],
        [[int(overdue[0]), str(overdue[1] or "")]], note="s27: reviews open past their due date."))
    report.not_held += [
        "First contact is the day the case was opened: contacts that did not become a case are not recorded.",
        "Eligibility is decided when the assessment is verified, so it has no duration of its own.",
    ]


def _with(firsts: str, parts: list[str]) -> str:
    body = ranks(" UNION ALL ".join(parts))
    return f"WITH firsts AS ({firsts}), " + body.removeprefix("WITH ")
