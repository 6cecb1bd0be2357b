"""Council rule tests: YAML files a policy officer writes next to the rules.

Each test is a sentence as its name, a decision kind and date, the input, and the expected parts
of the decision record as dotted paths (`eligibility.eligible: true`), or `expected_error` naming
the field or parameter the decision must refuse on. `explanation_includes` lists words each of
which some line of the written explanation must contain (a clause, a figure's name, a reason).
On a list, a number picks one item and a field name gives that field of every item
(`counter_proposal.failures.code: [..]`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from carebudget.rulebook.bundle import NATIONAL
from carebudget.rulebook.library import Library
from carebudget.rulebook.rules import parse_date
from carebudget.rulebook.yamlsource import LINE_KEY, RuleFileError, line_of, load_yaml, strip_lines

TEST_KEYS = {"name", "kind", "date", "input", "expected", "expected_error", "explanation_includes", LINE_KEY}


@dataclass(frozen=True)
class RuleTest:
    name: str
    council: str
    kind: str
    on: date
    input: dict[str, Any]
    expected: dict[str, Any]
    expected_error: str | None
    path: str
    line: int | None
    explanation_includes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleTestResult:
    test: RuleTest
    passed: bool
    problems: list[str]


def load_tests(path: Path, council: str) -> list[RuleTest]:
    raw = load_yaml(path)
    if not isinstance(raw, list):
        raise RuleFileError(path, 1, "a rule-test file is a list of tests")
    tests = []
    for item in raw:
        line = line_of(item)
        if not isinstance(item, dict):
            raise RuleFileError(path, line, "each test is a mapping with name, kind, date, input, expected")
        unknown = sorted(set(item) - TEST_KEYS)
        if unknown:
            raise RuleFileError(path, line, f"test has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(TEST_KEYS - {LINE_KEY}))}")
        missing = [k for k in ("name", "kind", "date", "input") if k not in item]
        if missing:
            raise RuleFileError(path, line, f"test is missing {', '.join(missing)}")
        if "expected" not in item and "expected_error" not in item:
            raise RuleFileError(path, line, f"test {item['name']!r} needs expected or expected_error")
        includes = item.get("explanation_includes", [])
        if not isinstance(includes, list) or not all(isinstance(x, str) and x.strip() for x in includes):
            raise RuleFileError(path, line, f"test {item['name']!r}: explanation_includes must be a list of non-empty texts")
        tests.append(RuleTest(
            name=str(item["name"]), council=council, kind=str(item["kind"]),
            on=parse_date(item["date"], path, line, "date"), input=strip_lines(item["input"]),
            expected=strip_lines(item.get("expected") or {}), expected_error=item.get("expected_error"),
            path=str(path), line=line, explanation_includes=tuple(includes),
        ))
    return tests


def discover(library: Library, council: str | None = None) -> list[RuleTest]:
    codes = [council] if council else library.codes()
    tests: list[RuleTest] = []
    for code in codes:
        layer = library.layers(code)[-1]
        if layer.tests_dir is None:
            continue
        for path in sorted(layer.tests_dir.glob("*.yaml")):
            tests.extend(load_tests(path, code))
    return tests


def lookup(record: dict[str, Any], dotted: str) -> Any:
    """A dotted path into the record; on a list, a number picks one item and a name picks that
    field of every item (`counter_proposal.failures.code` is the list of failure codes)."""
    value: Any = record
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, list) and all(isinstance(v, dict) and part in v for v in value):
            value = [v[part] for v in value]
        else:
            raise KeyError(dotted)
    return value


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and isinstance(actual, str):
        try:
            return float(actual) == float(expected)
        except ValueError:
            return False
    return actual == expected


def run_test(library: Library, test: RuleTest) -> RuleTestResult:
    from carebudget.decisions.contract import DecisionError, decide_with_bundle

    try:
        bundle = library.bundle(test.council if test.council != NATIONAL else NATIONAL, test.on)
        record = decide_with_bundle(test.kind, bundle, test.on, test.input)
    except DecisionError as exc:
        if test.expected_error and test.expected_error in (exc.field, exc.error):
            return RuleTestResult(test, True, [])
        return RuleTestResult(test, False, [f"decision refused: {exc.message}"])
    if test.expected_error:
        return RuleTestResult(test, False, [f"expected a refusal on {test.expected_error!r}, but a decision was made"])
    problems = []
    for path, expected in test.expected.items():
        try:
            actual = lookup(record, path)
        except KeyError:
            problems.append(f"{path}: not in the decision record")
            continue
        if not _same(actual, expected):
            problems.append(f"{path}: expected {expected!r}, got {actual!r}")
    for words in test.explanation_includes:
        if not any(words in line for line in record["explanation"]):
            problems.append(f"explanation: no line says {words!r}")
    return RuleTestResult(test, not problems, problems)
