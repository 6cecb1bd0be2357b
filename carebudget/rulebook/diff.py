"""A readable difference between the bundles in force for a council on two dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from carebudget.rulebook.library import Library


def diff_bundles(library: Library, council: str, first: date, second: date) -> dict[str, Any]:
    a, b = library.bundle(council, first), library.bundle(council, second)
    params: list[dict[str, Any]] = []
    for name in sorted(set(a.parameters) | set(b.parameters)):
        pa, pb = a.parameters.get(name), b.parameters.get(name)
        va = pa.value if pa else None
        vb = pb.value if pb else None
        if va != vb or (pa is None) != (pb is None):
            latest = pb or pa
            params.append({"parameter": name, "from": va, "to": vb, "since": pb.since if pb else None,
                           "reference": latest.reference if latest else None})
    rules_a = {r.id: r for f in a.rule_files for r in f.rules}
    rules_b = {r.id: r for f in b.rule_files for r in f.rules}
    rules = []
    for rid in sorted(set(rules_a) | set(rules_b)):
        ra, rb = rules_a.get(rid), rules_b.get(rid)
        if ra is None and rb is not None:
            rules.append({"rule": rid, "change": "added", "reference": rb.reference})
        elif rb is None and ra is not None:
            rules.append({"rule": rid, "change": "removed", "reference": ra.reference})
        elif ra is not None and rb is not None and (ra.when, ra.then) != (rb.when, rb.then):
            rules.append({"rule": rid, "change": "changed", "reference": rb.reference})
    return {
        "council": council,
        "from": {"date": first.isoformat(), "bundle": a.hash},
        "to": {"date": second.isoformat(), "bundle": b.hash},
        "same": a.hash == b.hash,
        "parameters": params,
        "rules": rules,
    }
