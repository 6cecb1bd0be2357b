"""CSSG 11.24-11.25 and R (KM) v Cambridgeshire: costing needs and justifications at local rates.

Pure arithmetic over the council's rate card, need by need, so the counter-proposal rules can
decide: what the assessed support costs at the card's rates, the cheapest sufficient amount (the
floor, using the substitutions the card declares), and for each justification whether it is on
the card, can meet the need, is priced at the local rate and gives the assessed units.
Support for one need is that need's own: the same provision assessed for two needs is counted
for each. A justification line repeated word for word for several needs is one provision meeting
them all, and is counted once in the total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from carebudget.decisions.inputs import (
    OTHER_PROVISION,
    AssessedNeed,
    CostedJustification,
    CounterProposalFacts,
    pennies,
)
from carebudget.rulebook.rate_card import RateCard

_WORD = re.compile(r"[^\W\d_]{2,}")  # a word: two or more letters


def words(text: str) -> int:
    return len(_WORD.findall(text))


@dataclass(frozen=True)
class Unit:
    """One assessed support line of a need, as priced: the provision, units, local rate."""

    provision: str
    units: Decimal
    rate: Decimal
    label: str
    other: bool = False

    @property
    def cost(self) -> Decimal:
        return pennies(self.units * self.rate)


@dataclass
class NeedCosting:
    """One need: its assessed support at local rates, and what the justifications say of it."""

    outcome: str
    when: str | None  # None: justified but not an assessed need
    support: list[Unit] = field(default_factory=list)
    floor: Decimal = Decimal(0)
    justified_cost: Decimal = Decimal(0)
    justifications: int = 0
    not_on_rate_card: int = 0
    unable_to_meet: int = 0
    local_rate_shortfall: Decimal = Decimal(0)
    units_not_justified: Decimal = Decimal(0)  # the largest share of an assessed line not given
    shortest_reason_words: int = 0

    @property
    def assessed_cost(self) -> Decimal:
        return sum((u.cost for u in self.support), Decimal(0))


def price_support(need: AssessedNeed, card: RateCard) -> list[Unit]:
    """The need's assessed support, one line per provision, at the card's rate (or its own)."""
    merged: dict[str, Unit] = {}
    for item in need.support:
        key = item.provision if item.provision != OTHER_PROVISION else f"{OTHER_PROVISION}:{len(merged)}"
        provision = card.get(item.provision)
        if item.provision == OTHER_PROVISION:
            unit = Unit(OTHER_PROVISION, item.units, item.unit_cost or Decimal(0), item.description or "", other=True)
        elif provision is None:
            raise UnknownProvision(need.outcome.value, item.provision)
        else:
            earlier = merged.get(key)
            units = item.units + (earlier.units if earlier else Decimal(0))
            unit = Unit(provision.id, units, provision.rate, provision.label)
        merged[key] = unit
    return list(merged.values())


class UnknownProvision(ValueError):
    """Assessed support naming a provision that is not on the council's rate card."""

    def __init__(self, outcome: str, provision: str) -> None:
        self.outcome, self.provision = outcome, provision
        super().__init__(f"support for {outcome} names {provision!r}, which is not on the council's rate card")


def cheapest(unit: Unit, outcome: str, card: RateCard) -> Decimal:
    """The least a line can cost at local rates (unrounded): the assessed provision, or declared
    substitutes up to their weekly limits, cheapest per assessed unit first."""
    if unit.other:
        return unit.units * unit.rate
    # (rate, assessed units one unit replaces, most units a week)
    options: list[tuple[Decimal, Decimal, Decimal | None]] = [(unit.rate, Decimal(1), None)]
    options += [(p.rate, s.units_per_unit, s.max_units) for p, s in card.substitutes_for(unit.provision, outcome)]
    remaining, total = unit.units, Decimal(0)
    for rate, ratio, most in sorted(options, key=lambda o: o[0] / o[1]):
        if remaining <= 0:
            break
        replaced = remaining if most is None else min(remaining, most * ratio)
        total += replaced / ratio * rate
        remaining -= replaced
    return total


def _justify(costing: NeedCosting, items: list[CostedJustification], card: RateCard) -> None:
    given = {u.provision if not u.other else OTHER_PROVISION: Decimal(0) for u in costing.support}
    others = [u for u in costing.support if u.other]
    substituted: dict[str, Decimal] = {}  # units of each substitute counted so far (weekly limits)
    shortfall = Decimal(0)
    for j in items:
        costing.justified_cost += j.weekly_cost
        provision = card.get(j.provision)
        if j.provision == OTHER_PROVISION:
            if not others:
                costing.not_on_rate_card += 1
                continue
            shortfall = max(shortfall, min(u.rate for u in others) - j.unit_cost)
            given[OTHER_PROVISION] += j.units
            continue
        if provision is None:
            costing.not_on_rate_card += 1
            continue
        shortfall = max(shortfall, provision.rate - j.unit_cost)
        if j.provision in given:
            given[j.provision] += j.units
            continue
        stands_for = next(
            (u.provision for u in costing.support
             if not u.other and card.substitution(j.provision, u.provision, costing.outcome) is not None),
            None,
        )
        if stands_for is not None:
            sub = card.substitution(j.provision, stands_for, costing.outcome)
            assert sub is not None
            counted = j.units if sub.max_units is None else min(j.units, sub.max_units - substituted.get(j.provision, Decimal(0)))
            substituted[j.provision] = substituted.get(j.provision, Decimal(0)) + counted
            given[stands_for] += counted * sub.units_per_unit
        elif costing.outcome not in {o.value for o in provision.meets} and not any(
            costing.outcome in {o.value for o in s.outcomes} for s in provision.substitutes
        ):
            costing.unable_to_meet += 1
    costing.local_rate_shortfall = max(shortfall, Decimal(0))
    costing.units_not_justified = max(
        (max(Decimal(0), (u.units - given[u.provision if not u.other else OTHER_PROVISION]) / u.units)
         for u in costing.support),
        default=Decimal(0),
    )
    costing.justifications = len(items)
    costing.shortest_reason_words = min((words(j.reason) for j in items), default=0)


@dataclass
class Sufficiency:
    needs: list[NeedCosting]
    floor: Decimal
    justified_total: Decimal


def assess_sufficiency(facts: CounterProposalFacts, card: RateCard) -> Sufficiency:
    by_outcome: dict[str, list[CostedJustification]] = {}
    for j in facts.proposal.justifications:
        by_outcome.setdefault(j.outcome.value, []).append(j)
    costings = []
    for need in facts.needs:
        outcome = need.outcome.value
        costing = NeedCosting(outcome, need.when, price_support(need, card))
        costing.floor = sum((cheapest(u, outcome, card) for u in costing.support), Decimal(0))  # unrounded
        _justify(costing, by_outcome.pop(outcome, []), card)
        costings.append(costing)
    for outcome, items in by_outcome.items():  # justified, but not an assessed need
        costing = NeedCosting(outcome, None)
        _justify(costing, items, card)
        costings.append(costing)
    lines = {(j.provision, j.units, j.unit_cost): j.weekly_cost for j in facts.proposal.justifications}
    return Sufficiency(
        costings,
        floor=pennies(sum((c.floor for c in costings), Decimal(0))),
        justified_total=sum(lines.values(), Decimal(0)),
    )
