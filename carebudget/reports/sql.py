"""The few SQL fragments that differ between SQLite and PostgreSQL: reading the canonical JSON text
columns, money as whole pence (exact sums on both), and days between dates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    postgres: bool

    def j(self, column: str, *path: str) -> str:
        """A JSON field of a text column, as text (NULL when absent)."""
        if self.postgres:
            return f"(({column})::jsonb #>> '{{{','.join(path)}}}')"
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    def pence(self, expr: str) -> str:
        """A money string ("123.45") as whole pence: integer sums cannot drift as REAL sums do."""
        if self.postgres:
            return f"CAST(ROUND(CAST({expr} AS NUMERIC) * 100) AS BIGINT)"
        return f"CAST(ROUND(CAST({expr} AS REAL) * 100) AS INTEGER)"

    def day(self, at: str) -> str:
        """The date of a ledger `at` (ISO text, UTC) as a date value."""
        return f"CAST(substr({at}, 1, 10) AS DATE)" if self.postgres else f"substr({at}, 1, 10)"

    def days(self, later: str, earlier: str) -> str:
        """Whole days from one date value to another."""
        if self.postgres:
            return f"({later} - {earlier})"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

    def ymd(self, expr: str, is_date: bool) -> str:
        """A date (column or ISO text) as the integer YYYYMMDD: the difference of two, divided by
        10000, is a whole age in years on both databases."""
        if self.postgres and is_date:
            return f"CAST(to_char({expr}, 'YYYYMMDD') AS INTEGER)"
        return f"CAST(replace(substr(CAST({expr} AS TEXT), 1, 10), '-', '') AS INTEGER)"
