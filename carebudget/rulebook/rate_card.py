"""CSSG 11.24-11.25 and R (KM) v Cambridgeshire: the council's published local rates, as a parameter.

A rate card is a council parameter (unit `rate_card`) whose value, for each effective date, is a
list of provision types: an `id`, a plain `label`, a `unit`, a weekly-comparable local `rate`,
the reg 2(2) outcomes it can meet, and the provisions it may stand in for (`substitutes`), for
named outcomes, at a stated ratio. National rules have none: the cost of care is local.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from carebudget.law import Outcome

RATE_CARD = "rates.card"
OTHER = "other"  # support priced by the social worker, not on the card (flagged in every record)
Unit = Literal["hour", "session", "night", "week", "item"]
Positive = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=4)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Substitute(_Strict):
    """One unit of this provision stands in for `units_per_unit` units of `for_`, for `outcomes`;
    at most `max_units` of it a week count (one grocery delivery a week, not seven)."""

    for_: str = Field(alias="for", min_length=1)
    outcomes: list[Outcome] = Field(min_length=1)
    units_per_unit: Positive
    max_units: Positive | None = None


class Provision(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    unit: Unit
    rate: Positive
    meets: list[Outcome] = Field(min_length=1)
    substitutes: list[Substitute] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _not_other(cls, v: str) -> str:
        if v == OTHER:
            raise ValueError(f"{OTHER!r} is kept for support the card does not list")
        return v


class RateCard(_Strict):
    provisions: list[Provision] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> RateCard:
        ids = [p.id for p in self.provisions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"provision id(s) listed twice: {', '.join(dupes)}")
        by_id = {p.id: p for p in self.provisions}
        for p in self.provisions:
            for sub in p.substitutes:
                target = by_id.get(sub.for_)
                if target is None:
                    raise ValueError(f"{p.id}: substitutes for unknown provision {sub.for_!r}")
                if target.id == p.id:
                    raise ValueError(f"{p.id}: a provision cannot substitute for itself")
                cannot = [o.value for o in sub.outcomes if o not in target.meets]
                if cannot:
                    raise ValueError(f"{p.id}: stands in for {sub.for_} for {', '.join(cannot)}, which {sub.for_} does not meet")
        cycle = _cycle(self.provisions)
        if cycle:
            raise ValueError(f"substitutions go round in a circle: {' -> '.join(cycle)}")
        return self

    def get(self, provision_id: str) -> Provision | None:
        return next((p for p in self.provisions if p.id == provision_id), None)

    def substitution(self, provision_id: str, stands_for: str, outcome: str) -> Substitute | None:
        """How `provision_id` stands in for `stands_for` for `outcome`, if the card declares it."""
        provision = self.get(provision_id)
        for sub in provision.substitutes if provision else ():
            if sub.for_ == stands_for and outcome in {o.value for o in sub.outcomes}:
                return sub
        return None

    def substitutes_for(self, stands_for: str, outcome: str) -> list[tuple[Provision, Substitute]]:
        found = []
        for p in self.provisions:
            sub = self.substitution(p.id, stands_for, outcome)
            if sub is not None:
                found.append((p, sub))
        return found


def _cycle(provisions: list[Provision]) -> list[str]:
    edges = {p.id: [s.for_ for s in p.substitutes] for p in provisions}
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return [*path, node, nxt][[*path, node].index(nxt):] if nxt in [*path, node] else [node, nxt]
            if state.get(nxt) is None:
                found = visit(nxt, [*path, node])
                if found:
                    return found
        state[node] = 2
        return []

    for p in provisions:
        if state.get(p.id) is None:
            found = visit(p.id, [])
            if found:
                return found
    return []


def parse_rate_card(value: Any) -> RateCard:
    """A stored card (a list of provisions) as a RateCard; ValueError naming what is wrong."""
    try:
        return RateCard.model_validate({"provisions": value})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "provisions")
        provisions = value if isinstance(value, list) else []
        index = first["loc"][1] if len(first["loc"]) > 1 and isinstance(first["loc"][1], int) else None
        if index is not None and index < len(provisions) and isinstance(provisions[index], dict):
            where = where.replace(str(index), str(provisions[index].get("id", index)), 1)
        message = first["msg"].removeprefix("Value error, ")
        raise ValueError(f"{where}: {message}" if where else message) from None
