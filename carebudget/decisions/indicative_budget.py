"""CSSG 11.7 and 11.24: the indicative personal budget, a range from the council's RAS table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from carebudget.decisions.evaluate import Evaluation
from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.parameters import MissingParameter

TABLE = "ras.bands"


PENNY = Decimal("0.01")
_Band = tuple[int, Decimal, Decimal]  # from_points, weekly_low, weekly_high
# Each table read once: keyed by the table object, which is kept beside its bands so its id
# cannot be reused by another table while the entry lives. A bundle holds its tables for its life.
_BANDS: dict[int, tuple[list[dict[str, Any]], list[_Band]]] = {}


def _bands(table: list[dict[str, Any]]) -> list[_Band]:
    cached = _BANDS.get(id(table))
    if cached is not None and cached[0] is table:
        return cached[1]
    bands = [(int(b["from_points"]), Decimal(str(b["weekly_low"])).quantize(PENNY),
              Decimal(str(b["weekly_high"])).quantize(PENNY))
             for b in sorted(table, key=lambda b: int(b["from_points"]))]
    if len(_BANDS) >= 64:
        _BANDS.clear()
    _BANDS[id(table)] = (table, bands)
    return bands


def indicative_budget(bundle: Bundle, ev: Evaluation) -> dict[str, Any]:
    """The band the points reach: the last, in order of `from_points`, that they reach (its range
    read once per table)."""
    points = ev.points
    chosen = None
    for band in _bands(bundle.param(TABLE)):
        if points >= band[0]:
            chosen = band
    if chosen is None:
        raise MissingParameter(TABLE, None, f"no band covers {points} points")
    return {
        "points": points,
        "weekly_low": chosen[1],
        "weekly_high": chosen[2],
        "band_from_points": chosen[0],
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
