"""Care Act 2014 s5 (market shaping) and s25(1)(e)-(f): the council's own lists a worker chooses
from when recording what a plan could not meet: the provisions of its rate card (or `other`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from carebudget.decisions.inputs import OTHER_PROVISION


def rate_card_codes(council: str, on: date) -> list[str]:
    """The provision codes on the council's rate card in force on `on` (empty if it has none)."""
    from carebudget.rulebook import RuleFileError, UnknownCouncil, get_registry

    try:
        card = get_registry().bundle(council, on).parameters.get("rates.card")
    except (UnknownCouncil, RuleFileError):
        return []
    return [str(p["id"]) for p in (card.value if card is not None and card.value else [])]


def unknown_unmet_provision(payload: dict[str, Any], council: str, on: date) -> tuple[str, str] | None:
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
        codes = rate_card_codes(council, on) if codes is None else codes
        if provision not in codes:
            listed = ", ".join(codes) or "none"
            return (f"unmet_needs.{index}.provision", (
                f"unmet_needs.{index}.provision: {provision[:64]!r} is not on {council}'s rate card in force on "
                f"{on.isoformat()}; choose one of {listed}, or other (and say in the words what was wanted)"))
    return None
