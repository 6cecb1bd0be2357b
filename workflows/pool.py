"""Community fund holding (issue 15): a pool of budget holders as one long-running workflow.

Members join with a share of their personal budget (s26) checked so their own needs stay met at
the council's rates (CSSG 11.24-11.25), keep control of the rest, and leave with their share on
notice. A share of each week's pooled money goes to an emergency fund drawn on only by the
members' decision; volunteer and family time is valued at the council's rate; the pool is
reviewed as a whole and earns what the council's policy grants. Every movement is on the ledger.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from workflows.models import SYSTEM, Actor, PoolCommitment, Role, StepInput
    from workflows.pool_models import (
        POOL_STEPS,
        Draw,
        DrawProposal,
        DrawVote,
        JoinRequest,
        LeaveRequest,
        MemberCheck,
        MemberCheckRequest,
        PoolEvent,
        PoolInput,
        PoolMember,
        PoolRecord,
        PoolReviewInput,
        PoolReviewRecord,
        PoolState,
        PoolTermsRequest,
        PoolTermsResult,
        RewardRequest,
        RewardResult,
        TimeEntry,
        TimeGift,
    )
    from workflows.refusals import readable

COUNCIL = SearchAttributeKey.for_keyword("CouncilCode")
TIMEOUT = timedelta(seconds=15)
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
WEEK = timedelta(days=7)
PENNY = Decimal("0.01")


@workflow.defn(name="Pool")
class PoolWorkflow:
    @workflow.init
    def __init__(self, input: PoolInput) -> None:
        if input.state is not None:
            self.state = input.state
        elif input.start is not None:
            s = input.start
            self.state = PoolState(
                pool_id=workflow.info().workflow_id, council=s.council, name=s.name,
                purpose=s.purpose, opened_by=s.opened_by, opened_at=workflow.now(),
            )
        else:
            raise ApplicationError("a pool starts from its terms or carried state", type="PoolInvalid")

    @workflow.run
    async def run(self, input: PoolInput) -> PoolState:
        workflow.upsert_search_attributes([COUNCIL.value_set(self.state.council)])
        if input.state is None:
            await self._holding("opening", self.open)
        while True:
            await self._wait_for_due()
            await self._holding("timers", self.act_on_dates)
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() and self.state.pending_step is None)
                self.state.generation += 1
                workflow.continue_as_new(PoolInput(state=self.state))

    async def open(self) -> None:
        found = await self._activity("pool_terms", PoolTermsRequest(council=self.state.council,
                                                                    on=self._today()), PoolTermsResult)
        if not found.available or found.terms is None:
            raise ApplicationError("; ".join(found.reasons), type="PoolRefused")
        self.state.terms = found.terms
        self.state.next_review = self._today() + timedelta(days=found.terms.review_interval_days)
        self._event("pool.opened", Actor(id=self.state.opened_by, role=Role.social_worker),
                    f"{self.state.name}: {self.state.purpose}")
        await self._record("pool.opened", None, {"name": self.state.name, "purpose": self.state.purpose,
                                                 "terms": found.terms.model_dump(mode="json")})

    async def _wait_for_due(self) -> None:
        """Sleep until the next week's pooled money is due or a member's notice ends."""
        due = self._next_due()
        wait = max(timedelta(0), datetime.combine(due, time(0, 0), tzinfo=UTC) - workflow.now())
        try:
            await workflow.wait_condition(lambda: self._next_due() < due, timeout=wait)
        except TimeoutError:
            pass

    def _next_due(self) -> date:
        week = self.state.opened_at.date() + WEEK * (self.state.weeks_credited + 1)
        leaving = [m.leaves_on for m in self.state.members if m.status == "leaving" and m.leaves_on]
        return min([week, *leaving])

    async def act_on_dates(self) -> None:
        today = self._today()
        while self.state.opened_at.date() + WEEK * (self.state.weeks_credited + 1) <= today:
            self.state.weeks_credited += 1
            await self._credit_fund(self.state.current, f"week {self.state.weeks_credited + 1}")
        for member in self.state.members:
            if member.status == "leaving" and member.leaves_on and member.leaves_on <= today:
                member.status, member.left_on = "left", today
                self._event("pool.member_left", SYSTEM, f"{member.case_id} left; "
                            f"{member.weekly_share:.2f}/wk returns to their own budget")
                await self._tell_case(member)
                await self._record("pool.member_left", member.case_id,
                                   {"weekly_share": f"{member.weekly_share:.2f}"})

    async def _credit_fund(self, members: list[PoolMember], week: str) -> None:
        """Each week's pooled money is paid in advance; the policy's share goes to the fund."""
        assert self.state.terms is not None
        pooled = sum((m.weekly_share for m in members), Decimal(0))
        credit = (pooled * self.state.terms.emergency_fund_share).quantize(PENNY, ROUND_DOWN)
        if credit <= 0:
            return
        self.state.fund_balance += credit
        self._event("pool.fund_credited", SYSTEM, f"{credit:.2f} of {pooled:.2f} pooled for {week}")
        await self._record("pool.fund_credited", None, {"amount": f"{credit:.2f}", "pooled": f"{pooled:.2f}",
                                                        "week": week, "balance": f"{self.state.fund_balance:.2f}"})

    # --- members' steps ---------------------------------------------------------------------

    @workflow.update
    async def join(self, request: StepInput) -> PoolState:
        return await self._step("join", request, self._join)

    async def _join(self, actor: Actor, join: JoinRequest) -> None:
        check = await self._activity("check_member_share", MemberCheckRequest(
            council=self.state.council, on=self._today(), case_id=join.case_id,
            weekly_share=join.weekly_share, members=len(self.state.current), rewarded=self.state.rewarded,
        ), MemberCheck)
        if actor.role is Role.person and check.person_user != actor.id:
            raise ApplicationError(f"{actor.id} is not the person case {join.case_id} is about",
                                   type="PoolRefused")
        if not check.approved:
            raise ApplicationError("the share cannot be pooled: " + "; ".join(check.reasons), type="PoolRefused")
        member = PoolMember(case_id=join.case_id, person_user=check.person_user,
                            weekly_share=join.weekly_share, joined=self._today(), check=check.reasons)
        self.state.members.append(member)
        self._event("pool.member_joined", actor, f"{join.case_id} pools {join.weekly_share:.2f}/wk; "
                    + "; ".join(check.reasons))
        await self._tell_case(member)
        await self._record("pool.member_joined", join.case_id,
                           {"weekly_share": f"{join.weekly_share:.2f}", "check": check.reasons}, actor)
        await self._credit_fund([member], "the first week")

    @workflow.update
    async def leave(self, request: StepInput) -> PoolState:
        return await self._step("leave", request, self._leave)

    async def _leave(self, actor: Actor, leave: LeaveRequest) -> None:
        assert self.state.terms is not None
        member = self.state.member(leave.case_id)
        assert member is not None
        member.status = "leaving"
        member.leaves_on = self._today() + timedelta(days=self.state.terms.leave_notice_days)
        self._event("pool.notice_given", actor, f"{member.case_id} leaves on {member.leaves_on}")
        await self._tell_case(member)
        await self._record("pool.notice_given", member.case_id,
                           {"leaves_on": member.leaves_on.isoformat(),
                            "weekly_share": f"{member.weekly_share:.2f}"}, actor)

    @workflow.update
    async def propose_draw(self, request: StepInput) -> PoolState:
        return await self._step("propose_draw", request, self._propose_draw)

    async def _propose_draw(self, actor: Actor, proposal: DrawProposal) -> None:
        proposer = self.state.member_of(actor.id)
        assert proposer is not None
        draw = Draw(number=len(self.state.draws) + 1, amount=proposal.amount, reason=proposal.reason,
                    for_case=proposal.for_case, proposed_by=actor, votes={proposer.case_id: True})
        self.state.draws.append(draw)
        self._event("pool.draw_proposed", actor, f"Draw {draw.number}: {draw.amount:.2f} for {draw.for_case}")
        await self._record("pool.draw_proposed", proposal.for_case,
                           {"draw": draw.number, "amount": f"{draw.amount:.2f}", "reason": draw.reason}, actor)

    @workflow.update
    async def vote(self, request: StepInput) -> PoolState:
        return await self._step("vote", request, self._vote)

    async def _vote(self, actor: Actor, vote: DrawVote) -> None:
        assert self.state.terms is not None
        member = self.state.member_of(actor.id)
        assert member is not None
        draw = self.state.draws[vote.draw - 1]
        draw.votes[member.case_id] = vote.agree
        voters = len(self.state.current)
        agree = sum(1 for v in draw.votes.values() if v)
        against = sum(1 for v in draw.votes.values() if not v)
        quorum = self.state.terms.draw_quorum * voters
        if agree > quorum:
            draw.status, draw.decided = "approved", self._today()
            self.state.fund_balance -= draw.amount
        elif voters - against <= quorum:
            draw.status, draw.decided = "refused", self._today()
        summary = f"Draw {draw.number}: {agree} for, {against} against of {voters} members; {draw.status}"
        self._event(f"pool.draw_{draw.status}" if draw.status != "open" else "pool.vote", actor, summary)
        await self._record("pool.vote", member.case_id, {"draw": draw.number, "agree": vote.agree}, actor)
        if draw.status == "approved":
            await self._record("pool.draw_paid", draw.for_case,
                               {"draw": draw.number, "amount": f"{draw.amount:.2f}",
                                "balance": f"{self.state.fund_balance:.2f}"}, actor)

    @workflow.update
    async def give_time(self, request: StepInput) -> PoolState:
        return await self._step("give_time", request, self._give_time)

    async def _give_time(self, actor: Actor, gift: TimeGift) -> None:
        assert self.state.terms is not None
        value = (gift.hours * self.state.terms.time_hour_value).quantize(PENNY)
        self.state.time.append(TimeEntry(kind=gift.kind, giver=gift.giver, hours=gift.hours, value=value,
                                         on=self._today()))
        self._event("pool.time_given", actor, f"{gift.hours} h of {gift.kind} time, valued at {value:.2f}")
        await self._record("pool.time_given", None, {"kind": gift.kind, "giver": gift.giver,
                                                     "hours": str(gift.hours), "value": f"{value:.2f}"}, actor)

    @workflow.update
    async def review_pool(self, request: StepInput) -> PoolState:
        return await self._step("review_pool", request, self._review)

    async def _review(self, actor: Actor, review: PoolReviewInput) -> None:
        assert self.state.terms is not None
        found = await self._activity("pool_reward", RewardRequest(
            council=self.state.council, on=self._today(), outcomes_met=review.outcomes_met,
            planned=review.planned, spent=review.spent), RewardResult)
        self.state.reviews.append(PoolReviewRecord(
            on=self._today(), by=actor, outcomes_met=review.outcomes_met, planned=review.planned,
            spent=review.spent, rewarded=found.rewarded, reasons=found.reasons, notes=review.notes))
        self.state.rewarded = found.rewarded
        terms = self.state.terms
        days = terms.rewarded_review_interval_days if found.rewarded else terms.review_interval_days
        self.state.next_review = self._today() + timedelta(days=days)
        self._event("pool.reviewed", actor, "; ".join(found.reasons))
        await self._record("pool.reviewed", None, {**review.model_dump(mode="json"), "rewarded": found.rewarded,
                                                   "reasons": found.reasons}, actor)

    @workflow.query
    def describe(self) -> PoolState:
        return self.state

    # --- validators --------------------------------------------------------------------------

    def _refuse(self, step: str, request: StepInput) -> None:
        reason = why_refused(self.state, step, request)
        if reason is not None:
            raise ApplicationError(reason, type="StepRefused")

    @join.validator
    def _v_join(self, request: StepInput) -> None:
        self._refuse("join", request)

    @leave.validator
    def _v_leave(self, request: StepInput) -> None:
        self._refuse("leave", request)

    @propose_draw.validator
    def _v_propose_draw(self, request: StepInput) -> None:
        self._refuse("propose_draw", request)

    @vote.validator
    def _v_vote(self, request: StepInput) -> None:
        self._refuse("vote", request)

    @give_time.validator
    def _v_give_time(self, request: StepInput) -> None:
        self._refuse("give_time", request)

    @review_pool.validator
    def _v_review_pool(self, request: StepInput) -> None:
        self._refuse("review_pool", request)

    # --- plumbing ----------------------------------------------------------------------------

    async def _step(self, step: str, request: StepInput, body: Callable[[Actor, Any], Awaitable[None]]) -> PoolState:
        """Run one accepted step; if it fails part-way, the pool is as it was before."""
        payload = POOL_STEPS[step].model_validate(request.payload)
        before = self.state.model_copy(deep=True)
        self.state.pending_step = step
        try:
            await body(request.actor, payload)
        except BaseException:
            self.state = before
            raise
        self.state.pending_step = None
        return self.state

    async def _holding(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        self.state.pending_step = name
        try:
            await body()
        finally:
            self.state.pending_step = None

    async def _tell_case(self, member: PoolMember) -> None:
        """The member's own case records what is pooled, and when it comes back (signal)."""
        commitment = PoolCommitment(pool_id=self.state.pool_id, weekly_share=member.weekly_share,
                                    joined=member.joined, leaves_on=member.leaves_on, left=member.left_on)
        await workflow.get_external_workflow_handle(member.case_id).signal("pool_commitment", commitment)

    async def _activity(self, name: str, arg: BaseModel, result_type: type[Any]) -> Any:
        try:
            return await workflow.execute_activity(name, arg, result_type=result_type,
                                                   start_to_close_timeout=TIMEOUT, retry_policy=RETRY)
        except ActivityError as exc:
            cause = exc.cause
            kind = cause.type if isinstance(cause, ApplicationError) else None
            raise ApplicationError(str(cause or exc), type=kind or "ActivityFailed") from None

    async def _record(self, action: str, case_id: str | None, payload: dict[str, Any],
                      actor: Actor = SYSTEM) -> None:
        record = PoolRecord(event_key=f"{self.state.pool_id}:{len(self.state.timeline)}:{action}",
                            pool_id=self.state.pool_id, council=self.state.council, case_id=case_id,
                            actor=actor, action=action,
                            payload={**payload, "pool_id": self.state.pool_id})
        await workflow.execute_activity("record_pool_event", record, start_to_close_timeout=TIMEOUT,
                                        retry_policy=RETRY)

    def _event(self, action: str, actor: Actor, summary: str) -> None:
        self.state.timeline.append(PoolEvent(seq=len(self.state.timeline) + 1, at=workflow.now(),
                                             action=action, actor=actor, summary=summary))

    def _today(self) -> date:
        return workflow.now().date()


def why_refused(state: PoolState, step: str, request: StepInput) -> str | None:
    """The reason a pool step may not be taken now, or None (pure)."""
    actor = request.actor
    if step not in POOL_STEPS:
        return f"{step} is not a step of a pool"
    if state.pending_step is not None or state.terms is None:
        return f"{state.pending_step or 'opening'} is still being processed on this pool; try again shortly"
    try:
        payload = POOL_STEPS[step].model_validate(request.payload)
    except ValidationError as exc:
        return f"{step}: {readable(exc)}"
    member = state.member_of(actor.id) if actor.role is Role.person else None
    if step == "join":
        assert isinstance(payload, JoinRequest)
        if actor.role not in (Role.person, Role.social_worker):
            return "a budget holder joins a pool themselves, or with their social worker"
        if state.member(payload.case_id) is not None:
            return f"case {payload.case_id} is already a member of this pool"
        return None
    if step == "review_pool":
        return None if actor.role is Role.social_worker else "a social worker reviews a pool"
    if step == "give_time":
        if member is None and actor.role is not Role.social_worker:
            return "time is recorded by a member or a social worker"
        return None
    if step == "leave":
        assert isinstance(payload, LeaveRequest)
        leaving = state.member(payload.case_id)
        if leaving is None:
            return f"case {payload.case_id} is not a member of this pool"
        if leaving.status == "leaving":
            return f"notice was given already; the share leaves on {leaving.leaves_on}"
        if actor.role is not Role.social_worker and (member is None or member.case_id != payload.case_id):
            return "a member gives notice for themselves (or their social worker does)"
        return None
    if member is None:
        return f"{actor.id} is not a member of this pool, so may not {step.replace('_', ' ')}"
    if isinstance(payload, DrawProposal):
        if state.member(payload.for_case) is None:
            return f"case {payload.for_case} is not a member of this pool"
        if payload.amount > state.fund_balance:
            return f"amount: {payload.amount:.2f} is more than the emergency fund holds ({state.fund_balance:.2f})"
    if isinstance(payload, DrawVote):
        if payload.draw > len(state.draws):
            return f"draw {payload.draw} has not been proposed"
        draw = state.draws[payload.draw - 1]
        if draw.status != "open":
            return f"draw {draw.number} was {draw.status} already"
        if member.case_id in draw.votes:
            return "each member votes once on a draw"
        if payload.agree and draw.amount > state.fund_balance:
            return f"the fund now holds {state.fund_balance:.2f}, less than the {draw.amount:.2f} asked"
    return None
