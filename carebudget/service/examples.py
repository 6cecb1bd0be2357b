"""Generated cases for the demo, the tests and the bench: realistic inputs for every step.

Each case follows SI 2015/313 reg 2 (needs), SI 2014/2672 (finances) and s25 (a plan of items
meeting named needs). `CaseScript` says which path a case takes after sign-off.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

OUTCOMES = (
    "nutrition", "personal_hygiene", "toilet_needs", "being_clothed", "home_safety",
    "habitable_home", "relationships", "community_facilities",
)
PROVISIONS = {
    "nutrition": "Meal preparation visits",
    "personal_hygiene": "Morning personal care",
    "toilet_needs": "Continence support",
    "being_clothed": "Help dressing",
    "home_safety": "Telecare and falls alarm",
    "habitable_home": "Cleaning and laundry",
    "relationships": "Support to visit family",
    "community_facilities": "Community access support",
    "work_training_education_volunteering": "Support at a day course",
    "caring_for_child": "Help with school runs",
}
FIRST = ("Ada", "Bill", "Cara", "Dev", "Ena", "Femi", "Gwen", "Hari", "Iris", "Joe")
LAST = ("Lovelace", "Okafor", "Patel", "Smith", "Jones", "Nowak", "Hughes", "Khan")

Path = Literal["approve", "changes_then_approve", "counter_accept", "counter_appeal", "counter_stands",
               "not_eligible"]


@dataclass(frozen=True)
class CaseScript:
    """One generated case: what to send at each step, and which path it takes."""

    start: dict[str, Any]
    self_assessment: dict[str, Any]
    verification: dict[str, Any]
    plan: dict[str, Any]
    counter: dict[str, Any]
    path: Path
    appeal_outcome: Literal["uphold", "part_uphold", "dismiss"] = "dismiss"

    @property
    def plan_total(self) -> Decimal:
        return Decimal(self.plan["plan"]["weekly_total"])

    def appeal_decision(self) -> dict[str, Any]:
        decision: dict[str, Any] = {
            "outcome": self.appeal_outcome,
            "reasons": f"Reviewed the plan and the counter-proposal: {self.appeal_outcome}",
        }
        if self.appeal_outcome == "part_uphold":
            low = Decimal(self.counter["proposal"]["weekly_amount"])
            decision["weekly_amount"] = f"{(low + self.plan_total) / 2:.2f}"
        return decision


def _needs(outcomes: list[str]) -> dict[str, Any]:
    return {
        "arise_from_impairment_or_illness": True,
        "wellbeing_impact": "significant",
        "outcomes": {o: ["needs_assistance"] for o in outcomes},
    }


def make_case(n: int, council: str = "demo", path: Path | None = None, seed: int = 0) -> CaseScript:
    """Case number `n`: deterministic for a given seed."""
    rng = random.Random(seed * 100_003 + n)
    paths: tuple[Path, ...] = ("approve", "approve", "changes_then_approve", "counter_accept",
                               "counter_appeal", "counter_stands", "not_eligible")
    chosen = path or paths[n % len(paths)]
    current = rng.sample(OUTCOMES, rng.randint(2, 4)) if chosen != "not_eligible" else ["nutrition"]
    predicted = [o for o in rng.sample(OUTCOMES, 1) if o not in current]
    costs = {o: Decimal(rng.randrange(40, 120)) for o in current + predicted}
    total = sum(costs.values(), Decimal(0))
    born = date(rng.randint(1935, 1990), rng.randint(1, 12), rng.randint(1, 28))
    person_user = f"person-{seed}-{n}"
    start = {
        "council": council,
        "person": {
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "date_of_birth": born.isoformat(),
            "setting": "home",
        },
        "person_user": person_user,
        "opened_by": "sw-amy",
    }
    verification = {
        "needs": _needs(current),
        "predicted_needs": _needs(predicted) if predicted else None,
        "finances": {
            "capital": str(rng.choice([2000, 9000, 16000, 21000])),
            "weekly_income": str(rng.randrange(180, 420)),
        },
        "care": {"weekly_cost": f"{total:.2f}"},
        "notes": "Seen at home with their daughter",
    }
    plan = {
        "plan": {
            "weekly_total": f"{total:.2f}",
            "items": [
                {"need": o, "provision": PROVISIONS[o], "weekly_cost": f"{c:.2f}"}
                for o, c in costs.items()
            ],
        },
        "unmet_needs": ["A day centre nearer home"] if n % 3 == 0 else [],
    }
    cheaper = {o: (c * Decimal("0.85")).quantize(Decimal("0.01")) for o, c in costs.items()}
    counter = {
        "proposal": {
            "weekly_amount": f"{sum(cheaper.values(), Decimal(0)):.2f}",
            "justifications": [
                {"need": o, "provision": f"{PROVISIONS[o]} (framework provider)",
                 "weekly_cost": f"{c:.2f}", "reason": "Same outcome from the council's framework"}
                for o, c in cheaper.items()
            ],
        },
        "note": "The framework provider meets each need at a lower rate",
    }
    return CaseScript(
        start=start,
        self_assessment={"needs": _needs(current),
                         "predicted_needs": _needs(predicted) if predicted else None},
        verification=verification,
        plan=plan,
        counter=counter,
        path=chosen,
        appeal_outcome=("uphold", "part_uphold", "dismiss")[n % 3],
    )


SOCIAL_WORKER = ("sw-amy", "social_worker")
APPROVER = ("ap-bo", "approver")
APPEALS_OFFICER = ("ao-cy", "appeals_officer")


async def drive(client: Any, script: CaseScript, task_queue: str | None = None) -> dict[str, Any]:
    """Take a generated case from intake to its active budget (or to where time must pass)."""
    from carebudget.service import cases

    case_id = await cases.start_case(client, script.start, task_queue=task_queue)
    person = (script.start["person_user"], "person")

    async def step(name: str, who: tuple[str, str], payload: dict[str, Any]) -> dict[str, Any]:
        return await cases.act(client, case_id, name, who[0], who[1], payload)

    state = await _wait_for_stage(client, case_id, "assessment")
    state = await step("self_assess", person, script.self_assessment)
    state = await step("verify_assessment", SOCIAL_WORKER, script.verification)
    if state["stage"] == "closed":
        return state
    state = await step("submit_plan", SOCIAL_WORKER, script.plan)
    if script.path == "changes_then_approve":
        await step("request_changes", APPROVER, {"reasons": "Say who provides the meals"})
        state = await step("submit_plan", SOCIAL_WORKER, script.plan)
    if script.path in ("approve", "changes_then_approve"):
        return await step("approve", APPROVER, {"note": "Meets the assessed needs"})
    state = await step("counter_propose", APPROVER, script.counter)
    if script.path == "counter_accept":
        return await step("accept_counter_proposal", person, {"note": "Agreed"})
    if script.path == "counter_appeal":
        await step("appeal", person, {"reasons": "The framework provider cannot visit mornings"})
        return await step("decide_appeal", APPEALS_OFFICER, script.appeal_decision())
    return state  # counter_stands: the appeal window has to pass


async def _wait_for_stage(client: Any, case_id: str, stage: str) -> dict[str, Any]:
    """Intake runs in the workflow (policy, first record); wait until it reaches `stage`."""
    import asyncio

    from carebudget.service import cases

    for _ in range(600):
        try:
            state = await cases.describe(client, case_id)
        except cases.CaseNotFound:
            state = {"stage": None}
        if state["stage"] == stage and state.get("pending_step") is None:
            return state
        await asyncio.sleep(0.05)
    raise TimeoutError(f"case {case_id} did not reach {stage}")
