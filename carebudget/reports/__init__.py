"""The council's view across the caseload (Care Act 2014 s5 market shaping, s26 budgets, s27
reviews; CQC assessment of local authorities): unmet need, money, fairness, timeliness, and the
NHS England Client Level Data return.

Each report is one module with `build(conn, sql, scope) -> Report`; every figure is an SQL
aggregate over the store (case_list, decision, ledger), never a loop over cases in Python.

Use::

    from carebudget.reports import run
    report = run(store.engine, "fairness", "demo", date(2025, 4, 1), date(2026, 3, 31))
"""

from __future__ import annotations

from carebudget.reports.base import KINDS, Report, ReportError, Section, run

__all__ = ["KINDS", "Report", "ReportError", "Section", "run"]
