"""Properties of the sufficiency check (CSSG 11.24-11.25), decided by the real rules and engine.

The cases are built on the demo council's rate card, with its rates varied, so the properties
hold for the card's structure (what meets what, the declared substitutes), not for one price list.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carebudget.decisions.contract import decide_with_bundle
from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.rate_card import RATE_CARD
from carebudget.rulebook.registry import get_registry

ON = date(2025, 6, 1)
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOOD_REASON = "The same support from a provider on the council's rate card."
BAD_REASONS = ["", "x", "cheaper", "  ok  "]


def demo() -> Bundle:
    return get_registry().bundle("demo", ON)


def with_rates(bundle: Bundle, rates: dict[str, Decimal]) -> Bundle:
    resolved = bundle.parameters[RATE_CARD]
    card = [{**p, "rate": str(rates.get(p["id"], p["rate"]))} for p in resolved.value]
    params = {**bundle.parameters, RATE_CARD: dataclasses.replace(resolved, value=card)}
    return Bundle(bundle.council, bundle.on, bundle.rule_files, params)


def card_of(bundle: Bundle) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in bundle.parameters[RATE_CARD].value}


def substitutes(card: dict[str, dict[str, Any]], for_id: str, outcome: str) -> list[tuple[str, Decimal, Decimal | None]]:
    found = []
    for p in card.values():
        for s in p.get("substitutes", []):
            if s["for"] == for_id and outcome in s["outcomes"]:
                most = s.get("max_units")
                found.append((p["id"], Decimal(str(s["units_per_unit"])), Decimal(str(most)) if most else None))
    return found


DIRECT = [(p, o) for p in ("home_care_hour", "day_opportunity_session", "respite_night", "telecare_week",
                           "personal_assistant_hour", "domestic_support_hour")
          for o in ("nutrition", "personal_hygiene", "home_safety", "habitable_home", "community_facilities",
                    "relationships", "toilet_needs")]


@st.composite
def assessments(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Needs (distinct outcomes) with support from provisions that can meet them, whole units."""
    card = card_of(demo())
    pairs = [(p, o) for p, o in DIRECT if o in card[p]["meets"]]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=5, unique_by=lambda po: po[1]))
    return [
        {"outcome": o, "when": draw(st.sampled_from(["current", "predicted"])),
         "support": [{"provision": p, "units": draw(st.integers(1, 10))}]}
        for p, o in chosen
    ]


rate_changes = st.dictionaries(
    st.sampled_from(["home_care_hour", "personal_assistant_hour", "meals_delivered", "day_opportunity_session",
                     "community_activity_session", "telecare_week", "respite_night", "domestic_support_hour"]),
    st.decimals(min_value=Decimal("1.00"), max_value=Decimal("200.00"), places=2),
)


def honest_lines(need: dict[str, Any], card: dict[str, dict[str, Any]], use_substitute: bool, extra: int) -> list[dict[str, Any]]:
    """Justification lines meeting one need: the assessed provision, or a declared substitute
    (as far as its weekly limit allows, the rest as assessed), at the card's rate or above."""
    line = need["support"][0]
    provision, units, outcome = line["provision"], Decimal(line["units"]), need["outcome"]
    lines = []
    options = substitutes(card, provision, outcome) if use_substitute else []
    if options:
        sub, ratio, most = options[0]
        sub_units = units / ratio if most is None else min(units / ratio, most)
        lines.append({"outcome": outcome, "provision": sub, "units": str(sub_units.quantize(Decimal("0.01"))),
                      "unit_cost": str(Decimal(str(card[sub]["rate"])) + extra), "reason": GOOD_REASON})
        units -= sub_units * ratio
    if units > 0:
        lines.append({"outcome": outcome, "provision": provision, "units": str(units),
                      "unit_cost": str(Decimal(str(card[provision]["rate"])) + extra), "reason": GOOD_REASON})
    return lines


def cost(lines: list[dict[str, Any]]) -> Decimal:
    unique = {(j["provision"], j["units"], j["unit_cost"]) for j in lines}
    return sum((Decimal(u) * Decimal(c) for _, u, c in unique), Decimal(0)).quantize(Decimal("0.01"))


def plan_at(needs: list[dict[str, Any]], card: dict[str, dict[str, Any]], extra: Decimal) -> dict[str, Any]:
    items = [{"outcomes": [n["outcome"]], "provision": n["support"][0]["provision"], "units": n["support"][0]["units"],
              "unit_cost": str(Decimal(str(card[n["support"][0]["provision"]]["rate"])) + extra)} for n in needs]
    total = sum((Decimal(i["units"]) * Decimal(i["unit_cost"]) for i in items), Decimal(0))
    return {"weekly_total": str(total.quantize(Decimal("0.01"))), "items": items}


@FAST
@given(assessments(), rate_changes, st.data())
def test_an_accepted_counter_proposal_covers_every_need_at_the_local_rate_for_the_assessed_units(
    needs: list[dict[str, Any]], rates: dict[str, Decimal], data: st.DataObject
) -> None:
    bundle = with_rates(demo(), rates)
    card = card_of(bundle)
    justifications: list[dict[str, Any]] = []
    for need in needs:
        lines = honest_lines(need, card, data.draw(st.booleans()), 0)
        lines = data.draw(st.sampled_from([lines, lines[:-1]]))  # sometimes a line left out
        for j in lines:
            j["units"] = str(Decimal(j["units"]) - data.draw(st.sampled_from([0, 0, 1])))
            j["unit_cost"] = str(max(Decimal(0), Decimal(j["unit_cost"]) - data.draw(st.sampled_from([0, 0, 5]))))
            j["reason"] = data.draw(st.sampled_from([GOOD_REASON, GOOD_REASON, *BAD_REASONS]))
        justifications += [j for j in lines if Decimal(j["units"]) >= 0]
    plan = plan_at(needs, card, Decimal(50))
    amount = cost(justifications) + data.draw(st.sampled_from([Decimal(0), Decimal(-1), Decimal(10)]))
    payload = {"needs": needs, "plan": plan,
               "proposal": {"weekly_amount": str(max(amount, Decimal(0))), "justifications": justifications}}
    result = decide_with_bundle("counter-proposal", bundle, ON, payload)["counter_proposal"]
    event("valid" if result["valid"] else "refused")
    if not result["valid"]:
        assert result["failures"], "a refusal always says why"
        return
    for need in needs:
        line = need["support"][0]
        mine = [j for j in justifications if j["outcome"] == need["outcome"]]
        given_units = Decimal(0)
        for j in mine:
            assert Decimal(j["unit_cost"]) >= Decimal(str(card[j["provision"]]["rate"]))
            if j["provision"] == line["provision"]:
                given_units += Decimal(j["units"])
            else:
                ratio = next(r for s, r, _ in substitutes(card, line["provision"], need["outcome"]) if s == j["provision"])
                given_units += Decimal(j["units"]) * ratio
        assert given_units >= Decimal(line["units"])
        assert all(len(j["reason"].split()) >= 3 for j in mine)
    assert Decimal(result["floor"]) <= Decimal(payload["proposal"]["weekly_amount"])


@FAST
@given(assessments(), rate_changes, st.integers(0, 20), st.booleans())
def test_the_floor_never_exceeds_a_plan_priced_at_card_rates(
    needs: list[dict[str, Any]], rates: dict[str, Decimal], extra: int, use_substitutes: bool
) -> None:
    bundle = with_rates(demo(), rates)
    card = card_of(bundle)
    lines = [j for n in needs for j in honest_lines(n, card, use_substitutes, extra)]
    items = [{"outcomes": [j["outcome"]], "provision": j["provision"], "units": j["units"],
              "unit_cost": j["unit_cost"]} for j in lines]
    total = sum((Decimal(i["units"]) * Decimal(i["unit_cost"]) for i in items), Decimal(0)).quantize(Decimal("0.01"))
    payload = {"needs": needs, "plan": {"weekly_total": str(total), "items": items},
               "proposal": {"weekly_amount": "0", "justifications": []}}
    result = decide_with_bundle("counter-proposal", bundle, ON, payload)["counter_proposal"]
    assert Decimal(result["floor"]) <= total


@FAST
@given(assessments(), rate_changes, st.booleans(), st.data())
def test_lowering_a_rate_never_turns_a_valid_proposal_invalid(
    needs: list[dict[str, Any]], rates: dict[str, Decimal], use_substitutes: bool, data: st.DataObject
) -> None:
    bundle = with_rates(demo(), rates)
    card = card_of(bundle)
    justifications = [j for n in needs for j in honest_lines(n, card, use_substitutes, 0)]
    floor_then = decide_with_bundle("counter-proposal", bundle, ON, {
        "needs": needs, "plan": plan_at(needs, card, Decimal(0)),
        "proposal": {"weekly_amount": "0", "justifications": []}})["counter_proposal"]["floor"]
    amount = max(cost(justifications), Decimal(floor_then))
    # A plan dearer than any honest justification (substitutes may cost more than the assessed line).
    payload = {"needs": needs, "plan": plan_at(needs, card, Decimal(1000)),
               "proposal": {"weekly_amount": str(amount), "justifications": justifications}}
    before = decide_with_bundle("counter-proposal", bundle, ON, payload)["counter_proposal"]
    assert before["valid"], before["failures"]
    lowered = data.draw(st.sampled_from(sorted(card)))
    new_rate = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(str(card[lowered]["rate"])), places=2))
    after = decide_with_bundle("counter-proposal", with_rates(bundle, {lowered: new_rate}), ON, payload)["counter_proposal"]
    assert after["valid"], after["failures"]
    assert Decimal(after["floor"]) <= Decimal(before["floor"])
