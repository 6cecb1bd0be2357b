"""Dated legal amounts and council policy values (OpenFisca style).

Each parameter has a `reference` to the law and `values` keyed by the date each takes effect.
A value of `null` records that the amount for that period could not be confirmed: a decision
that needs it fails naming the parameter. Published values are never edited: add a dated entry.

Every sourced value carries a grade (see docs/rules.md): P primary, P* official text read through
a mirror, S secondary, D derived from an official uplift (with its `derivation`), NC not confirmed
(always `null`), council (a council's own decision). A parameter marked `floor: true` is an amount
the law says a person must at least be left with: a council overlay may raise it, never lower it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from carebudget.rulebook.rate_card import parse_rate_card
from carebudget.rulebook.rules import parse_date
from carebudget.rulebook.yamlsource import RuleFileError, line_of, strip_lines

UNITS = ("GBP", "days", "weeks", "number", "share", "bool", "table", "rate_card")
GRADES = ("P", "P*", "S", "D", "NC", "council")
# Grades whose figure a decision must flag, naming the source to check it against.
UNCONFIRMED_GRADES = ("P*", "S", "D", "council")


class MissingParameter(LookupError):
    """A decision needs an amount that is not in force (or not confirmed) on its date."""

    def __init__(self, name: str, on: date | None, note: str = "") -> None:
        self.name = name
        self.on = on
        when = f" on {on.isoformat()}" if on else ""
        extra = f" ({note})" if note else ""
        super().__init__(f"parameter {name!r} has no confirmed value{when}{extra}")


@dataclass(frozen=True)
class DatedValue:
    since: date
    value: Any
    source: str | None
    grade: str | None
    note: str | None
    derivation: str | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ParameterDef:
    name: str
    description: str
    unit: str
    reference: str
    values: tuple[DatedValue, ...]  # sorted by `since`
    path: str
    floor: bool = False

    def at(self, on: date) -> DatedValue | None:
        current = None
        for entry in self.values:
            if entry.since <= on:
                current = entry
        return current

    def merged_with(self, overlay: ParameterDef) -> ParameterDef:
        by_date = {v.since: v for v in self.values}
        by_date.update({v.since: v for v in overlay.values})
        return ParameterDef(
            self.name, overlay.description or self.description, self.unit,
            overlay.reference if overlay.values else self.reference,
            tuple(sorted(by_date.values(), key=lambda v: v.since)), overlay.path, self.floor,
        )


def _check_value(name: str, unit: str, value: Any, path: Path | str, line: int | None) -> Any:
    if value is None:
        return None
    if unit in ("GBP", "number", "share"):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise RuleFileError(path, line, f"{name}: value must be a number, got {value!r}")
        try:
            amount = Decimal(str(value))
        except ArithmeticError:
            raise RuleFileError(path, line, f"{name}: value must be a number, got {value!r}") from None
        if amount < 0 or (unit == "share" and amount > 1):
            raise RuleFileError(path, line, f"{name}: value {value!r} is out of range for unit {unit}")
        return str(amount) if unit != "number" else value
    if unit in ("days", "weeks"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RuleFileError(path, line, f"{name}: value must be a whole number of {unit}, got {value!r}")
        return value
    if unit == "bool":
        if not isinstance(value, bool):
            raise RuleFileError(path, line, f"{name}: value must be true or false, got {value!r}")
        return value
    if unit == "rate_card":
        try:
            parse_rate_card(strip_lines(value))
        except ValueError as exc:
            raise RuleFileError(path, line, f"{name}: {exc}") from None
    return strip_lines(value)  # other tables are checked by the code that reads them


def parse_parameter_file(raw: Any, path: Path | str) -> list[ParameterDef]:
    if not isinstance(raw, dict):
        raise RuleFileError(path, 1, "a parameter file is a mapping of parameter names to definitions")
    params: list[ParameterDef] = []
    for name, spec in raw.items():
        if name == "__line__":
            continue
        line = line_of(spec, line_of(raw))
        if not isinstance(spec, dict):
            raise RuleFileError(path, line, f"{name}: definition must be a mapping")
        unknown = set(spec) - {"description", "unit", "reference", "values", "floor", "__line__"}
        if unknown:
            raise RuleFileError(path, line, f"{name}: unknown key(s) {sorted(unknown)}")
        for key in ("unit", "reference", "values"):
            if key not in spec:
                raise RuleFileError(path, line, f"{name}: missing '{key}'")
        unit = spec["unit"]
        floor = spec.get("floor", False)
        if not isinstance(floor, bool):
            raise RuleFileError(path, line, f"{name}: floor must be true or false, got {floor!r}")
        if unit not in UNITS:
            raise RuleFileError(path, line, f"{name}: unit must be one of {', '.join(UNITS)}, got {unit!r}")
        if not isinstance(spec["values"], dict) or len(spec["values"]) <= 1:
            raise RuleFileError(path, line, f"{name}: 'values' must map effective dates to values")
        dated: list[DatedValue] = []
        for key, entry in spec["values"].items():
            if key == "__line__":
                continue
            vline = line_of(entry, line)
            since = parse_date(key, path, vline, f"{name}: effective date")
            if isinstance(entry, dict) and "value" in entry:
                extra = set(entry) - {"value", "source", "grade", "note", "derivation", "__line__"}
                if extra:
                    raise RuleFileError(path, vline, f"{name} {since}: unknown key(s) {sorted(extra)}")
                value, source, grade = entry["value"], entry.get("source"), entry.get("grade")
                note, derivation = entry.get("note"), entry.get("derivation")
                _check_grade(name, since, value, source, grade, derivation, path, vline)
            else:
                value, source, grade, note, derivation = entry, None, None, None, None
            dated.append(DatedValue(since, _check_value(name, unit, value, path, vline), source, grade, note,
                                    derivation, vline))
        dated.sort(key=lambda v: v.since)
        params.append(ParameterDef(name, str(spec.get("description", "")), unit,
                                   str(spec["reference"]), tuple(dated), str(path), floor))
    return params


def _check_grade(name: str, since: date, value: Any, source: Any, grade: Any, derivation: Any,
                 path: Path | str, line: int | None) -> None:
    """A figure says how sure it is: NC figures are never encoded, D figures show their arithmetic."""
    where = f"{name} from {since}"
    if grade is None:
        if value is None:
            raise RuleFileError(path, line, f"{where}: a null value must have grade NC and a note saying why")
        return
    if grade not in GRADES:
        raise RuleFileError(path, line, f"{where}: grade must be one of {', '.join(GRADES)}, got {grade!r}")
    if grade == "NC" and value is not None:
        raise RuleFileError(path, line, f"{where}: a figure graded NC (not confirmed) is not encoded; its value must be null")
    if grade != "NC" and value is None:
        raise RuleFileError(path, line, f"{where}: a null value must have grade NC, not {grade}")
    if grade != "NC" and not (isinstance(source, str) and source.strip()):
        raise RuleFileError(path, line, f"{where}: a grade {grade} figure needs a source")
    if grade == "D" and not (isinstance(derivation, str) and derivation.strip()):
        raise RuleFileError(path, line, f"{where}: a derived (grade D) figure needs a derivation, e.g. '112.50 x 1.07 = 120.375, to the nearest 5p'")
    if grade != "D" and derivation is not None:
        raise RuleFileError(path, line, f"{where}: only a derived (grade D) figure has a derivation")


@dataclass(frozen=True)
class ResolvedParameter:
    """A parameter's value on one date, as stored in a bundle."""

    value: Any
    since: str
    unit: str
    reference: str
    source: str | None = None
    grade: str | None = None
    note: str | None = None
    derivation: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None or k == "value"}


def resolve(defn: ParameterDef, on: date) -> ResolvedParameter | None:
    entry = defn.at(on)
    if entry is None:
        return None
    return ResolvedParameter(entry.value, entry.since.isoformat(), defn.unit, defn.reference,
                             entry.source, entry.grade, entry.note, entry.derivation)
