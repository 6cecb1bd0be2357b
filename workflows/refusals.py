"""Who may take which step, when (Care Act 2014 ss9-27 and separation of duties): pure checks.

The workflow's update validators call `why_refused`; a reason means the step is refused and the
case is unchanged. Validators see the state as update handlers leave it (handlers change the
stage and set `pending_step` before they await anything), so a check here is never stale.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ValidationError

from carebudget.decisions.inputs import CostedProposal, PricedPlanItem
from workflows.models import (
    STEP_INPUTS,
    STEP_ROLES,
    STEP_STAGES,
    AppealDecision,
    CaseState,
    CounterProposal,
    PlanSubmission,
    ReviewOutcome,
    Role,
    SavingsRequest,
    StepInput,
    Verification,
)
from workflows.savings import payments_since_last_review

_APPROVER_STEPS = ("approve", "request_changes", "counter_propose")


def readable(exc: ValidationError) -> str:
    """'field: message' for each error, as one sentence a person can act on."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "input"
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(message if message.startswith(f"{where}:") else f"{where}: {message}")
    return "; ".join(parts)


def parse_payload(step: str, request: StepInput) -> BaseModel:
    return STEP_INPUTS[step].model_validate(request.payload)


def why_refused(state: CaseState, step: str, request: StepInput, now: datetime) -> str | None:
    """The reason the step may not be taken now, or None when it may."""
    actor = request.actor
    if step not in STEP_INPUTS:
        return f"{step} is not a step of a case; steps are {', '.join(STEP_INPUTS)}"
    if state.pending_step is not None:
        return f"{state.pending_step} is still being processed on this case; try again shortly"
    if state.stage not in STEP_STAGES[step]:
        allowed = " or ".join(s.value for s in STEP_STAGES[step])
        return f"{step} is taken at {allowed}, but the case is at {state.stage.value}"
    if actor.role not in STEP_ROLES[step]:
        allowed = " or ".join(r.value for r in STEP_ROLES[step])
        return f"role {actor.role.value} may not {step}; it is taken by {allowed}"
    if actor.role is Role.person and actor.id != state.person_user:
        return f"{actor.id} is not the person this case is about, so may not {step}"
    try:
        payload = parse_payload(step, request)
    except ValidationError as exc:
        return f"{step}: {readable(exc)}"
    return _duties(state, step, request, payload) or _step_rules(state, step, payload, now)


def _duties(state: CaseState, step: str, request: StepInput, payload: BaseModel) -> str | None:
    """Separation of duties: the approver did not draft the plan; the appeal officer took no part."""
    actor_id = request.actor.id
    if step in _APPROVER_STEPS and state.draft and state.draft.drafted_by.id == actor_id:
        return f"{actor_id} drafted this plan, so another approver must sign it off"
    if step == "decide_appeal":
        involved = {
            who.id
            for who in (
                state.sign_off.by if state.sign_off else None,
                state.counter_proposal.by if state.counter_proposal else None,
                state.draft.drafted_by if state.draft else None,
            )
            if who is not None
        }
        if actor_id in involved:
            return f"{actor_id} took part in the decision appealed, so another officer must decide"
    return None


def _assessed_support(payload: Verification) -> str | None:
    """Each need, now and predicted, records the support it requires a week (CSSG 11.24)."""
    needs = {o.value: "current" for o, ways in payload.needs.outcomes.items() if ways}
    for o, ways in (payload.predicted_needs.outcomes.items() if payload.predicted_needs else ()):
        if ways and o.value not in needs:
            needs[o.value] = "predicted"
    given = {n.outcome.value: n.when for n in payload.support}
    missing = [o for o in needs if o not in given]
    if missing:
        return (f"support: record the support each assessed need requires a week; none is recorded for "
                f"{', '.join(missing)}")
    for outcome, when in given.items():
        if outcome not in needs:
            return f"support: {outcome} is not a need in this assessment"
        if when != needs[outcome]:
            return f"support: {outcome} is a {needs[outcome]} need in this assessment, not {when}"
    return None


def _priced_plan(state: CaseState, payload: PlanSubmission) -> str | None:
    assessed = assessed_outcomes(state)
    for index, item in enumerate(payload.plan.items):
        if not isinstance(item, PricedPlanItem):
            return (f"plan.items.{index}: give the outcomes the item meets, the provision (from the council's "
                    "rate card, or other with a description), the units a week and the unit cost")
        for outcome in item.outcomes:
            if outcome.value not in assessed:
                return (
                    f"plan.items: {outcome.value} is not an assessed need of this case; "
                    f"each item must meet a need from the assessment ({', '.join(assessed)})"
                )
    for index, need in enumerate(payload.unmet_needs):
        if isinstance(need, str):
            return (f"unmet_needs.{index}: give the outcome, the provision that was wanted (a code from the "
                    "council's rate card, or other), the units a week if known, and the words; a plain note "
                    f"({need[:60]!r}) is no longer accepted")
    return None


def _costed_counter_proposal(state: CaseState, payload: CounterProposal) -> str | None:
    if not isinstance(payload.proposal, CostedProposal):
        return ("proposal.justifications: each justification gives the outcome, the provision, the units a week, "
                "the unit cost and the reason (the free-text form is no longer accepted)")
    if state.plan is not None and not state.plan.priced:
        return "the plan was written before plans were priced: request changes so the plan is priced first"
    if state.assessment is not None and not state.assessment.support:
        return "the assessment records no support per need, so a lower amount cannot be checked against it"
    return None


def _cut_at_review(state: CaseState) -> str | None:
    """CSSG 13.32; R v Islington ex p McMillan: a review may lower a budget only on a changed
    assessment of need, or if the lower amount passes the same sufficiency check."""
    before, plan = state.personal_budget, state.plan
    if before is None or plan is None or plan.weekly_total >= before.weekly_cost:
        return None
    if state.reviews and state.reviews[-1].assessment_changed:
        return None
    return (
        f"the plan lowers the budget from {before.weekly_cost:.2f} to {plan.weekly_total:.2f} a week, but the "
        "review recorded no change in assessed need: record the changed assessment at the review, or keep "
        "the plan at the current amount and counter-propose the lower one, so it is checked need by need "
        "against the council's rates"
    )


def _savings(state: CaseState, payload: BaseModel, now: datetime) -> str | None:
    """An underspend cannot exceed what the council paid since the last review; savings spent
    cannot exceed the banked balance (issue 15; s31-33 direct payments)."""
    if isinstance(payload, ReviewOutcome) and payload.underspend > 0:
        paid = payments_since_last_review(state, now.date())
        if payload.underspend > paid:
            return (f"underspend: {payload.underspend:.2f} is more than the council paid since the last "
                    f"review ({paid:.2f}); an underspend cannot exceed what was paid in")
    if isinstance(payload, SavingsRequest) and payload.amount > state.banked_underspend:
        return (f"amount: {payload.amount:.2f} is more than the banked balance "
                f"({state.banked_underspend:.2f})")
    return None


def _step_rules(state: CaseState, step: str, payload: BaseModel, now: datetime) -> str | None:
    if step == "approve":
        return _cut_at_review(state)
    refused = _savings(state, payload, now)
    if refused:
        return refused
    if isinstance(payload, Verification):
        return _assessed_support(payload)
    if isinstance(payload, PlanSubmission):
        refused = _priced_plan(state, payload)
        if refused:
            return refused
    if isinstance(payload, CounterProposal):
        refused = _costed_counter_proposal(state, payload)
        if refused:
            return refused
    plan = state.plan
    if isinstance(payload, CounterProposal) and plan and payload.proposal.weekly_amount >= (
        plan.weekly_total
    ):
        return (
            f"proposal.weekly_amount: {payload.proposal.weekly_amount:.2f} is not lower than "
            f"the plan's {plan.weekly_total:.2f}; approve the plan instead"
        )
    if step == "appeal" and state.counter_proposal and now > state.counter_proposal.appeal_by:
        return f"the appeal window closed on {state.counter_proposal.appeal_by:%Y-%m-%d}"
    if isinstance(payload, AppealDecision) and payload.outcome == "part_uphold":
        low = state.counter_proposal.proposal.weekly_amount if state.counter_proposal else None
        high = state.plan.weekly_total if state.plan else None
        amount = payload.weekly_amount
        if amount is not None and low is not None and high is not None and not low < amount < high:
            return (
                f"weekly_amount: a part-upheld appeal sets an amount above the counter-proposal "
                f"({low:.2f}) and below the plan ({high:.2f}); {amount:.2f} is not"
            )
    return None


def assessed_outcomes(state: CaseState) -> list[str]:
    """Needs now and predicted over 12 months (verified), which plan items and proposals must meet."""
    if state.assessment is None:
        return []
    found: list[str] = []
    for needs in (state.assessment.needs, state.assessment.predicted_needs):
        for outcome in needs.outcomes if needs else {}:
            if outcome.value not in found:
                found.append(outcome.value)
    return found
