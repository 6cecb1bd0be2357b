"""The decision contract: one kind of decision, for one council, on one date, as a record.

Pure: facts in, a JSON-ready decision record out. The only thing read is the rule bundle, which is
identified by its hash in the record so the decision can be re-run from the stored content.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from carebudget.decisions import charging, counter_proposal, eligibility, indicative_budget
from carebudget.decisions.evaluate import Evaluation, StageEvaluator, run_stage
from carebudget.decisions.facts import age_on, assess_facts, counter_proposal_facts
from carebudget.decisions.inputs import (
    KINDS,
    REQUIRED_PARTS,
    CaseFacts,
    CounterProposalFacts,
    case_facts_json,
)
from carebudget.decisions.sufficiency import Sufficiency, UnknownProvision, assess_sufficiency
from carebudget.rulebook.bundle import Bundle, bundle_from_content
from carebudget.rulebook.parameters import UNCONFIRMED_GRADES, MissingParameter
from carebudget.rulebook.rate_card import RATE_CARD, RateCard, parse_rate_card

ADULT_AGE = 18
CHARGING_KINDS = ("charge", "assessment")


class DecisionError(ValueError):
    """A decision that cannot be made: bad input, a missing amount or an unknown council."""

    def __init__(self, error: str, field: str | None, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.error = error
        self.field = field
        self.message = message
        self.errors = errors or [{"field": field, "message": message}]

    def to_json(self) -> dict[str, Any]:
        return {"error": self.error, "field": self.field, "message": self.message, "errors": self.errors}


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-"))


def invalid_input(exc: ValidationError) -> DecisionError:
    errors = [{"field": _field_path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    first = errors[0]
    return DecisionError("invalid input", first["field"], f"{first['field']}: {first['message']}", errors)


def parse_input(kind: str, payload: Any) -> CaseFacts | CounterProposalFacts:
    if kind not in KINDS:
        raise DecisionError("invalid input", "kind", f"unknown decision kind {kind!r}; one of {', '.join(KINDS)}")
    model = CounterProposalFacts if kind == "counter-proposal" else CaseFacts
    try:
        facts = model.model_validate(payload)
    except ValidationError as exc:
        error = invalid_input(exc)
        if model is CounterProposalFacts and isinstance(payload, dict) and "predicted_needs" in payload:
            absent = ", ".join(str(e["field"]) for e in error.errors if e["message"] == "Field required")
            error.message = (f"{error.message}. This is the earlier free-text form: a counter-proposal now gives the "
                             f"assessed support per need and a costed justification for each; missing: {absent}")
        raise error from None
    if isinstance(facts, CaseFacts):
        missing = [part for part in REQUIRED_PARTS[kind] if getattr(facts, part) is None]
        if missing:
            raise DecisionError("invalid input", missing[0], f"{missing[0]}: required for a {kind} decision",
                                [{"field": m, "message": f"required for a {kind} decision"} for m in missing])
    return facts


def rate_card(bundle: Bundle) -> RateCard:
    """The council's rate card in force on the bundle's date (national rules have none)."""
    if RATE_CARD not in bundle.parameters:
        raise DecisionError(
            "missing parameter", RATE_CARD,
            f"parameter {RATE_CARD!r}: {bundle.council} has no rate card in force on {bundle.on.isoformat()}; "
            "a counter-proposal is checked against a council's own local rates (CSSG 11.24-11.25)",
        )
    return parse_rate_card(bundle.param(RATE_CARD))


def costed_needs(facts: CounterProposalFacts, card: RateCard) -> Sufficiency:
    try:
        return assess_sufficiency(facts, card)
    except UnknownProvision as exc:
        index = next(i for i, n in enumerate(facts.needs) if n.outcome.value == exc.outcome)
        raise DecisionError("invalid input", f"needs.{index}.support", f"needs.{index}.support: {exc}") from None


def check_adult(facts: CaseFacts, on: date, kind: str) -> None:
    person = facts.person
    if person is None:
        return
    if person.date_of_birth > on:
        raise DecisionError("invalid input", "person.date_of_birth", "person.date_of_birth: is after the decision date")
    if age_on(person.date_of_birth, on) < ADULT_AGE:
        raise DecisionError("invalid input", "person.date_of_birth",
                            "person.date_of_birth: the person is under 18 on the decision date; Part 1 adult assessments apply from 18 (Care Act 2014 s2-s13)")
    if person.care_home_admission_date and person.care_home_admission_date > on:
        raise DecisionError("invalid input", "person.care_home_admission_date",
                            "person.care_home_admission_date: is after the decision date")
    if kind in CHARGING_KINDS and person.setting._value_ == "care_home" and person.care_home_admission_date is None:
        # SI 2014/2672 Sch 2 para 2: the 12-week property disregard runs from the first day of a
        # permanent admission; without that day the capital cannot be assessed, and nothing is assumed.
        raise DecisionError("invalid input", "person.care_home_admission_date", (
            "person.care_home_admission_date: required for a care-home charge; the main home is "
            "disregarded for 12 weeks from the first day of permanent admission (SI 2014/2672 Sch 2 "
            "para 2), so the date of admission must be given"))


_AS_IS = frozenset({str, bool, int, float, type(None)})


def jsonable(value: Any) -> Any:
    """Money as strings with two places, dates as ISO strings, the rest as it is."""
    kind = type(value)
    if kind is dict:
        # Most values are already JSON, and most lists and dicts hold only such values: each is
        # taken or copied without a call into this function (the type checks run in C).
        out = {}
        for k, v in value.items():
            kind = type(v)
            if kind in _AS_IS:
                out[k] = v
            elif kind is Decimal:
                out[k] = f"{v:.2f}"
            elif kind is list and _AS_IS.issuperset(map(type, v)):
                out[k] = v[:]
            elif kind is dict and _AS_IS.issuperset(map(type, v.values())):
                out[k] = v.copy()
            else:
                out[k] = jsonable(v)
        return out
    if kind is Decimal:
        return f"{value:.2f}"
    if kind is list or kind is tuple:
        return [v if type(v) in _AS_IS else jsonable(v) for v in value]
    if kind is date:
        return value.isoformat()
    return value


def _parameter_notes(bundle: Bundle, names: list[str]) -> list[str]:
    """A figure not read from the regulations themselves says so, and where to check it (each
    parameter's note written once per bundle)."""
    notes = []
    for name in names:
        note = bundle.notes.get(name, _UNWRITTEN)
        if note is _UNWRITTEN:
            note = bundle.notes[name] = _parameter_note(bundle, name)
        if note is not None:
            notes.append(note)
    return notes


_UNWRITTEN = object()


def _parameter_note(bundle: Bundle, name: str) -> str | None:
    detail = bundle.parameters.get(name)
    if detail is None or detail.grade not in UNCONFIRMED_GRADES:
        return None
    figure = f"The figure for {name} (£{Decimal(str(detail.value)):,.2f}, in force from {detail.since})"
    source = detail.source or "a secondary source"
    if detail.grade == "D":
        return (f"{figure} is derived, not yet read from the regulations (source grade D): "
                f"{detail.derivation}. Check it against {source}.")
    if detail.grade == "council":
        return f"{figure} is the council's own: {source}."
    return f"{figure} is taken from {source} (source grade {detail.grade}), not from the regulations themselves."


def _prevention_policy(bundle: Bundle) -> str:
    policy = bundle.parameters.get("policy.predicted_needs_establish_eligibility")
    return policy.reference if policy is not None else "the council's prevention policy"


def decide_with_bundle(
    kind: str, bundle: Bundle | dict[str, Any], on: date, payload: Any, engine: StageEvaluator | None = None
) -> dict[str, Any]:
    """Make one decision under a given bundle (a loaded one, or stored content for a replay).

    `engine` evaluates rule conditions; the default is durable_rules (others exist only in bench/).
    """
    if isinstance(bundle, dict):
        bundle = bundle_from_content(bundle, on)
    if not bundle.rule_files:
        # Part 1 of the Care Act 2014 came into force on 1 April 2015 (SI 2015/993 art 2).
        raise DecisionError("invalid input", "date", (
            f"date: no rules are in force on {on.isoformat()}; the Care Act 2014 rules on "
            "eligibility and charging apply from 1 April 2015 (SI 2015/993)"))
    facts = parse_input(kind, payload)
    record: dict[str, Any] = {
        "kind": kind,
        "council": bundle.council,
        "date": on.isoformat(),
        "rules": bundle.summary(),
        "input": (case_facts_json(facts) if isinstance(facts, CaseFacts)
                  else facts.model_dump(mode="json", exclude_none=True)),
    }
    ev = Evaluation()
    explanation: list[str] = []
    try:
        if isinstance(facts, CounterProposalFacts):
            card = rate_card(bundle)
            costed = costed_needs(facts, card)
            run_stage(bundle, "counter_proposal", counter_proposal_facts(facts, costed), ev, engine)
            record["counter_proposal"] = counter_proposal.counter_proposal(facts, costed, card, ev)
            explanation += counter_proposal.explain(jsonable(record["counter_proposal"]))
        else:
            check_adult(facts, on, kind)
            case_facts = assess_facts(facts, on)
            run_stage(bundle, "assess", case_facts, ev, engine)
            if kind in ("eligibility", "assessment"):
                record["eligibility"] = eligibility.adult_eligibility(facts, ev)
            if kind == "carer-eligibility":
                record["carer_eligibility"] = eligibility.carer_eligibility(facts, ev)
            if kind in ("charge", "assessment"):
                record["charge"] = charging.assess_charge(facts, bundle, on, case_facts, ev, engine)
            if kind in ("indicative-budget", "assessment"):
                record["indicative_budget"] = indicative_budget.indicative_budget(bundle, ev)
            explanation += ev.reasons
            if "eligibility" in record and not record["eligibility"]["eligible"]:
                advice = eligibility.advice(record["eligibility"], _prevention_policy(bundle))
                record["eligibility"]["advice"] = advice
                explanation.append(advice)
            if "charge" in record:
                explanation += charging.explain_charge(record["charge"])
                explanation += _parameter_notes(bundle, record["charge"].get("parameters_used", []))
            if "indicative_budget" in record:
                explanation.append(indicative_budget.explain_budget(record["indicative_budget"]))
    except MissingParameter as exc:
        raise DecisionError("missing parameter", exc.name, str(exc)) from None
    for section in ("eligibility", "carer_eligibility", "charge", "indicative_budget", "counter_proposal"):
        if section in record:
            record[section] = jsonable(record[section])
    record["fired_rules"] = [{"id": r.id, "reference": r.reference} for r in ev.fired]
    record["explanation"] = explanation
    return record
