"""What every report shares: its scope (council, date range), the rules bundles it covers, its
sections (a table, optionally charted) and the plain-words notes on what the store cannot say."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

from carebudget.reports.sql import Dialect

KINDS: dict[str, str] = {
    "unmet-need": "Unmet need",
    "finance": "Money",
    "fairness": "Fairness",
    "timeliness": "Timeliness",
    "cld": "Client Level Data",
}
_MODULES = {"unmet-need": "unmet_need", "finance": "finance", "fairness": "fairness",
            "timeliness": "timeliness", "cld": "cld"}
COUNCIL = re.compile(r"^[a-z0-9_-]{1,60}$")
NOT_COUNCILS = ("service", "national")


class ReportError(ValueError):
    """Bad input to a report, in words a person can act on."""


@dataclass(frozen=True)
class Scope:
    council: str
    start: date
    end: date  # inclusive
    today: date
    uplift: Decimal = Decimal("0.03")
    annual_budget: Decimal | None = None
    rules: Any = None  # the rules registry (its rate cards); None: the service's (get_registry())

    @property
    def at_from(self) -> str:
        """Ledger `at` bounds as text: ISO timestamps compare as text on both databases."""
        return self.start.isoformat()

    @property
    def at_to(self) -> str:
        return (self.end + timedelta(days=1)).isoformat()

    def params(self) -> dict[str, Any]:
        return {"council": self.council, "start": self.start, "end": self.end,
                "at_from": self.at_from, "at_to": self.at_to, "today": self.today}


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    chart: tuple[int, int] | None = None  # (label column, value column) to draw as bars
    note: str = ""
    case_column: int | None = None  # a column of case references: the page links each to its case

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass
class Report:
    kind: str
    title: str
    council: str
    start: date
    end: date
    today: date
    bundles: list[dict[str, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    not_held: list[str] = field(default_factory=list)

    def section(self, title: str) -> Section:
        return next(s for s in self.sections if s.title == title)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "title": self.title, "council": self.council,
            "from": self.start.isoformat(), "to": self.end.isoformat(), "as_at": self.today.isoformat(),
            "rules_bundles": self.bundles,
            "sections": [{"title": s.title, "note": s.note, "rows": [
                {k: plain(v) for k, v in d.items()} for d in s.as_dicts()]} for s in self.sections],
            "not_held": self.not_held,
        }


def plain(value: Any) -> Any:
    return f"{value:.2f}" if isinstance(value, Decimal) else value


def money(pence: Any) -> Decimal:
    return (Decimal(int(pence or 0)) / 100).quantize(Decimal("0.01"))


def parse_date(value: str | date | None, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ReportError(f"{name} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-04-01") from None


def scope(conn: Connection, council: str, start: Any, end: Any, today: date | None = None,
          uplift: Any = None, annual_budget: Any = None) -> Scope:
    """Check the input a person typed; a report of a council the store has never heard of is
    refused rather than shown empty, so a typo is not mistaken for "no unmet need"."""
    today = today or date.today()
    to = parse_date(end, "to") or today
    frm = parse_date(start, "from") or to - timedelta(days=364)
    if frm > to:
        raise ReportError(f"the range starts ({frm}) after it ends ({to}): put the earlier date in 'from'")
    if not COUNCIL.match(council or "") or council in NOT_COUNCILS:
        raise ReportError(f"{council!r} is not a council code (lower-case letters, digits, - and _)")
    known = conn.execute(text("SELECT 1 FROM ledger_head WHERE chain = :c"), {"c": council}).first()
    if known is None:
        raise ReportError(f"council {council!r} has no records in this store: check the council code")
    rate = Decimal("0.03")
    if uplift is not None:
        try:
            rate = Decimal(str(uplift)) / 100
        except ArithmeticError:
            raise ReportError(f"uplift {uplift!r} is not a percentage like 3.5") from None
        if not rate.is_finite() or not Decimal("-50") <= rate * 100 <= Decimal("50"):
            raise ReportError("uplift must be a yearly percentage between -50 and 50")
    return Scope(council, frm, to, today, rate, _budget(annual_budget))


def _budget(value: Any) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", "").replace("£", "").strip())
    except ArithmeticError:
        raise ReportError(f"annual budget {value!r} is not an amount of pounds like 250000000") from None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e12"):
        raise ReportError("the annual budget must be an amount of pounds above 0 and below 1,000,000,000,000")
    return amount.quantize(Decimal("0.01"))


def bundles(conn: Connection, s: Scope) -> list[dict[str, str]]:
    """The rules bundles the decisions in range were made under: every report states them. Two
    index seeks per bundle the council has ever decided under (migration 0009's index), however
    many decisions the range holds."""
    rows = conn.execute(text(
        "SELECT hash, first, last FROM (SELECT b.hash, "
        "(SELECT MIN(d.on_date) FROM decision d WHERE d.council = :council AND d.bundle_hash = b.hash "
        "AND d.on_date BETWEEN :start AND :end) AS first, "
        "(SELECT MAX(d.on_date) FROM decision d WHERE d.council = :council AND d.bundle_hash = b.hash "
        "AND d.on_date BETWEEN :start AND :end) AS last FROM rule_bundle b WHERE b.council = :council) x "
        "WHERE first IS NOT NULL ORDER BY first, hash"), s.params())
    return [{"bundle": str(h), "first_decision": str(a), "last_decision": str(b)} for h, a, b in rows]


def ranks(values_sql: str) -> str:
    """Count, median and 90th percentile (nearest rank) of `d` per `grp`, in SQL on both databases:
    the values never leave the database.

    The values are counted per distinct `d` first (durations in days: a few hundred per group), and
    the rank is found on the running count: the value at rank r is the least `d` whose running
    count reaches r. The same figures as numbering every value in order, without sorting them all
    (at 100,000 cases: 383,000 values, 1.06 s of window sort on SQLite; 0.28 s this way)."""
    return (
        f"WITH v AS ({values_sql}), h AS (SELECT grp, d, COUNT(*) AS k FROM v GROUP BY grp, d), "
        "c AS (SELECT grp, d, SUM(k) OVER (PARTITION BY grp ORDER BY d ROWS UNBOUNDED PRECEDING) AS cum, "
        "SUM(k) OVER (PARTITION BY grp) AS n FROM h) "
        "SELECT grp, MAX(n), MIN(CASE WHEN cum >= (n + 1) / 2 THEN d END), "
        "MIN(CASE WHEN cum >= (9 * n + 9) / 10 THEN d END) FROM c GROUP BY grp"
    )


def run(engine: Engine, kind: str, council: str, start: Any = None, end: Any = None,
        today: date | None = None, uplift: Any = None, annual_budget: Any = None, rules: Any = None) -> Report:
    if kind not in KINDS:
        raise ReportError(f"there is no report {kind!r}: the reports are {', '.join(KINDS)}")
    module = importlib.import_module(f"carebudget.reports.{_MODULES[kind]}")
    dialect = Dialect(engine.dialect.name == "postgresql")
    with engine.connect() as conn:
        if dialect.postgres:  # the reports' window sorts fit in memory, not in temporary files
            conn.execute(text("SET LOCAL work_mem = '64MB'"))
        s = replace(scope(conn, council, start, end, today, uplift, annual_budget), rules=rules)
        report = Report(kind, KINDS[kind], council, s.start, s.end, s.today, bundles(conn, s))
        module.build(conn, dialect, s, report)
        conn.rollback()
    return report


def councils(engine: Engine) -> list[str]:
    """The councils with a record in this store (each has its own ledger chain)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT chain FROM ledger_head ORDER BY chain")).scalars()
        return [str(c) for c in rows if c not in NOT_COUNCILS]
