"""A report as CSV (one block per section, for the market position statement or a return) and as
JSON: the same figures the pages show."""

from __future__ import annotations

import csv
import io
import json

from carebudget.reports.base import Report, plain


def to_csv(report: Report, only: str | None = None) -> str:
    """Every section, each headed by its title; `only` gives one section's table alone (the CLD
    return's rows, say), with no heading, as a return expects."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if only is not None:
        section = report.section(only)
        w.writerow(section.columns)
        w.writerows([[plain(v) for v in row] for row in section.rows])
        return out.getvalue()
    w.writerow([f"{report.title}, council {report.council}, {report.start} to {report.end}"])
    w.writerow(["rules bundles", *[b["bundle"] for b in report.bundles]])
    for s in report.sections:
        w.writerow([])
        w.writerow([s.title])
        w.writerow(s.columns)
        w.writerows([[plain(v) for v in row] for row in s.rows])
    for line in report.not_held:
        w.writerow(["not held", line])
    return out.getvalue()


def to_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2)
