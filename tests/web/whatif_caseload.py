"""A caseload of cases with a budget decision on record, for the what-if a policy change runs."""

from __future__ import annotations

from datetime import date
from typing import Any

from bench.cases import generate_cases
from carebudget.decisions import decide_with_bundle
from carebudget.rulebook import get_registry


def seed_budget_cases(app: Any, count: int, on: date) -> list[dict[str, Any]]:
    """`count` open demo cases, each with an indicative-budget decision recorded as a case step
    (one store transaction each); returns their inputs by case id, in order."""
    store = app.state.store
    bundle = get_registry(app.state.settings.rules_dir).bundle("demo", on)
    seeded = []
    for number, case in enumerate(generate_cases(count, seed=12, on=on)):
        case_id = f"WHATIF-{number:05d}"
        facts = {k: case["input"][k] for k in ("person", "needs")}
        record = decide_with_bundle("indicative-budget", bundle, on, facts)
        store.record_step(
            f"{case_id}:verified", case_id, "demo-social-worker", "social_worker", "assessment.verified",
            {"notes": ""},
            index={"council": "demo", "stage": "support_planning", "opened": on, "due": on},
            decisions={"indicative-budget": record},
        )
        seeded.append({"id": case_id, "input": facts})
    return seeded
