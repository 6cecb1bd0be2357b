"""SI 2014/2672 reg 3: intermediate care and reablement are free for up to six weeks.

The cost falls on the council and is excluded from the personal budget (SI 2014/2840), but the
person is told what it cost, for transparency (issue 15). Pure: the episode in, its costing out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from carebudget.rulebook.bundle import Bundle


class Episode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weeks: int = Field(ge=1, le=52)
    weekly_cost: Decimal = Field(gt=0, max_digits=9, decimal_places=2)


def cost_episode(bundle: Bundle, episode: Episode) -> dict[str, Any]:
    """The episode's cost to the council; weeks beyond the free period are shown as chargeable."""
    free_weeks = int(bundle.param("reablement.free_weeks"))
    free = min(episode.weeks, free_weeks)
    cost = episode.weekly_cost * episode.weeks
    reasons = [f"{free} week(s) free of charge (SI 2014/2672 reg 3: up to {free_weeks} weeks)"]
    if episode.weeks > free_weeks:
        reasons.append(f"{episode.weeks - free_weeks} week(s) beyond the free period may be charged for "
                       "after a financial assessment (s14, s17)")
    return {"free_weeks": free, "chargeable_weeks": episode.weeks - free, "cost": f"{cost:.2f}",
            "reasons": reasons}
