"""What a policy or compliance officer sees of the rules: versions per council, status, diffs."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import HTTPException

from carebudget.policy.versions import registry_for
from carebudget.rulebook.library import UnknownCouncil


def versions(library: Any, council: str) -> list[date]:
    """Every date on which something in the council's bundle changes, oldest first."""
    dates = {f.effective_from for layer in library.layers(council) for f in layer.rule_files}
    for param in library.parameters(council).values():
        dates.update(v.since for v in param.values)
    return sorted(dates)


def council_overview(settings: Any, store: Any) -> dict[str, Any]:
    registry = registry_for(settings.rules_dir, store)
    library = registry.library
    today = date.today()
    stored: dict[str, Any] = {}
    if store is not None:
        for record in store.list_bundles():
            stored[record.hash] = record
    out = []
    for code in library.codes():
        rows = []
        for on in versions(library, code):
            bundle = library.bundle(code, on)
            record = stored.get(bundle.hash)
            rows.append(
                {
                    "effective_from": on.isoformat(),
                    "bundle": bundle.hash,
                    "status": record.status if record else ("future" if on > today else "in files"),
                    "published_by": record.published_by if record else None,
                    "approved_by": record.approved_by if record else None,
                }
            )
        current = registry.bundle(code, today)
        for row in rows:
            if row["bundle"] == current.hash and str(row["effective_from"]) <= today.isoformat():
                row["in_force"] = True
        out.append({"council": code, "in_force": current.hash, "versions": rows[::-1]})
    refused = str(registry.refused) if registry.refused else None
    return {"councils": out, "refused_change": refused}


def diff(settings: Any, store: Any, council: str, first: date, second: date) -> dict[str, Any]:
    from carebudget.rulebook.diff import diff_bundles

    try:
        return diff_bundles(registry_for(settings.rules_dir, store).library, council, first, second)
    except UnknownCouncil as exc:
        raise HTTPException(404, str(exc)) from None
