"""Client Level Data (NHS England's quarterly adult social care return): the event rows this
system can supply for the range, one per assessment, service (budget) and review, with the
fields it cannot supply named. Column names follow the return's event layout.

The report counts the events in SQL and shows the first page of rows; the return itself (every
row) is streamed from the database by `event_rows`, never held in memory whole."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, text

from carebudget.reports.base import Report, Scope, Section, money
from carebudget.reports.sql import Dialect

EVENTS = {"assessment.verified": "Assessment", "budget.active": "Service", "review.completed": "Review"}
COLUMNS = ["LA Code", "LA Person Unique Identifier", "Event Type", "Event Start Date", "Event Outcome",
           "Delivery Mechanism", "Unit Cost", "Cost Frequency (Unit Type)", "Client Funding Status"]
ROWS_SHOWN = 100
ROWS_TITLE = "Event rows"
LISTED = ", ".join(f"'{a}'" for a in EVENTS)
ROWS_SQL = (
    "SELECT case_id, action, substr(at, 1, 10), detail, amount, charge FROM report_step "
    f"WHERE chain = :council AND action IN ({LISTED}) AND at >= :at_from AND at < :at_to "
    "ORDER BY case_id, seq"
)


def _row(council: str, case_id: Any, action: Any, day: Any, detail: Any, pence: Any, charged: Any) -> list[str]:
    service = action == "budget.active"
    outcome = detail if not service else "Long Term Support"
    return [council, str(case_id), EVENTS[str(action)], str(day), str(outcome or ""),
            "CASSR Managed Personal Budget" if service else "",
            str(money(pence)) if service else "", "Week" if service else "",
            ("Fully Council Funded" if not charged else "Part Self-Funded") if service else ""]


def build(conn: Connection, sql: Dialect, s: Scope, report: Report) -> None:
    counts = conn.execute(text(
        f"SELECT action, COUNT(*), COUNT(DISTINCT case_id) FROM report_step WHERE chain = :council "
        f"AND action IN ({LISTED}) AND at >= :at_from AND at < :at_to GROUP BY action ORDER BY action"),
        s.params()).all()
    total = sum(int(n) for _, n, _ in counts)
    report.sections.append(Section("Events by type", ["Event Type", "events", "people"],
                                   [[EVENTS[str(a)], int(n), int(k)] for a, n, k in counts], chart=(0, 1)))
    first = conn.execute(text(f"{ROWS_SQL} LIMIT {ROWS_SHOWN}"), s.params())
    report.sections.append(Section(
        ROWS_TITLE, COLUMNS, [_row(s.council, *r) for r in first],
        note=f"One row per assessment, budget put in place and review in the range: the first "
             f"{min(ROWS_SHOWN, total)} of {total} shown; the CSV download holds every row, in this layout."))
    report.not_held += [
        "NHS number, gender, ethnicity, postcode and primary support reason: not collected by this system.",
        "Requests (first contacts) that did not open a case, and event end dates: not recorded.",
        "Delivery mechanism: whether a budget is taken as a direct payment is not recorded, so every "
        "budget is shown as council-managed.",
    ]


def event_rows(engine: Engine, report: Report) -> Iterator[list[str]]:
    """Every event row of the report's council and range, streamed from the database in batches."""
    params = {"council": report.council, "at_from": report.start.isoformat(),
              "at_to": Scope(report.council, report.start, report.end, report.today).at_to}
    with engine.connect().execution_options(stream_results=True, yield_per=2000) as conn:
        for row in conn.execute(text(ROWS_SQL), params):
            yield _row(report.council, *row)
