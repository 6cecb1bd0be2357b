"""The forms of a case, in plain words, turned into the decision contract's input models.

Needs follow SI 2015/313 reg 2: the ten outcomes of reg 2(2) and the four ways of being unable
of reg 2(3); each need records the support it requires from the council's rate card; the plan
follows Care Act 2014 s25 (priced items that meet named needs, and needs left unmet for
commissioning); a counter-proposal follows s26 and CSSG 11.24-11.25 (sufficiency at local rates,
need by need).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from carebudget.decisions.inputs import (
    OTHER_PROVISION,
    CostedProposal,
    Needs,
    Outcome,
    PricedPlan,
    Way,
    pennies,
)
from carebudget.web.forms import errors_by_field

OUTCOME_LABELS: dict[str, str] = {
    "nutrition": "Managing and maintaining nutrition",
    "personal_hygiene": "Maintaining personal hygiene",
    "toilet_needs": "Managing toilet needs",
    "being_clothed": "Being appropriately clothed",
    "home_safety": "Using the home safely",
    "habitable_home": "Keeping the home habitable",
    "relationships": "Keeping up family or other relationships",
    "work_training_education_volunteering": "Work, training, education or volunteering",
    "community_facilities": "Using local facilities and services, including public transport",
    "caring_for_child": "Caring for a child",
}
WAY_LABELS: dict[str, str] = {
    "needs_assistance": "Needs help (including prompting)",
    "significant_pain_distress_anxiety": "Causes significant pain, distress or anxiety",
    "endangers_health_safety": "Puts health or safety at risk",
    "takes_significantly_longer": "Takes much longer than normal",
}
assert set(OUTCOME_LABELS) == {o.value for o in Outcome} and set(WAY_LABELS) == {
    w.value for w in Way
}
PLAN_ROWS = 6


def _getlist(form: Any, key: str) -> list[str]:
    return (
        [str(v) for v in form.getlist(key)] if hasattr(form, "getlist") else list(form.get(key, []))
    )


def needs_from_form(
    form: Any, prefix: str, optional: bool = False
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """`prefix` is "now" or "soon": checkboxes `<prefix>.<outcome>` hold the ways of being unable.

    With `optional`, a section left untouched (nothing ticked, no wellbeing answer) means no needs.
    """
    outcomes = {o: _getlist(form, f"{prefix}.{o}") for o in OUTCOME_LABELS}
    if optional and not any(outcomes.values()) and not form.get(f"{prefix}.wellbeing_impact"):
        return None, {}
    raw = {
        "arise_from_impairment_or_illness": form.get(f"{prefix}.arise_from_impairment_or_illness")
        == "yes",
        "wellbeing_impact": form.get(f"{prefix}.wellbeing_impact") or None,
        "outcomes": {o: ways for o, ways in outcomes.items() if ways},
    }
    try:
        return Needs.model_validate(raw).model_dump(mode="json"), {}
    except ValidationError as exc:
        errors = {f"{prefix}.{k}": v for k, v in errors_by_field(exc).items()}
        if f"{prefix}.wellbeing_impact" in errors:
            errors[f"{prefix}.wellbeing_impact"] = (
                "Choose whether the effect on wellbeing is significant"
            )
        return None, errors


def _money(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace("£", "").replace(",", "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def rate_card_options(registry: Any, council: str, on: date) -> list[dict[str, Any]]:
    """The council's rate card in force on `on` (with its published versions), for the forms'
    provision lists (empty if none)."""
    from carebudget.rulebook import RuleFileError, UnknownCouncil

    try:
        bundle = registry.bundle(council, on)
    except (UnknownCouncil, RuleFileError):
        return []
    card = bundle.parameters.get("rates.card")
    return list(card.value) if card is not None and card.value else []


def provision_choices(card: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(p["id"], f"{p['label']} (£{Decimal(str(p['rate'])):.2f} a {p['unit']})") for p in card] + [
        (OTHER_PROVISION, "Other: describe it and give its cost")
    ]


def _units(text: str) -> Decimal | None:
    value = _money(text)
    return value if value is not None and value > 0 else None


def support_from_form(form: Any, needs: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """For each need ({outcome: current|predicted}), the support it requires a week."""
    support, errors = [], {}
    for outcome, when in needs.items():
        key = f"support-{outcome}"
        provision = (form.get(f"{key}-provision") or "").strip()
        units = _units(form.get(f"{key}-units") or "")
        if not provision:
            errors[f"{key}-provision"] = "Choose the support this need requires from the rate card"
        if units is None:
            errors[f"{key}-units"] = "Enter how many units a week, like 4 or 3.5"
        item: dict[str, Any] = {"provision": provision, "units": str(units)}
        if provision == OTHER_PROVISION:
            item["description"] = (form.get(f"{key}-description") or "").strip()
            cost = _money(form.get(f"{key}-unit_cost") or "")
            if not item["description"]:
                errors[f"{key}-description"] = "Describe the support the rate card does not list"
            if cost is None or cost < 0:
                errors[f"{key}-unit_cost"] = "Enter its cost per unit in pounds, like 15.00"
            item["unit_cost"] = str(cost)
        support.append({"outcome": outcome, "when": when, "support": [item]})
    return support, errors


UNMET_ROWS = 2  # empty unmet-need rows on a new plan ("Add another unmet need" adds one)


def unmet_from_form(form: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Unmet needs (s25; s5 market shaping) from numbered rows: the outcome, the provision that
    was wanted from the rate card (or other), units a week if known, and the words. A cleared row
    is ignored; the provision code is checked against the card by the case service."""
    needs, errors = [], {}
    try:
        rows = max(0, min(int(form.get("unmet_rows") or UNMET_ROWS), 200))
    except ValueError:
        rows = UNMET_ROWS
    for i in range(rows):
        key = f"unmet-{i}"
        fields = {k: (form.get(f"{key}-{k}") or "").strip() for k in ("outcome", "provision", "units", "words")}
        if not any(fields.values()):
            continue
        if fields["outcome"] not in OUTCOME_LABELS:
            errors[f"{key}-outcome"] = "Choose the outcome the unmet need is about"
        if not fields["provision"]:
            errors[f"{key}-provision"] = "Choose what was wanted from the rate card, or other"
        elif fields["provision"] == OTHER_PROVISION and not fields["words"]:
            errors[f"{key}-words"] = "Say what was wanted: the rate card does not list it"
        need: dict[str, Any] = {"outcome": fields["outcome"], "provision": fields["provision"],
                                "words": fields["words"][:500]}
        if fields["units"]:
            units = _units(fields["units"])
            if units is None or units > 1000:
                errors[f"{key}-units"] = "Enter the units a week, like 2 or 3.5, or leave it empty"
            else:
                need["units"] = str(units)
        needs.append(need)
    return needs, errors


def plan_from_form(form: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, str]]:
    """Priced plan items (the need met, a rate-card provision, units, unit cost) from numbered
    rows, any number of them, and the unmet needs (`unmet_from_form`)."""
    items, errors = [], {}
    try:
        rows = max(1, min(int(form.get("rows") or PLAN_ROWS), 200))
    except ValueError:
        rows = PLAN_ROWS
    for i in range(rows):
        fields = {k: (form.get(f"item-{i}-{k}") or "").strip() for k in ("outcome", "provision", "units", "unit_cost", "description")}
        if not any(fields.values()):
            continue
        if fields["outcome"] not in OUTCOME_LABELS:
            errors[f"item-{i}-outcome"] = "Choose the need this item meets"
        if not fields["provision"]:
            errors[f"item-{i}-provision"] = "Choose the provision from the rate card, or other"
        if fields["provision"] == OTHER_PROVISION and not fields["description"]:
            errors[f"item-{i}-description"] = "Describe the provision the rate card does not list"
        units, cost = _units(fields["units"]), _money(fields["unit_cost"])
        if units is None:
            errors[f"item-{i}-units"] = "Enter the units a week, like 4 or 3.5"
        if cost is None or cost < 0:
            errors[f"item-{i}-unit_cost"] = "Enter the cost per unit in pounds, like 27.40"
        item: dict[str, Any] = {"outcomes": [fields["outcome"]], "provision": fields["provision"],
                                "units": str(units), "unit_cost": str(cost)}
        if fields["description"]:
            item["description"] = fields["description"]
        items.append(item)
    if not items and not errors:
        errors["item-0-outcome"] = "Add at least one item that meets a need"
    unmet, unmet_errors = unmet_from_form(form)
    errors.update(unmet_errors)
    if errors:
        return None, unmet, errors
    total = sum((pennies(Decimal(i["units"]) * Decimal(i["unit_cost"])) for i in items), Decimal(0))
    try:
        plan = PricedPlan.model_validate({"weekly_total": total, "items": items}).model_dump(mode="json")
    except ValidationError as exc:
        return None, unmet, errors_by_field(exc)
    return plan, unmet, {}


JUSTIFICATION_LINES = 2  # lines per need on the form (the API takes any number)


def proposal_from_form(form: Any, needs: list[str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The lower amount and, for each assessed need, how it is met within it, at what cost, and why."""
    errors: dict[str, str] = {}
    amount = _money(form.get("weekly_amount") or "")
    if amount is None or amount < 0:
        errors["weekly_amount"] = "Enter the proposed weekly amount in pounds, like 240.00"
    justifications = []
    for need in needs:
        for k in range(JUSTIFICATION_LINES):
            key = f"just-{need}-{k}"
            fields = {f: (form.get(f"{key}-{f}") or "").strip() for f in ("provision", "units", "unit_cost", "reason")}
            if not any(fields.values()):
                continue  # left blank: the check will say the need is not covered
            units, cost = _money(fields["units"]), _money(fields["unit_cost"])
            if units is None or units < 0:
                errors[f"{key}-units"] = "Enter the units a week, like 4 or 3.5"
            if cost is None or cost < 0:
                errors[f"{key}-unit_cost"] = "Enter the cost per unit in pounds, like 16.80"
            if not fields["provision"]:
                errors[f"{key}-provision"] = "Choose the provision from the rate card"
            justifications.append({"outcome": need, "provision": fields["provision"], "units": str(units),
                                   "unit_cost": str(cost), "reason": fields["reason"]})
    if errors:
        return None, errors
    try:
        proposal = CostedProposal.model_validate({"weekly_amount": amount, "justifications": justifications})
    except ValidationError as exc:
        return None, errors_by_field(exc)
    return proposal.model_dump(mode="json"), {}


def check_counter_proposal(
    registry: Any,
    council: str,
    on: date,
    needs: list[dict[str, Any]],
    plan: dict[str, Any],
    proposal: dict[str, Any],
) -> dict[str, Any]:
    """The `counter-proposal` decision, and need by need whether the lower amount covers it."""
    from carebudget.decisions import decide_with_bundle

    bundle = registry.bundle(council, on)
    record = decide_with_bundle("counter-proposal", bundle, on, {"needs": needs, "plan": plan, "proposal": proposal})
    result = record["counter_proposal"]
    rows = []
    for entry in result.get("needs", []):
        need = entry["outcome"]
        rows.append({
            "need": need,
            "label": OUTCOME_LABELS.get(need, need),
            "when": entry.get("when"),
            "assessed_cost": entry["assessed_cost"],
            "justified_cost": entry["justified_cost"],
            "covered": bool(entry["covered"]),
            "problems": [f["message"] for f in result.get("failures", []) if f["outcome"] == need],
        })
    listed = {r["need"] for r in rows}
    general = [f["message"] for f in result.get("failures", []) if f["outcome"] not in listed]
    return {"record": record, "valid": bool(result["valid"]), "needs": rows, "general": general,
            "floor": result["floor"]}


def plan_warnings(
    plan: dict[str, Any] | None, support: list[dict[str, Any]], card: list[dict[str, Any]],
    indicative: dict[str, Any] | None,
) -> list[str]:
    """What the plan page warns of: a need with no item, an item below the local rate, a total
    outside the indicative range (CSSG 11.24: the range can move, but the person is told why)."""
    items = [i for i in (plan or {}).get("items", []) if i.get("outcomes")]
    if not items:
        return []
    warnings = []
    met = {o for i in items for o in i["outcomes"]}
    for need in support:
        if need["outcome"] not in met:
            warnings.append(f"No item meets {OUTCOME_LABELS.get(need['outcome'], need['outcome']).lower()}.")
    rates = {p["id"]: Decimal(str(p["rate"])) for p in card}
    for i in items:
        rate = rates.get(i["provision"])
        if rate is not None and Decimal(str(i["unit_cost"])) < rate:
            warnings.append(f"{i['provision'].replace('_', ' ').capitalize()} is priced at £{Decimal(str(i['unit_cost'])):.2f}, "
                            f"below the council's local rate of £{rate:.2f}.")
    outside = outside_range(Decimal(str((plan or {}).get("weekly_total") or 0)), indicative)
    if outside:
        warnings.append(outside)
    return warnings


def outside_range(total: Decimal, indicative: dict[str, Any] | None) -> str:
    """A warning when the total is outside the indicative range (CSSG 11.24: it can move, with reasons)."""
    if not indicative:
        return ""
    low, high = Decimal(str(indicative["weekly_low"])), Decimal(str(indicative["weekly_high"]))
    if low <= total <= high:
        return ""
    return (f"The total of £{total:.2f} is outside the indicative range of £{low:.2f} to £{high:.2f}: "
            "say why in the plan.")


def draft_plan(values: dict[str, str], indicative: dict[str, Any] | None) -> dict[str, Any]:
    """The plan being edited, as typed so far: its weekly total and the range warning."""
    total, any_item = Decimal(0), False
    for key, units_text in values.items():
        if key.startswith("item-") and key.endswith("-units"):
            units, cost = _units(units_text.strip()), _money(values.get(key[:-len("units")] + "unit_cost", "").strip())
            if units is not None and cost is not None:
                total, any_item = total + pennies(units * cost), True
    if not any_item:
        return {"total": None, "warning": ""}
    return {"total": total, "warning": outside_range(total, indicative)}
