"""Unmet need (Care Act 2014 s5 market shaping, s25(1)(e)-(f) plans; CSSG 10.45): what people
wanted and could not get, from the unmet-need notes of each case's latest plan in the range."""

from __future__ import annotations

from sqlalchemy import Connection, text

from carebudget.reports.base import Report, Scope, Section
from carebudget.reports.sql import Dialect

# A case re-submits its plan after changes are asked for: only its latest plan in the range
# counts, or one wish would be counted once per draft. report_step (migration 0009) holds each
# plan's count of notes (`flag`); only plans with notes are read from the ledger, for their words.
LATEST_PLANS = (
    "SELECT case_id, seq, at, flag FROM (SELECT case_id, seq, at, flag, ROW_NUMBER() OVER "
    "(PARTITION BY case_id ORDER BY seq DESC) AS nth FROM report_step WHERE chain = :council "
    "AND action = 'plan.submitted' AND at >= :at_from AND at < :at_to) ranked WHERE nth = 1"
)
WITH_NOTES = (
    f"SELECT p.case_id, p.at, l.payload FROM ({LATEST_PLANS}) p "
    "JOIN ledger l ON l.chain = :council AND l.seq = p.seq WHERE p.flag > 0"
)


def build(conn: Connection, sql: Dialect, s: Scope, report: Report) -> None:
    p = s.params()
    note = "lower(trim(n.value))"
    plans, with_unmet, notes = conn.execute(text(
        f"SELECT COUNT(*), SUM(CASE WHEN flag > 0 THEN 1 ELSE 0 END), SUM(flag) FROM ({LATEST_PLANS}) p"), p).one()
    report.sections.append(Section(
        "Plans and unmet need", ["plans", "plans with unmet need", "unmet-need notes"],
        [[int(plans), int(with_unmet or 0), int(notes or 0)]],
        note="Each case's latest plan submitted in the range."))
    rows = conn.execute(text(
        f"SELECT {note} AS need, COUNT(*), COUNT(DISTINCT p.case_id) FROM ({WITH_NOTES}) p "
        f"CROSS JOIN {sql.unmet_needs('p.payload')} GROUP BY {note} ORDER BY COUNT(*) DESC, need"), p)
    report.sections.append(Section(
        "By what was wanted", ["what was wanted", "notes", "cases"],
        [[str(n), int(c), int(k)] for n, c, k in rows], chart=(0, 1),
        note="Notes are free text, grouped by their words (case and spaces ignored); "
             "export this table (CSV) for the market position statement."))
    months = conn.execute(text(
        "SELECT substr(p.at, 1, 7) AS month, SUM(p.flag), COUNT(*) FROM "
        f"({LATEST_PLANS}) p WHERE p.flag > 0 GROUP BY substr(p.at, 1, 7) ORDER BY month"), p)
    report.sections.append(Section(
        "Over time", ["month", "notes", "cases"], [[str(m), int(c), int(k)] for m, c, k in months],
        chart=(0, 1), note="By the month the plan was submitted."))
    report.not_held += [
        "By outcome: a plan records unmet needs as free text, not against one of the ten outcomes.",
        "By provision type: notes are not chosen from the council's rate card, so they cannot be "
        "grouped by it, nor costed at the council's rates.",
        "By area: the store holds no address or locality for a case.",
    ]
