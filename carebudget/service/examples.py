"""Generated cases for the demo, the tests and the bench: realistic inputs for every step.

Each case follows SI 2015/313 reg 2 (needs), SI 2014/2672 (finances) and s25 (a plan of items
meeting named needs). `CaseScript` says which path a case takes after sign-off.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

OUTCOMES = (
    "nutrition", "personal_hygiene", "toilet_needs", "being_clothed", "home_safety",
    "habitable_home", "relationships", "community_facilities",
)
# What each need is assessed as requiring, from the demo council's rate card (units a week, as a
# range), and the cheaper alternative the card declares, as (provision, its units per assessed unit).
SUPPORT = {
    "nutrition": ("home_care_hour", (3, 6), ("personal_assistant_hour", Decimal(1))),
    "personal_hygiene": ("home_care_hour", (3, 7), ("personal_assistant_hour", Decimal(1))),
    "toilet_needs": ("home_care_hour", (2, 5), ("personal_assistant_hour", Decimal(1))),
    "being_clothed": ("home_care_hour", (1, 3), ("personal_assistant_hour", Decimal(1))),
    "home_safety": ("telecare_week", (1, 1), None),
    "habitable_home": ("home_care_hour", (1, 3), ("domestic_support_hour", Decimal(1))),
    "relationships": ("day_opportunity_session", (1, 2), ("community_activity_session", Decimal(2))),
    "community_facilities": ("day_opportunity_session", (1, 2), ("community_activity_session", Decimal(2))),
}
REASONS = {
    "personal_assistant_hour": "A personal assistant employed with a direct payment gives the same hours of help.",
    "domestic_support_hour": "Domestic help gives the same hours of cleaning and laundry at the local rate.",
    "community_activity_session": "Two supported community sessions meet the need a day session met.",
    "telecare_week": "The telecare alarm is kept as assessed.",
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
    card = _rate_card(council)
    units = {o: rng.randint(*SUPPORT[o][1]) for o in current + predicted}
    total = sum((units[o] * card[SUPPORT[o][0]] for o in units), Decimal(0))
    born = date(rng.randint(1935, 1990), rng.randint(1, 12), rng.randint(1, 28))
    person_user = f"person-{seed}-{n}"
    start = {
        "council": council,
        "person": {
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "date_of_birth": born.isoformat(),
            "setting": "home",
            "has_capacity": True,
            "asks_council_to_arrange": True,
        },
        "person_user": person_user,
        "opened_by": "sw-amy",
    }
    verification: dict[str, Any] = {
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
                {"outcomes": [o], "provision": SUPPORT[o][0], "units": str(u), "unit_cost": f"{card[SUPPORT[o][0]]:.2f}"}
                for o, u in units.items()
            ],
        },
        "unmet_needs": [_day_centre(card)] if n % 3 == 0 else [],
    }
    verification["support"] = [
        {"outcome": o, "when": "current" if o in current else "predicted",
         "support": [{"provision": SUPPORT[o][0], "units": str(u)}]}
        for o, u in units.items()
    ]
    lines = [_cheaper(o, u, card) for o, u in units.items()]
    counter = {
        "proposal": {
            "weekly_amount": f"{sum((Decimal(j['units']) * Decimal(j['unit_cost']) for j in lines), Decimal(0)):.2f}",
            "justifications": lines,
        },
        "note": "A personal assistant, domestic help and community sessions meet each need at the council's rates",
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


def _day_centre(card: dict[str, Decimal]) -> dict[str, Any]:
    """An unmet need (s25): a day centre nearer home, from the rate card where it lists one."""
    if "day_opportunity_session" in card:
        return {"outcome": "community_facilities", "provision": "day_opportunity_session", "units": "2",
                "words": "A day centre nearer home"}
    return {"outcome": "community_facilities", "provision": "other", "words": "A day centre nearer home"}


def _rate_card(council: str) -> dict[str, Decimal]:
    """The council's local rates in force today (rules/councils/<code>/parameters/rates.yaml)."""
    from carebudget.rulebook.registry import get_registry

    card = get_registry().bundle(council, date.today()).param("rates.card")
    return {p["id"]: Decimal(str(p["rate"])) for p in card}


def _cheaper(outcome: str, units: int, card: dict[str, Decimal]) -> dict[str, Any]:
    """A justification meeting the need through the cheaper alternative the card declares."""
    provision, _, alternative = SUPPORT[outcome]
    given, per = (provision, Decimal(1)) if alternative is None else alternative
    return {"outcome": outcome, "provision": given, "units": str(units * per),
            "unit_cost": f"{card[given]:.2f}", "reason": REASONS[given]}


SOCIAL_WORKER = ("sw-amy", "social_worker")
APPROVER = ("ap-bo", "approver")
APPEALS_OFFICER = ("ao-cy", "appeals_officer")
STAFF = (SOCIAL_WORKER, APPROVER, APPEALS_OFFICER)
# The example people cannot sign in: no password hashes to this (pwdlib refuses it as unknown).
NO_SIGN_IN = "!example-user-no-password"


def ensure_users(store: Any, scripts: Iterable[CaseScript] = (), persons: Iterable[str] = (),
                 council: str = "demo") -> int:
    """Make the example staff and the people of `scripts` (and `persons`) users of `council` in
    the store, so that each step is taken by someone who exists (issue 11: a step whose actor is
    not a user is refused). Returns how many were created."""
    wanted = [*STAFF, *((s.start["person_user"], "person") for s in scripts),
              *((p, "person") for p in persons)]
    created = 0
    for username, role in dict(wanted).items():
        if store.get_user(username) is None:
            store.create_user(username, f"Example {role.replace('_', ' ')} {username}", role,
                              NO_SIGN_IN, actor="carebudget-examples", council=council)
            created += 1
    return created


async def drive(client: Any, script: CaseScript, task_queue: str | None = None) -> dict[str, Any]:
    """Take a generated case from intake to its active budget (or to where time must pass), as
    the web's forms do (each step's small result); returns the case's state at the end."""
    from carebudget.service import cases

    case_id = await cases.start_case(client, script.start, task_queue=task_queue)
    person = (script.start["person_user"], "person")

    async def step(name: str, who: tuple[str, str], payload: dict[str, Any]) -> dict[str, Any]:
        return await cases.take_step(client, case_id, name, who[0], who[1], payload)

    await _wait_for_stage(client, case_id, "assessment")
    await step("self_assess", person, script.self_assessment)
    stands = await step("verify_assessment", SOCIAL_WORKER, script.verification)
    if stands["stage"] != "closed":
        await step("submit_plan", SOCIAL_WORKER, script.plan)
        if script.path == "changes_then_approve":
            await step("request_changes", APPROVER, {"reasons": "Say who provides the meals"})
            await step("submit_plan", SOCIAL_WORKER, script.plan)
        if script.path in ("approve", "changes_then_approve"):
            await step("approve", APPROVER, {"note": "Meets the assessed needs"})
        else:
            await step("counter_propose", APPROVER, script.counter)
            if script.path == "counter_accept":
                await step("accept_counter_proposal", person, {"note": "Agreed"})
            elif script.path == "counter_appeal":
                await step("appeal", person, {"reasons": "The framework provider cannot visit mornings"})
                await step("decide_appeal", APPEALS_OFFICER, script.appeal_decision())
            # counter_stands: the appeal window has to pass
    return await cases.describe(client, case_id)


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
