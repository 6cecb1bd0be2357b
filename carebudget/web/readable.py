"""Stored facts and results as rows a reader can follow on screen and on paper: each value beside
the path to it in words ("Needs · outcomes · nutrition": "needs assistance"), never raw JSON."""

from __future__ import annotations

from typing import Any

from carebudget.web.case_forms import OUTCOME_LABELS, WAY_LABELS


def _words(key: Any) -> str:
    text = str(key)
    return OUTCOME_LABELS.get(text, text.replace("_", " ").replace("-", " "))


def _scalar(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None or value == "":
        return "–"
    if isinstance(value, str) and value in WAY_LABELS:
        return WAY_LABELS[value].lower()
    return str(value).replace("_", " ") if isinstance(value, str) and " " not in str(value) else str(value)


def readable_rows(value: Any, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(where, value) for every leaf of a nested record, in its own order."""
    rows: list[tuple[str, str]] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            if not node and path:
                rows.append((" · ".join(path), "none"))
            for key, child in node.items():
                if not path and key in skip:
                    continue
                walk(child, [*path, _words(key)])
        elif isinstance(node, list) and any(isinstance(c, (dict, list)) for c in node):
            for i, child in enumerate(node, 1):
                walk(child, [*path, str(i)])
        elif isinstance(node, list):
            rows.append((" · ".join(path), ", ".join(_scalar(c) for c in node) or "none"))
        else:
            rows.append((" · ".join(path) or "value", _scalar(node)))

    walk(value, [])
    return [(where[:1].upper() + where[1:], text) for where, text in rows]
