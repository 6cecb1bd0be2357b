"""Generated cases for benchmarks and what-if runs (seeded, so every run sees the same caseload)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from carebudget.rulebook.vocabulary import OUTCOMES, WAYS


def _needs(rng: random.Random, most: int) -> dict[str, Any]:
    chosen = rng.sample(OUTCOMES, rng.randint(0, most))
    return {
        "arise_from_impairment_or_illness": rng.random() < 0.9,
        "wellbeing_impact": "significant" if rng.random() < 0.8 else "not_significant",
        "outcomes": {o: rng.sample(WAYS, rng.randint(1, 3)) for o in chosen},
    }


def generate_cases(n: int, seed: int = 2014, on: date = date(2025, 6, 1)) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        born = on - timedelta(days=rng.randint(19 * 365, 95 * 365))
        care_home = rng.random() < 0.2
        person: dict[str, Any] = {"date_of_birth": born.isoformat(), "setting": "care_home" if care_home else "home"}
        if care_home:
            person["care_home_admission_date"] = (on - timedelta(days=rng.randint(0, 400))).isoformat()
        case = {
            "person": person,
            "needs": _needs(rng, 6),
            "predicted_needs": _needs(rng, 8),
            "finances": {
                "capital": f"{rng.choice([0, 5000, 14250, 18450, 23250, 40000]) + rng.randint(0, 2000)}.{rng.randint(0, 99):02d}",
                "weekly_income": f"{rng.randint(80, 600)}.{rng.randint(0, 99):02d}",
                "housing_costs": str(rng.randint(0, 60)),
                "main_home_value": str(rng.choice([0, 0, 180000])),
            },
            "care": {"weekly_cost": str(rng.randint(50, 1200))},
        }
        cases.append({"id": f"C{i:06d}", "date": on.isoformat(), "input": case})
    return cases
