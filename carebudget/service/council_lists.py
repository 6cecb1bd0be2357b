"""Care Act 2014 s5 (market shaping) and s25(1)(e)-(f): the council's own lists a worker chooses
from: the provisions of its rate card (or `other`) for what a plan could not meet, and its
localities (parameter `case.areas`) for where the person lives."""

from __future__ import annotations

from datetime import date
from typing import Any

from carebudget.decisions.inputs import OTHER_PROVISION


def _bundle_param(rules: Any, council: str, on: date, name: str) -> list[Any]:
    """A list parameter of the council's bundle in force on `on`, from `rules` (a registry with
    the published policy versions, as decisions are made; default: the shipped rule files)."""
    from carebudget.rulebook import RuleFileError, UnknownCouncil, get_registry

    try:
        found = (rules or get_registry()).bundle(council, on).parameters.get(name)
    except (UnknownCouncil, RuleFileError):
        return []
    return list(found.value) if found is not None and found.value else []


def rate_card_codes(council: str, on: date, rules: Any = None) -> list[str]:
    """The provision codes on the council's rate card in force on `on` (empty if it has none)."""
    return [str(p["id"]) for p in _bundle_param(rules, council, on, "rates.card")]


def areas(council: str, on: date, rules: Any = None) -> list[str]:
    """The council's localities in force on `on` (empty if it keeps no list)."""
    return [str(a) for a in _bundle_param(rules, council, on, "case.areas")]


def area_refused(area: str | None, council: str, on: date, rules: Any = None) -> str | None:
    """Why an area given at intake is not one of the council's, or None (no area is allowed:
    the case is reported under "not recorded")."""
    if area is None:
        return None
    known = areas(council, on, rules)
    if not known:
        return f"area: council {council} keeps no list of areas, so leave the area out"
    if area not in known:
        return f"area: {area[:60]!r} is not one of {council}'s areas; choose one of {', '.join(known)}"
    return None


def unknown_unmet_provision(payload: dict[str, Any], council: str, on: date,
                            rules: Any = None) -> tuple[str, str] | None:
    """(field, reason) for the first unmet need whose provision is neither on the rate card nor
    `other`; None when every one is. Only structured needs are checked (a plain note is refused
    by the workflow in words of its own)."""
    needs = payload.get("unmet_needs")
    if not isinstance(needs, list):
        return None
    codes: list[str] | None = None
    for index, need in enumerate(needs):
        provision = need.get("provision") if isinstance(need, dict) else None
        if not isinstance(provision, str) or provision == OTHER_PROVISION:
            continue
        codes = rate_card_codes(council, on, rules) if codes is None else codes
        if provision not in codes:
            listed = ", ".join(codes) or "none"
            return (f"unmet_needs.{index}.provision", (
                f"unmet_needs.{index}.provision: {provision[:64]!r} is not on {council}'s rate card in force on "
                f"{on.isoformat()}; choose one of {listed}, or other (and say in the words what was wanted)"))
    return None
