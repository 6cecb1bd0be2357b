"""Care Act 2014 ss9-27: one case, from intake to review, as a durable Temporal workflow.

The main coroutine keeps time (assessment due, appeal window, review dates); each human step is
an update whose validator refuses it with a reason (workflows/refusals.py) and whose handler moves
the case on. Decisions come from activities calling the rules (activities/decisions.py), never
from code here; every accepted step is written to the store by an activity (activities/records.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from workflows.index import case_index
    from workflows.models import (
        SYSTEM,
        Acceptance,
        Actor,
        AppealDecision,
        AppealRequest,
        AppealState,
        Approval,
        BankRequest,
        BankResult,
        BudgetStatement,
        CaseInput,
        CaseRecord,
        CaseState,
        ChangeRequest,
        CounterProposal,
        CounterProposalState,
        DecisionBatch,
        DecisionRecords,
        DecisionRequest,
        DraftPlan,
        LetterIssued,
        LetterRequest,
        NoticeRequest,
        PlanSubmission,
        Policy,
        PolicyDecision,
        PolicyRequest,
        PoolCommitment,
        ReablementEpisode,
        ReablementRecord,
        ReablementRequest,
        RecordResult,
        Refusal,
        ReviewDepthRequest,
        ReviewOutcome,
        ReviewRecord,
        ReviewRequest,
        SavingsDecisionRequest,
        SavingsRequest,
        SavingsUseRecord,
        SelfAssessment,
        SignOff,
        Stage,
        StepInput,
        StepLetters,
        StepResult,
        TimelineEvent,
        Verification,
        needs_met,
    )
    from workflows.refusals import parse_payload, readable, why_refused
    from workflows.savings import saving_reviews

STAGE = SearchAttributeKey.for_keyword("CaseStage")
COUNCIL = SearchAttributeKey.for_keyword("CouncilCode")
DUE_AT = SearchAttributeKey.for_datetime("DueAt")
OVERDUE = SearchAttributeKey.for_bool("Overdue")

DECISION_TIMEOUT = timedelta(seconds=10)
RECORD_TIMEOUT = timedelta(seconds=15)
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
LOCAL_ACTIVITIES = "local-activities"  # workflow.patched id: see _run_activity
STEP_EVENTS = "step-events"  # workflow.patched id: approval, acceptance, appeal decision recorded
SAVER_REVIEWS = "saver-reviews"  # workflow.patched id: a review asks the policy for a saver's lighter review
LETTERS = "letters"  # workflow.patched id: each decision's letter and the notices (issue 13)
LETTERS_WITH_RECORD = "letters-with-record"  # workflow.patched id: a step's letters in its record's activity
# workflow.patched id: a verification's decisions in one local activity, and a sign-off's own event
# written with the budget it leads to (two rounds of local activities per step, not three)
STEP_ROUNDS = "step-rounds"
# workflow.patched id asked once, as a run starts: a run started with this code has every change
# above, and its history holds one marker (and one TemporalChangeVersion upsert) for them all, not
# one per change, each an event the server writes and indexes. Runs started before ask each change.
ALL_CHANGES = "all-changes-2026-12"
RULE_BUNDLE_ERROR = "RuleBundleError"  # activities/decisions.py: the rules cannot decide
P = TypeVar("P", bound=BaseModel)


@workflow.defn(name="Case")
class CaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        if input.state is not None:
            self.state = input.state
        elif input.start is not None:
            start = input.start
            self.state = CaseState(
                case_id=workflow.info().workflow_id,
                council=start.council,
                person=start.person,
                person_user=start.person_user,
                opened_by=start.opened_by,
                assigned_to=start.assigned_to,
                area=start.area,
                opened_at=workflow.now(),
            )
        else:
            raise ApplicationError("a case starts from intake or carried state", type="CaseInvalid")
        self._annual_review = False
        self._attention = ""  # a RuleBundleError met by the step now running
        self._held: list[CaseRecord] = []  # records the step writes with its next (STEP_ROUNDS)
        self._all_changes = False  # ALL_CHANGES, asked as the run starts

    # --- the process -----------------------------------------------------------------------

    @workflow.run
    async def run(self, input: CaseInput) -> CaseState:
        self._all_changes = workflow.patched(ALL_CHANGES)
        if input.state is None:
            await self._holding_steps("intake", self.intake)
        else:
            self._upsert_search_attributes()
        while self.state.stage is not Stage.closed:
            await self.wait_for_next_step_or_deadline()
            if self._annual_review or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() and self.state.pending_step is None
                )
                self.state.generation += 1
                workflow.continue_as_new(CaseInput(state=self.state))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state

    async def intake(self) -> None:
        """s9: the appearance of need opens the case and starts the assessment clock."""
        self.state.policy = await self._activity(
            "council_policy",
            PolicyRequest(council=self.state.council, on=self._today()),
            Policy,
        )
        opener = Actor(id=self.state.opened_by or SYSTEM.id, role=SYSTEM.role)
        self._event("case.opened", opener, f"Case opened for council {self.state.council}")
        self._enter(Stage.assessment, self._days(self.policy.assessment_due_days), "assessment")
        await self._record(
            "case.opened",
            opener,
            {"council": self.state.council, "person_user": self.state.person_user},
            opening=True,
        )

    async def wait_for_next_step_or_deadline(self) -> None:
        """Wait for a step to move the case on; when the due date passes first, act on it."""
        stage = self.state.stage

        def moved() -> bool:
            return self.state.stage is not stage and self.state.pending_step is None

        due = self.state.due_at
        if due is None or self.state.overdue:
            await workflow.wait_condition(moved)
            return
        try:
            await workflow.wait_condition(moved, timeout=max(due - workflow.now(), timedelta(0)))
        except TimeoutError:
            if self.state.stage is stage and self.state.pending_step is None:
                await self.deadline_passed(stage)

    async def deadline_passed(self, stage: Stage) -> None:
        if stage is Stage.counter_proposal:
            await self._holding_steps("appeal_window", self.counter_proposal_stands)
        elif stage is Stage.active_budget:
            await self._holding_steps("review_due", self.open_scheduled_review)
        else:
            await self._holding_steps("overdue", self.mark_overdue)

    async def mark_overdue(self) -> None:
        self.state.overdue = True
        self._upsert_search_attributes()
        self._event("deadline.missed", SYSTEM, f"{self.state.due_for} was due {self._due_text()}")
        await self._record("deadline.missed", SYSTEM, {"due_for": self.state.due_for})
        await self._notice("case_overdue")

    async def counter_proposal_stands(self) -> None:
        """No appeal within the council's window: the lower amount stands."""
        assert self.state.counter_proposal is not None
        self.state.counter_proposal.outcome = "stood"
        self._event("counter_proposal.stood", SYSTEM, "The appeal window closed with no appeal")
        await self.activate_budget(self.state.counter_proposal.proposal.weekly_amount, SYSTEM)

    async def open_scheduled_review(self) -> None:
        """s27, CSSG 13.32: light-touch 6-8 weeks after a new plan, full review every 12 months."""
        if self.state.light_touch_due is not None:
            kind, due = "light_touch", self.state.light_touch_due
        else:
            assert self.state.full_review_due is not None
            # Issue 15: a saver whose outcomes are met earns a light-touch yearly review, by policy.
            kind = "earned_light_touch" if self.state.earned_light_touch else "full"
            due = self.state.full_review_due
            self._annual_review = True
        await self.open_review(kind, _end_of(due), SYSTEM, "")
        await self._notice("review_due")

    async def open_review(self, kind: Any, due: datetime, actor: Actor, reasons: str) -> None:
        self.state.reviews.append(ReviewRecord(kind=kind, opened=self._today(), notes=reasons))
        self._event(f"review.opened.{kind}", actor, reasons or f"{kind} review is due")
        self._enter(Stage.review, due, f"{kind} review")
        await self._record("review.opened", actor, {"kind": kind, "reasons": reasons})

    # --- assessment (s9), eligibility (s13), financial assessment (s14, s17), indicative budget

    @workflow.update
    async def self_assess(self, request: StepInput) -> StepResult:
        return await self._step("self_assess", request, SelfAssessment, self._self_assess)

    async def _self_assess(self, actor: Actor, answers: SelfAssessment) -> None:
        self.state.self_assessment = answers
        self._event("assessment.self_assessed", actor, "The person assessed their own needs")
        await self._record("assessment.self_assessed", actor, answers.model_dump(mode="json"))

    @workflow.update
    async def verify_assessment(self, request: StepInput) -> StepResult:
        return await self._step("verify_assessment", request, Verification, self._verify)

    async def _verify(self, actor: Actor, assessment: Verification) -> None:
        self.state.assessment, self.state.assessed_by = assessment, actor
        self._event("assessment.verified", actor, assessment.notes or "Assessment verified")
        # Since STEP_ROUNDS the search attributes are set once, to the stage the step ends in:
        # not for each stage passed through, and not at all when a decision fails the step.
        together = _patched(STEP_ROUNDS)
        self._enter(Stage.eligibility, None, "", search=not together)
        facts = self._facts()
        if together:  # one round: charge and indicative budget only when the needs will be met
            decided = await self._decide_in_turn(("eligibility", "charge", "indicative-budget"), facts)
            eligibility = decided["eligibility"]
        else:
            eligibility = await self._decide("eligibility", facts)
        self._event("eligibility.decided", SYSTEM, _summary(eligibility))
        if not needs_met(eligibility["eligibility"]):
            # s13(5): written advice and information, and the case closes.
            self.state.advice = list(eligibility.get("explanation", []))
            self._enter(Stage.closed, None, "")
            await self._record("eligibility.not_eligible", actor, {}, ["eligibility"], letters=("eligibility",))
            return
        self._enter(Stage.financial_assessment, None, "", search=not together)
        if together:
            charge, budget = decided["charge"], decided["indicative-budget"]
        else:
            charge, budget = await asyncio.gather(
                self._decide("charge", facts), self._decide("indicative-budget", facts)
            )
        self._event("charge.decided", SYSTEM, _summary(charge))
        self._enter(Stage.indicative_budget, None, "", search=not together)
        self._event("indicative_budget.decided", SYSTEM, _summary(budget))
        self._enter(Stage.support_planning, self._days(self.policy.support_plan_due_days), "plan")
        await self._record(
            "assessment.verified", actor, assessment.model_dump(mode="json"),
            ["eligibility", "charge", "indicative-budget"],
            letters=("eligibility", "financial_assessment", "indicative_budget"),
        )

    # --- support planning (s24, s25) and sign-off (s24-26) -----------------------------------

    @workflow.update
    async def submit_plan(self, request: StepInput) -> StepResult:
        return await self._step("submit_plan", request, PlanSubmission, self._submit_plan)

    async def _submit_plan(self, actor: Actor, submission: PlanSubmission) -> None:
        version = self.state.draft.version + 1 if self.state.draft else 1
        self.state.draft = DraftPlan(
            plan=submission.plan, unmet_needs=submission.unmet_needs, drafted_by=actor,
            version=version,
        )
        self.state.sign_off = None
        self._event("plan.submitted", actor, f"Plan v{version}: {submission.plan.weekly_total:.2f}/wk")
        self._enter(Stage.sign_off, self._days(self.policy.sign_off_due_days), "sign-off")
        await self._record("plan.submitted", actor, submission.model_dump(mode="json"))

    @workflow.update
    async def approve(self, request: StepInput) -> StepResult:
        return await self._step("approve", request, Approval, self._approve)

    async def _approve(self, actor: Actor, approval: Approval) -> None:
        assert self.state.plan is not None
        self.state.sign_off = SignOff(outcome="approved", by=actor, reasons=approval.note)
        self._event("plan.approved", actor, approval.note or "Plan approved")
        await self._record_decision_step("plan.approved", actor, {
            "note": approval.note, "weekly_amount": f"{self.state.plan.weekly_total:.2f}"})
        await self.activate_budget(self.state.plan.weekly_total, actor)

    @workflow.update
    async def request_changes(self, request: StepInput) -> StepResult:
        return await self._step("request_changes", request, ChangeRequest, self._request_changes)

    async def _request_changes(self, actor: Actor, change: ChangeRequest) -> None:
        sign_off = SignOff(outcome="changes_requested", by=actor, reasons=change.reasons)
        self.state.sign_off = sign_off
        self.state.change_requests.append(sign_off)
        self._event("plan.changes_requested", actor, change.reasons)
        self._enter(Stage.support_planning, self._days(self.policy.support_plan_due_days), "plan")
        await self._record("plan.changes_requested", actor, change.model_dump(mode="json"))

    # --- counter-proposal (s26, CSSG 11.24) and appeal ---------------------------------------

    @workflow.update
    async def counter_propose(self, request: StepInput) -> StepResult:
        return await self._step("counter_propose", request, CounterProposal, self._counter_propose)

    async def _counter_propose(self, actor: Actor, counter: CounterProposal) -> None:
        assert self.state.plan is not None and self.state.assessment is not None
        check = await self._decide(
            "counter-proposal",
            {
                "needs": [n.model_dump(mode="json") for n in self.state.assessment.support],
                "plan": self.state.plan.model_dump(mode="json"),
                "proposal": counter.proposal.model_dump(mode="json"),
            },
        )
        result = check["counter_proposal"]
        if not result["valid"]:
            # Records from before issue 9 list failures as sentences; since, as {outcome, code, message}.
            failures = [f if isinstance(f, str) else f["message"] for f in result["failures"]]
            reason = "the lower amount is not justified: " + "; ".join(failures)
            await self._record(
                "counter_proposal.refused", actor, {"reason": reason}, ["counter-proposal"],
                key=f"{self.state.case_id}:refused:{workflow.uuid4()}",
            )
            raise ApplicationError(reason, result["failures"], type="CounterProposalRefused")
        appeal_by = _end_of(self._today() + timedelta(days=self.policy.appeal_window_days))
        self.state.counter_proposal = CounterProposalState(
            proposal=counter.proposal, by=actor, valid=True, appeal_by=appeal_by
        )
        self.state.sign_off = SignOff(outcome="counter_proposed", by=actor, reasons=counter.note)
        self._event(
            "counter_proposal.made", actor,
            f"{counter.proposal.weekly_amount:.2f}/wk instead of {self.state.plan.weekly_total:.2f}",
        )
        self._enter(Stage.counter_proposal, appeal_by, "appeal window")
        await self._record(
            "counter_proposal.made", actor, counter.model_dump(mode="json"), ["counter-proposal"],
            letters=("counter_proposal",),
        )

    @workflow.update
    async def accept_counter_proposal(self, request: StepInput) -> StepResult:
        return await self._step("accept_counter_proposal", request, Acceptance, self._accept)

    async def _accept(self, actor: Actor, acceptance: Acceptance) -> None:
        assert self.state.counter_proposal is not None
        self.state.counter_proposal.outcome = "accepted"
        self._event("counter_proposal.accepted", actor, acceptance.note or "Accepted")
        await self._record_decision_step("counter_proposal.accepted", actor, {
            "note": acceptance.note,
            "weekly_amount": f"{self.state.counter_proposal.proposal.weekly_amount:.2f}"})
        await self.activate_budget(self.state.counter_proposal.proposal.weekly_amount, actor)

    @workflow.update
    async def appeal(self, request: StepInput) -> StepResult:
        return await self._step("appeal", request, AppealRequest, self._appeal)

    async def _appeal(self, actor: Actor, appeal: AppealRequest) -> None:
        assert self.state.counter_proposal is not None
        self.state.counter_proposal.outcome = "appealed"
        self.state.appeal = AppealState(reasons=appeal.reasons, by=actor)
        self._event("appeal.made", actor, appeal.reasons)
        self._enter(Stage.appeal, None, "appeal decision")
        await self._record("appeal.made", actor, appeal.model_dump(mode="json"))

    @workflow.update
    async def decide_appeal(self, request: StepInput) -> StepResult:
        return await self._step("decide_appeal", request, AppealDecision, self._decide_appeal)

    async def _decide_appeal(self, actor: Actor, decision: AppealDecision) -> None:
        assert self.state.appeal and self.state.counter_proposal and self.state.plan
        amount = {
            "uphold": self.state.plan.weekly_total,
            "part_uphold": decision.weekly_amount,
            "dismiss": self.state.counter_proposal.proposal.weekly_amount,
        }[decision.outcome]
        assert amount is not None
        self.state.appeal.outcome = decision.outcome
        self.state.appeal.decided_by = actor
        self.state.appeal.decision_reasons = decision.reasons
        self.state.appeal.weekly_amount = amount
        self._event(f"appeal.{decision.outcome}", actor, decision.reasons)
        await self._record_decision_step(f"appeal.{decision.outcome}", actor, {
            "outcome": decision.outcome, "reasons": decision.reasons, "weekly_amount": f"{amount:.2f}"})
        # The outcome also rides on the budget's ledger row (no new activity: histories replay).
        await self.activate_budget(
            amount, actor, {"appeal_outcome": decision.outcome, "appeal_reasons": decision.reasons}
        )
        await self._letters("appeal_decision")

    # --- the personal budget (s26) -----------------------------------------------------------

    async def activate_budget(
        self, weekly_cost: Decimal, actor: Actor, because: dict[str, Any] | None = None
    ) -> None:
        """s26(1): the cost, the person's charge on the financial assessment, the council's share."""
        facts = self._facts()
        facts["care"] = {"weekly_cost": f"{weekly_cost:.2f}"}
        record = await self._decide("charge", facts)
        charge = record["charge"]
        try:
            statement = BudgetStatement(
                weekly_cost=charge["weekly_cost"], person_charge=charge["weekly_charge"],
                council_share=charge["council_pays"], starts=self._today(),
                charge_decision=record["rules"]["bundle"],
            )
        except ValidationError as exc:
            raise ApplicationError(readable(exc), type="BudgetStatementInvalid") from None
        policy = self.policy
        self.state.personal_budget = statement
        self.state.plan_started = self._today()
        self.state.light_touch_due = self._today() + timedelta(policy.light_touch_review_max_days)
        self.state.full_review_due = self._today() + timedelta(policy.full_review_interval_days)
        self._event(
            "budget.active", actor,
            f"Personal budget {statement.weekly_cost:.2f}/wk: person pays "
            f"{statement.person_charge:.2f}, council pays {statement.council_share:.2f}",
        )
        self._enter(Stage.active_budget, self._next_review_opens(), "next review")
        await self._record(
            "budget.active", actor, {**statement.model_dump(mode="json"), **(because or {})},
            ["charge"], letters=("budget_statement",),
        )

    def _next_review_opens(self) -> datetime:
        policy = self.policy
        if self.state.light_touch_due is not None:
            window = policy.light_touch_review_max_days - policy.light_touch_review_min_days
            return _start_of(self.state.light_touch_due - timedelta(days=window))
        assert self.state.full_review_due is not None
        return _start_of(self.state.full_review_due - timedelta(days=policy.assessment_due_days))

    # --- reviews (s27) -----------------------------------------------------------------------

    @workflow.update
    async def request_review(self, request: StepInput) -> StepResult:
        return await self._step("request_review", request, ReviewRequest, self._request_review)

    async def _request_review(self, actor: Actor, review: ReviewRequest) -> None:
        due = self._days(self.policy.assessment_due_days)
        await self.open_review("requested", due, actor, review.reasons)

    @workflow.update
    async def complete_review(self, request: StepInput) -> StepResult:
        return await self._step("complete_review", request, ReviewOutcome, self._complete_review)

    async def _complete_review(self, actor: Actor, outcome: ReviewOutcome) -> None:
        review = self.state.reviews[-1]
        banked = Decimal(0)
        if outcome.underspend > 0 and self.state.personal_budget is not None:
            result = await self._activity(
                "bank_underspend",
                BankRequest(
                    underspend=outcome.underspend,
                    council_share_weekly=self.state.personal_budget.council_share,
                    bank_share=self.policy.underspend_bank_share,
                    already_banked=self.state.banked_underspend,
                ),
                BankResult,
            )
            banked = result.banked
            self._event("underspend.banked", SYSTEM, result.explanation)
        self.state.banked_underspend += banked
        review.completed, review.by, review.outcome = self._today(), actor, outcome.outcome
        review.underspend, review.banked, review.notes = outcome.underspend, banked, outcome.notes
        review.outcomes_met = outcome.outcomes_met
        if (banked > 0 or self.state.earned_light_touch) and _patched(SAVER_REVIEWS):
            await self._saver_review_depth()
        if outcome.support is not None and self.state.assessment is not None:
            # CSSG 13.32: the changed assessment is what may justify a lower budget after review.
            self.state.assessment = self.state.assessment.model_copy(update={"support": outcome.support})
            review.assessment_changed = True
            self._event("review.assessment_changed", actor, "The support each need requires was reassessed")
        if review.kind == "light_touch":
            self.state.light_touch_due = None
        if review.kind in ("full", "earned_light_touch"):
            full = self._today() + timedelta(days=self.policy.full_review_interval_days)
            self.state.full_review_due = full
        self._event(f"review.completed.{review.kind}", actor, outcome.notes or outcome.outcome)
        if outcome.outcome == "revise_plan":
            self._enter(Stage.support_planning, self._days(self.policy.support_plan_due_days), "plan")
        else:
            self._enter(Stage.active_budget, self._next_review_opens(), "next review")
        payload = outcome.model_dump(mode="json")
        if _patched(STEP_EVENTS):  # s27 / CSSG 11.41: what was banked belongs on the record
            payload.update(banked=f"{banked:.2f}", banked_total=f"{self.state.banked_underspend:.2f}")
        await self._record("review.completed", actor, payload, letters=("review_outcome",))

    async def _saver_review_depth(self) -> None:
        """Issue 15: savings with outcomes met earn, by the council's policy, a light-touch yearly
        review and fewer direct-payment checks; never beyond a review every 12 months (s27)."""
        depth = await self._activity(
            "review_depth",
            ReviewDepthRequest(council=self.state.council, on=self._today(),
                               reviews=saving_reviews(self.state)),
            PolicyDecision,
        )
        self.state.earned_light_touch = depth.light_touch
        self.state.direct_payment_check_days = depth.direct_payment_check_days
        self._event("review.depth_decided", SYSTEM, "; ".join(depth.reasons))

    # --- savings that earn trust, and reablement in the open (issue 15) ---------------------

    @workflow.update
    async def use_savings(self, request: StepInput) -> StepResult:
        return await self._step("use_savings", request, SavingsRequest, self._use_savings)

    async def _use_savings(self, actor: Actor, request: SavingsRequest) -> None:
        decision = await self._activity(
            "savings_use",
            SavingsDecisionRequest(council=self.state.council, on=self._today(), request=request,
                                   balance=self.state.banked_underspend),
            PolicyDecision,
        )
        self.state.savings_uses.append(SavingsUseRecord(
            request=request, by=actor, on=self._today(), approved=decision.approved,
            reasons=decision.reasons,
        ))
        if decision.approved:
            self.state.banked_underspend -= request.amount
        action = "savings.approved" if decision.approved else "savings.refused"
        self._event(action, actor, "; ".join(decision.reasons))
        await self._record(action, actor, {
            **request.model_dump(mode="json"), "reasons": decision.reasons,
            "balance": f"{self.state.banked_underspend:.2f}",
        })

    @workflow.update
    async def record_reablement(self, request: StepInput) -> StepResult:
        return await self._step("record_reablement", request, ReablementEpisode, self._reablement)

    async def _reablement(self, actor: Actor, episode: ReablementEpisode) -> None:
        """SI 2014/2672 reg 3: free up to six weeks; the cost is the council's, shown to the person."""
        costing = await self._activity(
            "reablement_cost",
            ReablementRequest(council=self.state.council, on=self._today(), weeks=episode.weeks,
                              weekly_cost=episode.weekly_cost),
            PolicyDecision,
        )
        self.state.reablement.append(ReablementRecord(
            episode=episode, by=actor, cost=costing.cost, free_weeks=costing.free_weeks,
            chargeable_weeks=costing.chargeable_weeks, reasons=costing.reasons,
        ))
        self._event("reablement.recorded", actor,
                    f"{episode.service.replace('_', ' ').capitalize()} for {episode.weeks} week(s) "
                    f"cost the council {costing.cost:.2f}; " + "; ".join(costing.reasons))
        await self._record("reablement.recorded", actor, {
            **episode.model_dump(mode="json"), "cost": f"{costing.cost:.2f}",
            "free_weeks": costing.free_weeks, "chargeable_weeks": costing.chargeable_weeks,
        })

    @workflow.signal
    def pool_commitment(self, commitment: PoolCommitment) -> None:
        """A pool this budget holder joined or is leaving (workflows/pool.py): the case keeps the
        commitment, so their own budget shows what is pooled and what stays in their control."""
        kept = [c for c in self.state.pool_commitments if c.pool_id != commitment.pool_id]
        self.state.pool_commitments = [*kept, commitment]

    # --- refusals and queries ----------------------------------------------------------------

    @workflow.signal
    async def refused(self, refusal: Refusal) -> None:
        """A step refused by a validator or by the service: written down for compliance."""
        record = CaseRecord(
            event_key=f"{self.state.case_id}:refused:{refusal.request_id}",
            case_id=self.state.case_id, actor=refusal.actor, action="update.refused",
            payload={"step": refusal.step, "reason": refusal.reason,
                     "stage": self.state.stage.value},
        )
        await workflow.execute_activity(
            "record_refusal", record, start_to_close_timeout=RECORD_TIMEOUT, retry_policy=RETRY
        )

    @workflow.query
    def describe(self) -> CaseState:
        return self.state

    @workflow.query
    def timeline(self) -> list[TimelineEvent]:
        return self.state.timeline

    # --- validators: one per update, all through why_refused -------------------------------

    def _refuse(self, step: str, request: StepInput) -> None:
        reason = why_refused(self.state, step, request, workflow.now())
        if reason is not None:
            raise ApplicationError(reason, type="StepRefused")

    @self_assess.validator
    def _v_self_assess(self, request: StepInput) -> None:
        self._refuse("self_assess", request)

    @verify_assessment.validator
    def _v_verify_assessment(self, request: StepInput) -> None:
        self._refuse("verify_assessment", request)

    @submit_plan.validator
    def _v_submit_plan(self, request: StepInput) -> None:
        self._refuse("submit_plan", request)

    @approve.validator
    def _v_approve(self, request: StepInput) -> None:
        self._refuse("approve", request)

    @request_changes.validator
    def _v_request_changes(self, request: StepInput) -> None:
        self._refuse("request_changes", request)

    @counter_propose.validator
    def _v_counter_propose(self, request: StepInput) -> None:
        self._refuse("counter_propose", request)

    @accept_counter_proposal.validator
    def _v_accept_counter_proposal(self, request: StepInput) -> None:
        self._refuse("accept_counter_proposal", request)

    @appeal.validator
    def _v_appeal(self, request: StepInput) -> None:
        self._refuse("appeal", request)

    @decide_appeal.validator
    def _v_decide_appeal(self, request: StepInput) -> None:
        self._refuse("decide_appeal", request)

    @request_review.validator
    def _v_request_review(self, request: StepInput) -> None:
        self._refuse("request_review", request)

    @complete_review.validator
    def _v_complete_review(self, request: StepInput) -> None:
        self._refuse("complete_review", request)

    @use_savings.validator
    def _v_use_savings(self, request: StepInput) -> None:
        self._refuse("use_savings", request)

    @record_reablement.validator
    def _v_record_reablement(self, request: StepInput) -> None:
        self._refuse("record_reablement", request)

    # --- plumbing ----------------------------------------------------------------------------

    async def _step(
        self, step: str, request: StepInput, model: type[P],
        body: Callable[[Actor, P], Awaitable[None]],
    ) -> StepResult:
        """Run one accepted step; if it fails part-way, the case is as it was before. Returns
        where the case stands (callers wanting the whole state query `describe`)."""
        payload = parse_payload(step, request)
        assert isinstance(payload, model)
        before = self.state.model_copy(deep=True)
        self.state.pending_step = step
        try:
            await body(request.actor, payload)
            if self._held:  # not expected: every held record goes with the step's next record
                last = self._held.pop()
                await _run_activity("record_step", self._with_held(last), None, RECORD_TIMEOUT)
        except BaseException:
            self._held = []
            self.state = before
            self.state.needs_attention = self._attention or before.needs_attention
            raise
        self.state.pending_step = None
        state = self.state
        return StepResult(
            case_id=state.case_id, stage=state.stage, due_at=state.due_at, due_for=state.due_for,
            overdue=state.overdue, pending_step=state.pending_step,
            needs_attention=state.needs_attention,
        )

    async def _holding_steps(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        """Intake, or a deadline acting on the case: human steps wait until it has finished.

        A deadline whose decision the rules cannot make leaves the case waiting for a person
        (marked overdue, so the deadline does not fire again at once) instead of failing it."""
        self.state.pending_step = name
        before = self.state.model_copy(deep=True)
        try:
            await body()
        except ApplicationError as exc:
            if exc.type != RULE_BUNDLE_ERROR or name == "intake":
                raise
            self.state = before
            self.state.needs_attention, self.state.overdue = str(exc), True
        finally:
            self.state.pending_step = None

    @property
    def policy(self) -> Policy:
        assert self.state.policy is not None
        return self.state.policy

    def _today(self) -> date:
        return workflow.now().date()

    def _days(self, days: int) -> datetime:
        return _end_of(self._today() + timedelta(days=days))

    def _due_text(self) -> str:
        return f"{self.state.due_at:%Y-%m-%d}" if self.state.due_at else "-"

    def _facts(self) -> dict[str, Any]:
        """The case facts the decision contract reads (carebudget.decisions.inputs.CaseFacts)."""
        assessment = self.state.assessment
        assert assessment is not None
        facts: dict[str, Any] = {
            "person": self.state.person.decision_person(),
            "needs": assessment.needs.model_dump(mode="json"),
            "finances": assessment.finances.model_dump(mode="json"),
            "care": assessment.care.model_dump(mode="json"),
        }
        if assessment.predicted_needs is not None:
            facts["predicted_needs"] = assessment.predicted_needs.model_dump(mode="json")
        return facts

    async def _decide(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = DecisionRequest(
            kind=kind, council=self.state.council, on=self._today(), payload=payload
        )
        try:
            record: dict[str, Any] = await self._activity("decide", request, dict)
        except ApplicationError as exc:
            if exc.type == RULE_BUNDLE_ERROR:
                # Permanent until the rules are corrected: the step fails, the case shows why.
                self._attention = str(exc)
            raise
        self.state.decisions[kind] = record
        self.state.needs_attention = self._attention = ""
        return record

    async def _decide_in_turn(
        self, kinds: tuple[str, ...], payload: dict[str, Any]
    ) -> dict[str, dict[str, Any]]:
        """`kinds` decided in turn by one local activity, stopping after an eligibility decision
        whose needs will not be met; the records by kind, kept as `_decide` keeps each."""
        batch = DecisionBatch(
            requests=[DecisionRequest(kind=kind, council=self.state.council, on=self._today(),
                                      payload=payload) for kind in kinds],
            stop_unless_needs_met=True,
        )
        try:
            result: DecisionRecords = await self._activity("decide_in_turn", batch, DecisionRecords)
        except ApplicationError as exc:
            if exc.type == RULE_BUNDLE_ERROR:
                self._attention = str(exc)
            raise
        decided = dict(zip(kinds, result.records, strict=False))
        self.state.decisions.update(decided)
        self.state.needs_attention = self._attention = ""
        return decided

    async def _activity(self, name: str, arg: BaseModel, result_type: type[Any]) -> Any:
        try:
            return await _run_activity(name, arg, result_type, DECISION_TIMEOUT)
        except ActivityError as exc:
            cause = exc.cause
            message = str(cause) if cause else str(exc)
            kind = cause.type if isinstance(cause, ApplicationError) else None
            raise ApplicationError(message, type=kind or "ActivityFailed") from None

    def _event(self, action: str, actor: Actor, summary: str) -> None:
        self.state.timeline.append(
            TimelineEvent(
                seq=len(self.state.timeline) + 1, at=workflow.now(), stage=self.state.stage,
                action=action, actor=actor, summary=summary,
            )
        )

    def _enter(self, stage: Stage, due: datetime | None, due_for: str, search: bool = True) -> None:
        self.state.stage, self.state.due_at, self.state.due_for = stage, due, due_for
        self.state.overdue = False
        if search:
            self._upsert_search_attributes()

    def _upsert_search_attributes(self) -> None:
        due = self.state.due_at
        updates: list[SearchAttributeUpdate[Any]] = [
            STAGE.value_set(self.state.stage.value),
            COUNCIL.value_set(self.state.council),
            OVERDUE.value_set(self.state.overdue),
            DUE_AT.value_set(due) if due else DUE_AT.value_unset(),
        ]
        workflow.upsert_search_attributes(updates)

    async def _letters(self, *kinds: str) -> None:
        """s13(2), s26: each decision's letter, issued after its record is written. A letter the
        council's templates cannot produce leaves the step done and says why on the timeline.
        Cases whose history predates letters replay without them."""
        if not _patched(LETTERS):
            return
        state = self.state
        case = state.model_dump(mode="json", exclude={"timeline"})
        requests = [
            LetterRequest(key=f"{state.case_id}:{len(state.timeline)}:letter.{kind}",
                          case_id=state.case_id, kind=kind, on=self._today(), case=case)
            for kind in kinds
        ]
        results = await asyncio.gather(
            *(_run_activity("issue_letter", r, LetterIssued, RECORD_TIMEOUT) for r in requests),
            return_exceptions=True,
        )
        for request, result in zip(requests, results, strict=True):
            if isinstance(result, ActivityError):
                cause = result.cause or result
                self._event("letter.failed", SYSTEM, f"The {request.kind.replace('_', ' ')} letter "
                            f"could not be produced: {cause}")
            elif isinstance(result, BaseException):
                raise result

    async def _notice(self, kind: Literal["review_due", "case_overdue"]) -> None:
        """A notice the case's clock raises: review due (the person and their worker), overdue
        (the worker). Queued once per event key; sent from the outbox."""
        if not _patched(LETTERS):
            return
        state = self.state
        request = NoticeRequest(
            key=f"{state.case_id}:{len(state.timeline)}:notice.{kind}", case_id=state.case_id,
            kind=kind, due_for=state.due_for, due=state.due_at.date() if state.due_at else None,
            person_user=state.person_user,
        )
        await _run_activity("issue_notice", request, None, RECORD_TIMEOUT)

    async def _record_decision_step(self, action: str, actor: Actor, payload: dict[str, Any]) -> None:
        """A sign-off decision's own ledger event (who, why, how much); cases started before
        issue 11 recorded only the budget it led to. Since STEP_ROUNDS it is written by the same
        activity as that budget's record, after the charge decision: one round fewer, and no
        sign-off on the ledger for a step that failed."""
        if _patched(STEP_EVENTS):
            if _patched(STEP_ROUNDS):
                self._held.append(self._case_record(action, actor, payload, None, False, ""))
            else:
                await self._record(action, actor, payload)

    async def _record(
        self, action: str, actor: Actor, payload: dict[str, Any],
        decision_kinds: list[str] | None = None, opening: bool = False, key: str = "",
        letters: tuple[str, ...] = (),
    ) -> None:
        """Write the step to the store, with the decisions it made and the case-list row, then
        issue the `letters` its decisions produce: in the same local activity since
        LETTERS_WITH_RECORD (one activation, and the case sent once); before it, each letter was
        an activity of its own after the record, which is how those histories replay."""
        if letters and _patched(LETTERS) and _patched(LETTERS_WITH_RECORD):
            await self._record_with_letters(action, actor, payload, decision_kinds, letters)
            return
        await self._write_record(action, actor, payload, decision_kinds, opening, key)
        if letters:
            await self._letters(*letters)

    async def _record_with_letters(
        self, action: str, actor: Actor, payload: dict[str, Any], decision_kinds: list[str] | None,
        letters: tuple[str, ...],
    ) -> None:
        state = self.state
        record = self._with_held(self._case_record(action, actor, payload, decision_kinds, False, ""))
        # The letters' keys are those _letters gives: the event number after the record.
        record.letters = StepLetters(
            kinds=list(letters), key_prefix=f"{state.case_id}:{len(state.timeline)}:",
            on=self._today(), case=state.model_dump(mode="json", exclude={"timeline"}),
        )
        result: RecordResult = await _run_activity("record_step", record, RecordResult, RECORD_TIMEOUT)
        for kind, why in result.letters_failed.items():
            self._event("letter.failed", SYSTEM,
                        f"The {kind.replace('_', ' ')} letter could not be produced: {why}")

    async def _write_record(
        self, action: str, actor: Actor, payload: dict[str, Any],
        decision_kinds: list[str] | None = None, opening: bool = False, key: str = "",
    ) -> None:
        record = self._with_held(self._case_record(action, actor, payload, decision_kinds, opening, key))
        await _run_activity("record_step", record, None, RECORD_TIMEOUT)

    def _case_record(
        self, action: str, actor: Actor, payload: dict[str, Any], decision_kinds: list[str] | None,
        opening: bool, key: str,
    ) -> CaseRecord:
        state = self.state
        index = case_index(state, opening)
        personal = {"name": state.person.name} if opening else None
        record = CaseRecord(
            event_key=key or f"{state.case_id}:{len(state.timeline)}:{action}",
            case_id=state.case_id, actor=actor, action=action, payload=payload,
            decisions={k: state.decisions[k] for k in decision_kinds or []},
            index=index, personal=personal,
        )
        return record

    def _with_held(self, record: CaseRecord) -> CaseRecord:
        """`record` with the step's held records, to be written first by the same activity."""
        record.earlier, self._held = self._held, []
        return record


def _patched(change: str) -> bool:
    """`workflow.patched(change)`, but without asking in a run started since ALL_CHANGES, which
    has every change."""
    if getattr(workflow.instance(), "_all_changes", False):
        return True
    return workflow.patched(change)


async def _run_activity(
    name: str, arg: BaseModel, result_type: type[Any] | None, timeout: timedelta
) -> Any:
    """Decisions and records run as local activities, in the worker that holds the case: one
    server round trip per step instead of one per activity (update latency). Cases whose history
    predates the change keep running them as ordinary activities."""
    if _patched(LOCAL_ACTIVITIES):
        return await workflow.execute_local_activity(
            name, arg, result_type=result_type, start_to_close_timeout=timeout,
            retry_policy=RETRY,
        )
    return await workflow.execute_activity(
        name, arg, result_type=result_type, start_to_close_timeout=timeout, retry_policy=RETRY
    )


def _summary(record: dict[str, Any]) -> str:
    explanation = record.get("explanation") or []
    return str(explanation[-1]) if explanation else str(record.get("kind", ""))


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)
