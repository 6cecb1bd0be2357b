"""The forms of a case, in plain words, turned into the decision contract's input models.

Needs follow SI 2015/313 reg 2: the ten outcomes of reg 2(2) and the four ways of being unable
of reg 2(3); the plan follows Care Act 2014 s25 (items that meet named needs, and needs left
unmet for commissioning); a counter-proposal follows s26 and CSSG 11.24 (sufficiency, need by need).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from carebudget.decisions.inputs import Needs, Outcome, Plan, Proposal, Way
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


def plan_from_form(form: Any) -> tuple[dict[str, Any] | None, list[str], dict[str, str]]:
    """Plan items (need, provision, weekly cost) from numbered rows, and the unmet-need notes."""
    items, errors = [], {}
    for i in range(int(form.get("rows") or PLAN_ROWS)):
        need = (form.get(f"item-{i}-need") or "").strip()
        provision = (form.get(f"item-{i}-provision") or "").strip()
        cost = (form.get(f"item-{i}-weekly_cost") or "").strip()
        if not (need or provision or cost):
            continue
        if need not in OUTCOME_LABELS:
            errors[f"item-{i}-need"] = "Choose the need this item meets"
        if not provision:
            errors[f"item-{i}-provision"] = "Say what the provision is"
        amount = _money(cost)
        if amount is None or amount < 0:
            errors[f"item-{i}-weekly_cost"] = "Enter the weekly cost in pounds, like 85.50"
        items.append(
            {
                "need": need,
                "provision": provision,
                "weekly_cost": str(amount) if amount is not None else cost,
            }
        )
    if not items and not errors:
        errors["item-0-need"] = "Add at least one item that meets a need"
    unmet = [line.strip() for line in (form.get("unmet_needs") or "").splitlines() if line.strip()]
    if errors:
        return None, unmet, errors
    total = sum((Decimal(i["weekly_cost"]) for i in items), Decimal(0))
    try:
        plan = Plan.model_validate({"weekly_total": total, "items": items}).model_dump(mode="json")
    except ValidationError as exc:
        return None, unmet, errors_by_field(exc)
    return plan, unmet, {}


def proposal_from_form(form: Any, needs: list[str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The lower amount and, for each predicted need, how it is met within it and why."""
    errors: dict[str, str] = {}
    amount = _money(form.get("weekly_amount") or "")
    if amount is None or amount < 0:
        errors["weekly_amount"] = "Enter the proposed weekly amount in pounds, like 240.00"
    justifications = []
    for need in needs:
        provision = (form.get(f"just-{need}-provision") or "").strip()
        cost_text = (form.get(f"just-{need}-weekly_cost") or "").strip()
        reason = (form.get(f"just-{need}-reason") or "").strip()
        if not (provision or cost_text or reason):
            continue  # left blank: the check will say the need is not covered
        cost = _money(cost_text)
        if cost is None or cost < 0:
            errors[f"just-{need}-weekly_cost"] = "Enter the weekly cost in pounds, like 60.00"
            continue
        justifications.append(
            {"need": need, "provision": provision, "weekly_cost": str(cost), "reason": reason}
        )
    if errors:
        return None, errors
    try:
        proposal = Proposal.model_validate(
            {"weekly_amount": amount, "justifications": justifications}
        )
    except ValidationError as exc:
        return None, errors_by_field(exc)
    return proposal.model_dump(mode="json"), {}


def check_counter_proposal(
    rules_dir: Any,
    council: str,
    on: date,
    plan: dict[str, Any],
    predicted_needs: list[str],
    proposal: dict[str, Any],
) -> dict[str, Any]:
    """The `counter-proposal` decision, and need by need whether the lower amount covers it."""
    from carebudget.decisions import decide_with_bundle
    from carebudget.rulebook import get_registry

    bundle = get_registry(rules_dir).bundle(council, on)
    record = decide_with_bundle(
        "counter-proposal",
        bundle,
        on,
        {"plan": plan, "predicted_needs": predicted_needs, "proposal": proposal},
    )
    result = record["counter_proposal"]
    fired = [r["id"] for r in record.get("fired_rules", [])]
    planned: dict[str, Decimal] = {}
    for item in plan.get("items", []):
        planned[item["need"]] = planned.get(item["need"], Decimal(0)) + Decimal(
            str(item["weekly_cost"])
        )
    rows = []
    for entry in result.get("needs", []):
        need = entry["need"]
        label = OUTCOME_LABELS.get(need, need).lower()
        problems = [
            f
            for f in result.get("failures", [])
            if label in f.lower() or need.replace("_", " ") in f.lower()
        ]
        failed_rule = any(rule.endswith(f".{need}") for rule in fired)
        rows.append(
            {
                "need": need,
                "label": OUTCOME_LABELS.get(need, need),
                "planned_weekly": f"{planned.get(need, Decimal(0)):.2f}",
                "justified_weekly": entry["justified_weekly"],
                "covered": bool(entry["covered"]) and not failed_rule and not problems,
                "problems": problems,
            }
        )
    general = [f for f in result.get("failures", []) if not any(f in r["problems"] for r in rows)]
    return {"record": record, "valid": bool(result["valid"]), "needs": rows, "general": general}
