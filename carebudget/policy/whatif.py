"""What-if: decide every case under the bundle in force and under a candidate overlay, and compare.

Bulk work runs the rules directly (never through workflows). The compared amount is the
indicative weekly budget's mid-point; the charge is compared too where the case has finances.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from carebudget.rulebook.library import Library, load_layer

ZERO = Decimal(0)


@dataclass
class CaseChange:
    case_id: str
    before: Decimal | None
    after: Decimal | None
    error: str | None = None

    @property
    def delta(self) -> Decimal:
        return (self.after or ZERO) - (self.before or ZERO)


@dataclass
class WhatIfReport:
    council: str
    changes: list[CaseChange] = field(default_factory=list)

    @property
    def gainers(self) -> list[CaseChange]:
        return [c for c in self.changes if c.error is None and c.delta > 0]

    @property
    def losers(self) -> list[CaseChange]:
        return [c for c in self.changes if c.error is None and c.delta < 0]

    @property
    def errors(self) -> list[CaseChange]:
        return [c for c in self.changes if c.error is not None]

    @property
    def total_change(self) -> Decimal:
        return sum((c.delta for c in self.changes if c.error is None), ZERO)

    def summary(self) -> dict[str, Any]:
        return {
            "council": self.council,
            "cases": len(self.changes),
            "gain": len(self.gainers),
            "lose": len(self.losers),
            "unchanged": len(self.changes) - len(self.gainers) - len(self.losers) - len(self.errors),
            "errors": len(self.errors),
            "total_weekly_change": f"{self.total_change:.2f}",
        }


def candidate_library(current: Library, council: str, candidate_dir: Path) -> Library:
    """The current library with one council's overlay replaced by the candidate folder (checked)."""
    current.layers(council)  # unknown council -> error
    layer = load_layer(council, Path(candidate_dir))
    library = Library(current.national, {**current.councils, council: layer})
    library.check()
    return library


def load_cases(path: Path) -> list[dict[str, Any]]:
    """Cases as a JSON list or JSON lines: {id, date, input} (date defaults to today)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        cases = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        cases = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    cases.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
    for index, case in enumerate(cases):
        if not isinstance(case, dict) or "input" not in case:
            raise ValueError(f"{path}: case {index + 1} needs an 'input' (and optionally 'id' and 'date')")
    return cases


def _amount(budget: dict[str, Any]) -> Decimal:
    return (Decimal(budget["weekly_low"]) + Decimal(budget["weekly_high"])) / 2


def run_whatif(
    current: Library, candidate: Library, council: str, cases: Iterable[dict[str, Any]],
    on_default: date, progress: Callable[[int], None] | None = None, workers: int | None = None,
    pool_from: int | None = None,
) -> WhatIfReport:
    """Every case decided under both libraries. A caseload of `pool_from` cases or more (by
    default POOL_FROM_CASES) is decided in a pool of worker processes
    (carebudget.policy.whatif_pool), never in the calling web or worker process;
    `progress(n)` is told as each batch of n cases is done."""
    from carebudget.policy.whatif_pool import POOL_FROM_CASES, decide_in_pool, pool_size

    items = list(cases)
    report = WhatIfReport(council)
    size = pool_size(len(items), pool_from or POOL_FROM_CASES) if workers is None else workers
    if size > 1:
        report.changes = decide_in_pool(current, candidate, council, items, on_default, size, progress)
    else:
        report.changes = decide_cases(current, candidate, council, items, on_default, 0, progress)
    return report


def decide_cases(
    current: Library, candidate: Library, council: str, cases: list[dict[str, Any]], on_default: date,
    first_index: int = 0, progress: Callable[[int], None] | None = None,
    bundles: dict[tuple[int, date], Any] | None = None,
) -> list[CaseChange]:
    """The same indicative-budget decision as `decide`, with each case's facts read once and
    evaluated under both bundles (`first_index`: the position of cases[0] in the whole caseload,
    which names a case that has no id; `bundles`: the bundles already made for these two
    libraries and this council, by (0 for current or 1 for candidate, date), kept by the caller)."""
    from carebudget.decisions.contract import DecisionError, check_adult, parse_input
    from carebudget.decisions.evaluate import Evaluation, run_stage
    from carebudget.decisions.facts import assess_facts
    from carebudget.decisions.indicative_budget import indicative_budget
    from carebudget.rulebook.parameters import MissingParameter

    changes = []
    made = {} if bundles is None else bundles

    for index, case in enumerate(cases, first_index):
        case_id = str(case.get("id", index + 1))
        on = date.fromisoformat(case["date"]) if case.get("date") else on_default
        try:
            facts = parse_input("indicative-budget", case["input"])
            check_adult(facts, on, "indicative-budget")  # type: ignore[arg-type]
            flat = assess_facts(facts, on)  # type: ignore[arg-type]
            amounts = []
            for which, lib in enumerate((current, candidate)):
                chosen = made.get((which, on))
                if chosen is None:
                    chosen = made[(which, on)] = lib.bundle(council, on)
                amounts.append(_amount(indicative_budget(chosen, run_stage(chosen, "assess", flat, Evaluation()))))
            changes.append(CaseChange(case_id, amounts[0], amounts[1]))
        except DecisionError as exc:
            changes.append(CaseChange(case_id, None, None, exc.message))
        except MissingParameter as exc:
            changes.append(CaseChange(case_id, None, None, str(exc)))
        if progress and (index - first_index) % 100 == 99:
            progress(100)
    if progress and len(cases) % 100:
        progress(len(cases) % 100)
    return changes


@dataclass
class BudgetSufficiency:
    case_id: str
    weekly_amount: Decimal
    floor_before: Decimal | None
    floor_after: Decimal | None
    error: str | None = None

    @property
    def below_sufficiency(self) -> bool:
        """At the new rates the budget no longer pays for the assessed support (CSSG 11.24-11.25)."""
        return self.error is None and self.floor_after is not None and self.weekly_amount < self.floor_after


def run_rate_card_whatif(
    current: Library, candidate: Library, council: str, budgets: Iterable[dict[str, Any]], on: date,
) -> list[BudgetSufficiency]:
    """For each active budget ({id, weekly_amount, needs}), the lowest sufficient amount for its
    assessed support at today's rates and at the candidate's; those now below it need review."""
    from carebudget.decisions.contract import DecisionError, rate_card
    from carebudget.decisions.inputs import (
        AssessedNeed,
        CostedProposal,
        CounterProposalFacts,
        PricedPlan,
    )
    from carebudget.decisions.sufficiency import UnknownProvision, assess_sufficiency

    cards = {id(lib): rate_card(lib.bundle(council, on)) for lib in (current, candidate)}
    results = []
    for budget in budgets:
        amount = Decimal(str(budget["weekly_amount"]))
        try:
            needs = [AssessedNeed.model_validate(n) for n in budget["needs"]]
            facts = CounterProposalFacts(needs=needs, plan=PricedPlan(weekly_total=amount),
                                         proposal=CostedProposal(weekly_amount=amount))
            floors = [assess_sufficiency(facts, cards[id(lib)]).floor for lib in (current, candidate)]
            results.append(BudgetSufficiency(str(budget["id"]), amount, floors[0], floors[1]))
        except (ValueError, DecisionError, UnknownProvision) as exc:
            results.append(BudgetSufficiency(str(budget["id"]), amount, None, None, str(exc)))
    return results
