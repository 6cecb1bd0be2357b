"""A council's process policy on a date: time limits, review intervals, prevention and underspend.

Care Act 2014 s27 and CSSG 13.32 (reviews), CSSG 11.24 (sufficiency), s72 appeals are not in force,
so the appeal window is local policy. These are parameters under `policy.*`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from carebudget.rulebook.registry import Registry, get_registry


class CouncilPolicy(BaseModel):
    council: str
    bundle: str
    predicted_needs_establish_eligibility: bool
    assessment_due_days: int
    support_plan_due_days: int
    sign_off_due_days: int
    appeal_window_days: int
    light_touch_review_min_days: int
    light_touch_review_max_days: int
    full_review_interval_days: int
    underspend_bank_share: Decimal


def council_policy(council: str, on: date, registry: Registry | None = None) -> CouncilPolicy:
    bundle = (registry or get_registry()).bundle(council, on)
    fields = [f for f in CouncilPolicy.model_fields if f not in ("council", "bundle")]
    values = {name: bundle.param(f"policy.{name}") for name in fields}
    return CouncilPolicy(council=council, bundle=bundle.hash, **values)
