"""CSSG 11.7 and 11.24: the indicative personal budget, a range from the council's RAS table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from carebudget.decisions.evaluate import Evaluation
from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.parameters import MissingParameter

TABLE = "ras.bands"


def band_for(points: int, bands: list[dict[str, Any]]) -> dict[str, Any]:
    chosen = None
    for band in sorted(bands, key=lambda b: int(b["from_points"])):
        if points >= int(band["from_points"]):
            chosen = band
    if chosen is None:
        raise MissingParameter(TABLE, None, f"no band covers {points} points")
    return chosen


def indicative_budget(bundle: Bundle, ev: Evaluation) -> dict[str, Any]:
    bands = bundle.param(TABLE)
    band = band_for(ev.points, bands)
    low, high = Decimal(str(band["weekly_low"])), Decimal(str(band["weekly_high"]))
    return {
        "points": ev.points,
        "weekly_low": low.quantize(Decimal("0.01")),
        "weekly_high": high.quantize(Decimal("0.01")),
        "band_from_points": int(band["from_points"]),
        "indicative": True,
    }


def explain_budget(budget: dict[str, Any]) -> str:
    return (
        f"The needs score {budget['points']} points on the council's resource allocation system, "
        f"giving an indicative weekly budget of £{budget['weekly_low']} to £{budget['weekly_high']}. "
        "This is a starting point: the final personal budget must be sufficient to meet the assessed "
        "needs (CSSG 11.7, 11.24; R (KM) v Cambridgeshire [2012] UKSC 23)."
    )


def check_bands(bands: Any) -> list[str]:
    """Problems with a RAS table: used by `rules validate` so a policy officer sees them early."""
    problems = []
    if not isinstance(bands, list) or not bands:
        return ["ras.bands must be a non-empty list of {from_points, weekly_low, weekly_high}"]
    previous = None
    for index, band in enumerate(sorted(bands, key=lambda b: int(b.get("from_points", 0)))):
        try:
            low, high = Decimal(str(band["weekly_low"])), Decimal(str(band["weekly_high"]))
        except (KeyError, ArithmeticError, TypeError):
            problems.append(f"band {index}: needs from_points, weekly_low and weekly_high numbers")
            continue
        if low > high:
            problems.append(f"band from {band['from_points']} points: weekly_low is above weekly_high")
        if previous and (low < previous[0] or high < previous[1]):
            problems.append(f"band from {band['from_points']} points gives less than a lower band: more need must never lower the range")
        previous = (low, high)
    if bands and min(int(b.get("from_points", 0)) for b in bands) != 0:
        problems.append("the lowest band must start at 0 points")
    return problems
