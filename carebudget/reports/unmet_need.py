"""Unmet need (Care Act 2014 s5 market shaping, s25(1)(e)-(f) plans; CSSG 10.45): what people
wanted and could not get, from the unmet-need notes of each case's latest plan in the range."""

from __future__ import annotations

from sqlalchemy import Connection, text

from carebudget.reports.base import Report, Scope, Section
from carebudget.reports.sql import Dialect

# A case re-submits its plan after changes are asked for: only its latest plan in the range
# counts, or one wish would be counted once per draft.
LATEST_PLANS = (
    "SELECT l.case_id, l.at, l.payload FROM ledger l JOIN ("
    "SELECT case_id, MAX(seq) AS seq FROM ledger WHERE chain = :council AND action = 'plan.submitted' "
    "AND at >= :at_from AND at < :at_to GROUP BY case_id) last "
    "ON l.chain = :council AND l.seq = last.seq"
)


def build(conn: Connection, sql: Dialect, s: Scope, report: Report) -> None:
    p = s.params()
    note = f"lower(trim({'n.value'}))"
    plans, with_unmet, notes = conn.execute(text(
        f"SELECT COUNT(DISTINCT p.case_id), COUNT(DISTINCT CASE WHEN n.value IS NOT NULL THEN p.case_id END), "
        f"COUNT(n.value) FROM ({LATEST_PLANS}) p LEFT JOIN {sql.unmet_needs('p.payload')} ON TRUE"), p).one()
    report.sections.append(Section(
        "Plans and unmet need", ["plans", "plans with unmet need", "unmet-need notes"],
        [[int(plans), int(with_unmet), int(notes)]],
        note="Each case's latest plan submitted in the range."))
    rows = conn.execute(text(
        f"SELECT {note} AS need, COUNT(*), COUNT(DISTINCT p.case_id) FROM ({LATEST_PLANS}) p "
        f"CROSS JOIN {sql.unmet_needs('p.payload')} GROUP BY {note} ORDER BY COUNT(*) DESC, need"), p)
    report.sections.append(Section(
        "By what was wanted", ["what was wanted", "notes", "cases"],
        [[str(n), int(c), int(k)] for n, c, k in rows], chart=(0, 1),
        note="Notes are free text, grouped by their words (case and spaces ignored); "
             "export this table (CSV) for the market position statement."))
    months = conn.execute(text(
        f"SELECT substr(p.at, 1, 7) AS month, COUNT(n.value), COUNT(DISTINCT p.case_id) FROM ({LATEST_PLANS}) p "
        f"CROSS JOIN {sql.unmet_needs('p.payload')} GROUP BY substr(p.at, 1, 7) ORDER BY month"), p)
    report.sections.append(Section(
        "Over time", ["month", "notes", "cases"], [[str(m), int(c), int(k)] for m, c, k in months],
        chart=(0, 1), note="By the month the plan was submitted."))
    report.not_held += [
        "By outcome: a plan records unmet needs as free text, not against one of the ten outcomes.",
        "By provision type: notes are not chosen from the council's rate card, so they cannot be "
        "grouped by it, nor costed at the council's rates.",
        "By area: the store holds no address or locality for a case.",
    ]
