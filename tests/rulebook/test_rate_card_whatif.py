"""A rate-card change reaches existing budgets: what-if lists those no longer sufficient."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

from carebudget.policy.whatif import candidate_library, run_rate_card_whatif
from carebudget.rulebook.library import load_library
from carebudget.service.examples import make_case
from carebudget.settings import REPO_ROOT

ON = date(2025, 6, 1)


def demo_caseload(n: int) -> list[dict]:
    """The budgets `carebudget demo` makes: plans approved in full, and accepted counter-proposals."""
    budgets = []
    for i in range(n):
        script = make_case(i)
        if script.path == "not_eligible":
            continue
        counter = script.path.startswith("counter")
        amount = script.counter["proposal"]["weekly_amount"] if counter else script.plan["plan"]["weekly_total"]
        budgets.append({"id": f"case-{i}", "weekly_amount": amount, "needs": script.verification["support"],
                        "counter": counter})
    return budgets


def test_raising_a_local_rate_lists_the_budgets_that_fall_below_sufficiency(tmp_path: Path) -> None:
    candidate = tmp_path / "demo"
    shutil.copytree(REPO_ROOT / "rules/councils/demo", candidate)
    rates = candidate / "parameters/rates.yaml"
    # A new dated card: personal assistants cost more from 1 June 2025.
    text = rates.read_text()
    card = text[text.index("      source:"):]
    rates.write_text(text + "    2025-06-01:\n" + card.replace("rate: 16.80", "rate: 19.50"))
    library = load_library(REPO_ROOT / "rules")
    proposed = candidate_library(library, "demo", candidate)
    budgets = demo_caseload(40)
    results = run_rate_card_whatif(library, proposed, "demo", budgets, ON)
    below = {r.case_id for r in results if r.below_sufficiency}
    assert not [r for r in results if r.error]
    # Counter-proposals set at personal-assistant rates are no longer sufficient; full plans are.
    assert below and below <= {b["id"] for b in budgets if b["counter"]}
    for r in results:
        assert r.floor_after is not None and r.floor_before is not None
        assert r.floor_after >= r.floor_before
        assert r.below_sufficiency == (r.weekly_amount < r.floor_after)
    assert all(Decimal(b["weekly_amount"]) >= r.floor_before for b, r in zip(budgets, results, strict=True))
