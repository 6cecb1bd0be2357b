"""Parameter changes a policy officer can read: tables compared row by row, cell by cell."""

from __future__ import annotations

from typing import Any


def table_change(before: Any, after: Any) -> dict[str, Any] | None:
    """For two tables (lists of mappings): columns and rows of (before, after, changed) cells."""
    if not (
        isinstance(before, list)
        and isinstance(after, list)
        and all(isinstance(r, dict) for r in before + after)
    ):
        return None
    columns: list[str] = []
    for row in before + after:
        columns += [k for k in row if k not in columns]
    rows = []
    for i in range(max(len(before), len(after))):
        old = before[i] if i < len(before) else {}
        new = after[i] if i < len(after) else {}
        rows.append(
            [
                {"before": old.get(c), "after": new.get(c), "changed": old.get(c) != new.get(c)}
                for c in columns
            ]
        )
    return {"columns": columns, "rows": rows}
