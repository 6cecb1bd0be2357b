"""Legal amounts say how sure they are (grades P, P*, S, D, NC, council), and a council overlay may
be more generous than the national minimum amounts of SI 2014/2672 regs 6 and 7, never less."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from carebudget.rulebook.library import load_library
from carebudget.rulebook.parameters import GRADES
from carebudget.rulebook.yamlsource import RuleFileError
from carebudget.settings import REPO_ROOT

SECTION_8_FIGURES = {
    # (parameter, in force from): (value, grade) from section 8 of the legal reference.
    ("capital_limit_upper", "2024-04-06"): ("23250", "P"),
    ("capital_limit_upper", "2025-04-06"): ("23250", "P*"),
    ("capital_limit_upper", "2026-04-06"): ("23250", "D"),
    ("capital_limit_lower", "2026-04-06"): ("14250", "D"),
    ("personal_expenses_allowance", "2024-04-06"): ("30.15", "S"),
    ("personal_expenses_allowance", "2025-04-06"): ("30.65", "P*"),
    ("personal_expenses_allowance", "2026-04-06"): ("31.80", "D"),
    ("mig.single_18_to_24", "2024-04-06"): ("87.65", "D"),
    ("mig.single_18_to_24", "2025-04-06"): ("89.15", "S"),
    ("mig.single_18_to_24", "2026-04-06"): ("95.40", "S"),
    ("mig.single_25_to_pension_credit_age", "2024-04-06"): ("110.60", "D"),
    ("mig.single_25_to_pension_credit_age", "2025-04-06"): ("112.50", "S"),
    ("mig.single_25_to_pension_credit_age", "2026-04-06"): ("120.40", "D"),
    ("mig.single_pension_credit_age", "2024-04-06"): ("228.70", "D"),
    ("mig.single_pension_credit_age", "2025-04-06"): ("232.60", "S"),
    ("mig.single_pension_credit_age", "2026-04-06"): ("241.45", "S"),
    ("mig.disability_premium", "2024-04-06"): ("48.80", "D"),
    ("mig.disability_premium", "2025-04-06"): ("49.65", "S"),
    ("mig.disability_premium", "2026-04-06"): ("51.55", "D"),
    ("mig.enhanced_disability_premium", "2024-04-06"): ("23.85", "D"),
    ("mig.enhanced_disability_premium", "2025-04-06"): ("24.25", "S"),
    ("mig.enhanced_disability_premium", "2026-04-06"): ("25.15", "D"),
}

NATIONAL = load_library(REPO_ROOT / "rules").national.parameters


@pytest.mark.parametrize(("key", "expected"), sorted(SECTION_8_FIGURES.items()), ids=lambda v: str(v))
def test_every_section_8_figure_is_encoded_with_its_grade(key: tuple[str, str], expected: tuple[str, str]) -> None:
    name, since = key
    entry = next(v for v in NATIONAL[name].values if v.since.isoformat() == since)
    assert (Decimal(entry.value), entry.grade) == (Decimal(expected[0]), expected[1])
    assert entry.source
    assert (entry.derivation is not None) == (entry.grade == "D")


def test_the_2022_uprating_is_in_force_from_6_april_2022_and_the_premiums_then_are_not_confirmed() -> None:
    for name in ("personal_expenses_allowance", "mig.single_18_to_24", "mig.single_25_to_pension_credit_age"):
        dates = [v.since.isoformat() for v in NATIONAL[name].values]
        assert "2022-04-06" in dates and not any(d.startswith("2022-04-0") and d != "2022-04-06" for d in dates)
    for name in ("mig.disability_premium", "mig.enhanced_disability_premium"):
        entry = NATIONAL[name].at(date(2023, 6, 1))
        assert entry is not None and entry.value is None and entry.grade == "NC"


def test_every_graded_figure_uses_a_known_grade() -> None:
    for param in NATIONAL.values():
        for value in param.values:
            assert value.grade is None or value.grade in GRADES


def _copy_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules", rules)
    return rules


def _add_overlay(rules: Path, text: str) -> Path:
    path = rules / "councils" / "demo" / "parameters" / "lower.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_council_allowance_below_the_national_figure_is_refused_naming_file_line_figure_and_clause(tmp_path: Path) -> None:
    rules = _copy_rules(tmp_path)
    (rules / "councils" / "demo" / "parameters" / "charging.yaml").write_text(
        "personal_expenses_allowance:\n"
        "  description: A council allowance\n"
        "  unit: GBP\n"
        "  reference: Demo BC Charging Policy\n"
        "  values:\n"
        "    2026-04-06: {value: 31.75, source: council decision, grade: council}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleFileError) as refused:
        load_library(rules)
    message = str(refused.value)
    assert refused.value.path.endswith("councils/demo/parameters/charging.yaml")
    assert refused.value.line == 6
    assert "£31.75" in message and "£31.80" in message
    assert "SI 2014/2672 reg 6" in message
    assert "never less" in message


@pytest.mark.parametrize(
    ("name", "since", "value", "national"),
    [("mig.single_18_to_24", "2025-06-01", "89.10", "£89.15"),
     ("mig.single_pension_credit_age", "2026-04-06", "241.40", "£241.45"),
     ("mig.disability_premium", "2024-04-06", "48.75", "£48.80"),
     ("mig.enhanced_disability_premium", "2025-04-06", "0", "£24.25")],
)
def test_a_council_guarantee_or_premium_below_the_national_figure_is_refused(
    tmp_path: Path, name: str, since: str, value: str, national: str
) -> None:
    rules = _copy_rules(tmp_path)
    _add_overlay(rules, (
        f"{name}:\n  description: x\n  unit: GBP\n  reference: Demo BC policy\n  values:\n"
        f"    {since}: {{value: {value}, source: council decision, grade: council}}\n"))
    with pytest.raises(RuleFileError) as refused:
        load_library(rules)
    assert national in str(refused.value) and "SI 2014/2672 reg 7" in str(refused.value)


def test_a_council_may_be_more_generous_than_the_national_minimum(tmp_path: Path) -> None:
    rules = _copy_rules(tmp_path)
    _add_overlay(rules, (
        "mig.single_18_to_24:\n  description: x\n  unit: GBP\n  reference: Demo BC policy\n  values:\n"
        "    2026-04-06: {value: 100.00, source: council decision, grade: council}\n"))
    library = load_library(rules)
    assert Decimal(library.bundle("demo", date(2026, 6, 1)).param("mig.single_18_to_24")) == Decimal(100)


@pytest.mark.parametrize(
    ("entry", "words"),
    [("{value: 31.80, source: x, grade: D}", "needs a derivation"),
     ("{value: 31.80, source: x, grade: NC}", "is not encoded"),
     ("{value: null, note: unknown}", "grade NC"),
     ("{value: null, source: x, grade: S}", "must have grade NC"),
     ("{value: 31.80, grade: S}", "needs a source"),
     ("{value: 31.80, source: x, grade: Q}", "grade must be one of"),
     ("{value: 31.80, source: x, grade: S, derivation: 1 x 2}", "only a derived")],
)
def test_a_figure_whose_grade_does_not_fit_it_is_refused(tmp_path: Path, entry: str, words: str) -> None:
    rules = _copy_rules(tmp_path)
    _add_overlay(rules, (
        "policy.some_amount:\n  description: x\n  unit: GBP\n  reference: Demo BC policy\n  values:\n"
        f"    2015-04-01: {entry}\n"))
    with pytest.raises(RuleFileError) as refused:
        load_library(rules)
    assert words in str(refused.value)
    assert refused.value.line == 6
