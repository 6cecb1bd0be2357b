"""Client Level Data (NHS England's quarterly adult social care return): the event rows this
system can supply for the range, one per assessment, service (budget) and review, with the
fields it cannot supply named. Column names follow the return's event layout."""

from __future__ import annotations

from sqlalchemy import Connection, text

from carebudget.reports.base import Report, Scope, Section, money
from carebudget.reports.sql import Dialect

EVENTS = {"assessment.verified": "Assessment", "budget.active": "Service", "review.completed": "Review"}
COLUMNS = ["LA Code", "LA Person Unique Identifier", "Event Type", "Event Start Date", "Event Outcome",
           "Delivery Mechanism", "Unit Cost", "Cost Frequency (Unit Type)", "Client Funding Status"]


def build(conn: Connection, sql: Dialect, s: Scope, report: Report) -> None:
    cost = sql.pence(sql.j("payload", "weekly_cost"))
    charge = sql.pence(sql.j("payload", "person_charge"))
    outcome = sql.j("payload", "outcome")
    listed = ", ".join(f"'{a}'" for a in EVENTS)
    rows = conn.execute(text(
        f"SELECT case_id, action, substr(at, 1, 10), {outcome}, {cost}, {charge} FROM ledger "
        f"WHERE chain = :council AND action IN ({listed}) AND at >= :at_from AND at < :at_to "
        "ORDER BY case_id, seq"), s.params())
    out = []
    for case_id, action, day, result, pence, charged in rows:
        service = action == "budget.active"
        out.append([s.council, str(case_id), EVENTS[str(action)], str(day),
                    str(result or ("Long Term Support" if service else "")),
                    "CASSR Managed Personal Budget" if service else "",
                    str(money(pence)) if service else "", "Week" if service else "",
                    ("Fully Council Funded" if not charged else "Part Self-Funded") if service else ""])
    counts = conn.execute(text(
        f"SELECT action, COUNT(*), COUNT(DISTINCT case_id) FROM ledger WHERE chain = :council AND action IN ({listed}) "
        "AND at >= :at_from AND at < :at_to GROUP BY action ORDER BY action"), s.params())
    report.sections.append(Section("Events by type", ["Event Type", "events", "people"],
                                   [[EVENTS[str(a)], int(n), int(k)] for a, n, k in counts], chart=(0, 1)))
    report.sections.append(Section("Event rows", COLUMNS, out,
                                   note="One row per assessment, budget put in place and review in the range."))
    report.not_held += [
        "NHS number, gender, ethnicity, postcode and primary support reason: not collected by this system.",
        "Requests (first contacts) that did not open a case, and event end dates: not recorded.",
        "Delivery mechanism: whether a budget is taken as a direct payment is not recorded, so every "
        "budget is shown as council-managed.",
    ]
