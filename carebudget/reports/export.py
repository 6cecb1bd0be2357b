"""A report as CSV (one block per section, for the market position statement or a return) and as
JSON: the same figures the pages show."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine

from carebudget.reports.base import Report, Section, plain


def stream_csv(engine: Engine, report: Report) -> Iterator[str]:
    """The report as CSV text in pieces. The CLD report's event rows are its first page on screen;
    here every row of the range is streamed from the database in batches, so a year of a large
    council's events is never held in memory whole."""
    if report.kind != "cld":
        yield to_csv(report)
        return
    from carebudget.reports.cld import ROWS_TITLE, event_rows

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    _head(w, report)
    for s in report.sections:
        _section(w, s, streamed=s.title == ROWS_TITLE)
        if s.title == ROWS_TITLE:
            for n, row in enumerate(event_rows(engine, report), 1):
                w.writerow(row)
                if n % 2000 == 0:
                    yield out.getvalue()
                    out.seek(0), out.truncate()
    _tail(w, report)
    yield out.getvalue()


def _head(w: Any, report: Report) -> None:
    w.writerow([f"{report.title}, council {report.council}, {report.start} to {report.end}"])
    w.writerow(["rules bundles", *[b["bundle"] for b in report.bundles]])


def _section(w: Any, s: Section, streamed: bool = False) -> None:
    w.writerow([])
    w.writerow([s.title])
    w.writerow(s.columns)
    if not streamed:
        w.writerows([[plain(v) for v in row] for row in s.rows])


def _tail(w: Any, report: Report) -> None:
    for line in report.not_held:
        w.writerow(["not held", line])


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
    _head(w, report)
    for s in report.sections:
        _section(w, s)
    _tail(w, report)
    return out.getvalue()


def to_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2)
