"""Care Act 2014 ss9-27: a case's whole state, its stages, and one input model per human step.

Step names are the workflow's update names; `STEP_INPUTS` maps each to its payload model and
`STEP_ROLES` to the roles that may take it. The case service (carebudget.service.cases.act) takes
`step` and a payload dict and sends `StepInput(actor, payload)` to the update of that name.

| step                     | role(s)                | stage                     | payload model        |
|--------------------------|------------------------|---------------------------|----------------------|
| self_assess              | person                 | assessment                | SelfAssessment       |
| verify_assessment        | social_worker          | assessment                | Verification         |
| submit_plan              | social_worker, person  | support_planning          | PlanSubmission       |
| approve                  | approver               | sign_off                  | Approval             |
| request_changes          | approver               | sign_off                  | ChangeRequest        |
| counter_propose          | approver               | sign_off                  | CounterProposal      |
| accept_counter_proposal  | person                 | counter_proposal          | Acceptance           |
| appeal                   | person                 | counter_proposal          | AppealRequest        |
| decide_appeal            | appeals_officer        | appeal                    | AppealDecision       |
| request_review           | person, social_worker  | active_budget             | ReviewRequest        |
| complete_review          | social_worker          | review                    | ReviewOutcome        |
| use_savings              | person, social_worker  | active_budget             | SavingsRequest       |
| record_reablement        | social_worker          | assessment to review      | ReablementEpisode    |

Money is a Decimal with two places, written as a string "123.45" (as in the decision contract).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from carebudget.decisions.inputs import (
    OTHER_PROVISION,
    AssessedNeed,
    Care,
    CostedProposal,
    Finances,
    Money,
    Needs,
    PlanItem,
    PricedPlanItem,
    Proposal,
    ProvisionId,
    Setting,
    Units,
)
from carebudget.law import Outcome


class Stage(str, Enum):
    """The stages of a case, in the order the Act takes them."""

    intake = "intake"  # s9: the duty to assess arises on the appearance of need
    assessment = "assessment"  # s9: current needs and needs predicted over the next 12 months
    eligibility = "eligibility"  # s13: written decision with reasons
    financial_assessment = "financial_assessment"  # s14, s17
    indicative_budget = "indicative_budget"  # CSSG 11.7, 11.24
    support_planning = "support_planning"  # s24, s25
    sign_off = "sign_off"  # s24-26
    counter_proposal = "counter_proposal"  # s26, CSSG 11.24: a lower amount, justified
    appeal = "appeal"  # council appeal policy (s72 is not in force)
    active_budget = "active_budget"  # s26: the personal budget statement
    review = "review"  # s27, CSSG 13.32
    closed = "closed"  # s13(5): not eligible, advice and information given


class Role(str, Enum):
    person = "person"
    social_worker = "social_worker"
    approver = "approver"
    appeals_officer = "appeals_officer"
    operations = "operations"
    compliance = "compliance"
    policy_admin = "policy_admin"
    admin = "admin"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Actor(Model):
    id: str = Field(min_length=1, max_length=100)
    role: Role


SYSTEM = Actor(id="carebudget", role=Role.operations)


# --- intake --------------------------------------------------------------------------------


class PersonDetails(Model):
    """Who the case is about. Personal data: kept in the workflow and the store, never indexed."""

    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    setting: Setting
    care_home_admission_date: date | None = None
    has_capacity: bool = True
    has_authorised_person: bool = False
    asks_council_to_arrange: bool = True

    def decision_person(self) -> dict[str, Any]:
        """The person as the decision contract reads them (no name)."""
        return self.model_dump(mode="json", exclude={"name"})


class CaseStart(Model):
    """Intake (s9): the council, the person, who opened the case."""

    council: str = Field(min_length=1, max_length=50)
    person: PersonDetails
    person_user: str | None = Field(None, max_length=100)
    opened_by: str | None = Field(None, max_length=100)
    # The social worker the case is allocated to at intake; reallocation is a store event.
    assigned_to: str | None = Field(None, max_length=100)
    # The locality, from the council's list (parameter case.areas); checked by the case service.
    area: str | None = Field(None, min_length=1, max_length=60)
    case_id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# --- human steps ---------------------------------------------------------------------------


class SelfAssessment(Model):
    """The person's own account of their needs, now and over the next 12 months."""

    needs: Needs
    predicted_needs: Needs | None = None


class Verification(Model):
    """The social worker's verified (or corrected) assessment, with the financial facts, and the
    support each need requires a week from the council's rate card (CSSG 11.24-11.25)."""

    needs: Needs
    predicted_needs: Needs | None = None
    finances: Finances
    care: Care
    notes: str = Field("", max_length=4000)
    support: list[AssessedNeed] = Field(default_factory=list)  # empty only in cases verified before


class Plan(Model):
    """A plan's weekly total and items: priced from the rate card (items written before plans
    were priced still read back, so running cases replay)."""

    weekly_total: Money
    items: list[PricedPlanItem | PlanItem] = Field(default_factory=list)

    @property
    def priced(self) -> bool:
        return bool(self.items) and all(isinstance(i, PricedPlanItem) for i in self.items)

    def outcomes(self) -> list[str]:
        found: list[str] = []
        for item in self.items:
            for o in item.outcomes if isinstance(item, PricedPlanItem) else [item.need]:
                if o.value not in found:
                    found.append(o.value)
        return found


class UnmetNeed(Model):
    """A need the plan could not meet (s25(1)(e)-(f); s5 market shaping): the outcome, the
    provision that was wanted (a code from the council's rate card, or `other`), units a week if
    known, and the words. Counted, and costed at the council's rate where it is on the card."""

    outcome: Outcome
    provision: ProvisionId
    units: Units | None = None
    words: str = Field("", max_length=500)

    @field_validator("words")
    @classmethod
    def _trimmed(cls, v: str) -> str:
        return v.strip()

    @model_validator(mode="after")
    def _other_is_described(self) -> UnmetNeed:
        if self.provision == OTHER_PROVISION and not self.words:
            raise ValueError("words: say what was wanted; the rate card does not list it (provision other)")
        return self


def _unmet_kind(value: Any) -> str:
    return "note" if isinstance(value, str) else "need"


# Plans written before unmet needs were structured hold plain notes: kept so those cases replay
# (a new plan with one is refused: workflows/refusals.py). Errors name the field, not the union.
UnmetNotes = list[Annotated[
    Annotated[UnmetNeed, Tag("need")] | Annotated[str, Tag("note")], Discriminator(_unmet_kind)]]


class PlanSubmission(Model):
    """A 12-month care and support plan (s25): items meeting named needs, and unmet needs."""

    plan: Plan
    unmet_needs: UnmetNotes = Field(default_factory=list)

    @model_validator(mode="after")
    def _total_is_sum_of_items(self) -> PlanSubmission:
        if not self.plan.items:
            raise ValueError("plan.items: a plan needs at least one item meeting a named need")
        total = sum((i.weekly_cost for i in self.plan.items), Decimal(0))
        if total != self.plan.weekly_total:
            raise ValueError(
                f"plan.weekly_total: {self.plan.weekly_total:.2f} is not the sum of the items "
                f"({total:.2f})"
            )
        return self


class Approval(Model):
    note: str = Field("", max_length=4000)


class ChangeRequest(Model):
    reasons: str = Field(min_length=1, max_length=4000)

    @field_validator("reasons")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("reasons: say what needs to change and why")
        return v


class CounterProposal(Model):
    """A lower weekly amount, justified need by need at local rates (s26, CSSG 11.24-11.25);
    the free-text form is read back from cases made before, and refused for new proposals."""

    proposal: CostedProposal | Proposal
    note: str = Field("", max_length=4000)


class Acceptance(Model):
    note: str = Field("", max_length=4000)


class AppealRequest(Model):
    reasons: str = Field(min_length=1, max_length=4000)

    @field_validator("reasons")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("reasons: say why the amount does not meet your needs")
        return v


class AppealDecision(Model):
    outcome: Literal["uphold", "part_uphold", "dismiss"]
    reasons: str = Field(min_length=1, max_length=4000)
    weekly_amount: Money | None = None

    @model_validator(mode="after")
    def _amount_only_for_part_uphold(self) -> AppealDecision:
        if not self.reasons.strip():
            raise ValueError("reasons: give the reasons for the decision")
        if self.outcome == "part_uphold" and self.weekly_amount is None:
            raise ValueError("weekly_amount: a part-upheld appeal sets a new weekly amount")
        if self.outcome != "part_uphold" and self.weekly_amount is not None:
            raise ValueError("weekly_amount: only a part-upheld appeal sets a new amount")
        return self


class ReviewRequest(Model):
    reasons: str = Field(min_length=1, max_length=4000)

    @field_validator("reasons")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("reasons: say what has changed")
        return v


class ReviewOutcome(Model):
    """s27: what the review found; an underspend may be banked up to the council's policy. A
    changed assessment records the support each need now requires (CSSG 13.32: a budget is cut
    only on a reassessment showing reduced need, never merely for budgetary reasons)."""

    outcome: Literal["no_change", "revise_plan"] = "no_change"
    underspend: Money = Decimal(0)
    notes: str = Field("", max_length=4000)
    support: list[AssessedNeed] | None = None
    outcomes_met: bool | None = None  # a saver's lighter review is earned only with outcomes met


class SavingsRequest(Model):
    """The person asks to use banked savings: as an emergency fund, or a capital purchase (a home
    adaptation, equipment, starting a micro-enterprise); the council's policy decides (issue 15)."""

    purpose: Literal["emergency", "home_adaptation", "equipment", "micro_enterprise"]
    amount: Money
    description: str = Field(min_length=1, max_length=2000)

    @field_validator("amount")
    @classmethod
    def _positive(cls, v: Decimal) -> Decimal:
        if v <= 0:
            raise ValueError("amount: give an amount above 0.00")
        return v


class ReablementEpisode(Model):
    """Reablement or intermediate care given to the person: free for up to six weeks
    (SI 2014/2672 reg 3), its cost to the council shown to them, outside the personal budget."""

    service: Literal["reablement", "intermediate_care"] = "reablement"
    started: date
    weeks: int = Field(ge=1, le=52)
    weekly_cost: Money
    provider: str = Field("", max_length=200)

    @field_validator("weekly_cost")
    @classmethod
    def _positive(cls, v: Decimal) -> Decimal:
        if v <= 0:
            raise ValueError("weekly_cost: give the weekly cost to the council, above 0.00")
        return v


STEP_INPUTS: dict[str, type[BaseModel]] = {
    "self_assess": SelfAssessment,
    "verify_assessment": Verification,
    "submit_plan": PlanSubmission,
    "approve": Approval,
    "request_changes": ChangeRequest,
    "counter_propose": CounterProposal,
    "accept_counter_proposal": Acceptance,
    "appeal": AppealRequest,
    "decide_appeal": AppealDecision,
    "request_review": ReviewRequest,
    "complete_review": ReviewOutcome,
    "use_savings": SavingsRequest,
    "record_reablement": ReablementEpisode,
}

STEP_ROLES: dict[str, tuple[Role, ...]] = {
    "self_assess": (Role.person,),
    "verify_assessment": (Role.social_worker,),
    "submit_plan": (Role.social_worker, Role.person),
    "approve": (Role.approver,),
    "request_changes": (Role.approver,),
    "counter_propose": (Role.approver,),
    "accept_counter_proposal": (Role.person,),
    "appeal": (Role.person,),
    "decide_appeal": (Role.appeals_officer,),
    "request_review": (Role.person, Role.social_worker),
    "complete_review": (Role.social_worker,),
    "use_savings": (Role.person, Role.social_worker),
    "record_reablement": (Role.social_worker,),
}

STEP_STAGES: dict[str, tuple[Stage, ...]] = {
    "self_assess": (Stage.assessment,),
    "verify_assessment": (Stage.assessment,),
    "submit_plan": (Stage.support_planning,),
    "approve": (Stage.sign_off,),
    "request_changes": (Stage.sign_off,),
    "counter_propose": (Stage.sign_off,),
    "accept_counter_proposal": (Stage.counter_proposal,),
    "appeal": (Stage.counter_proposal,),
    "decide_appeal": (Stage.appeal,),
    "request_review": (Stage.active_budget,),
    "complete_review": (Stage.review,),
    "use_savings": (Stage.active_budget,),
    "record_reablement": tuple(s for s in Stage if s not in (Stage.intake, Stage.closed)),
}


class StepInput(Model):
    """What every update receives: who acts, and the step's payload (validated per step)."""

    actor: Actor
    payload: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = Field(None, max_length=100)


class Refusal(Model):
    """A step refused (wrong stage, role, fields, separation of duties): recorded for compliance."""

    step: str
    actor: Actor
    reason: str
    request_id: str


# --- state ---------------------------------------------------------------------------------


class TimelineEvent(Model):
    seq: int
    at: datetime
    stage: Stage
    action: str
    actor: Actor
    summary: str = ""


class Policy(Model):
    """The council's process policy in force when the case opened (rulebook.council_policy)."""

    council: str
    bundle: str
    predicted_needs_establish_eligibility: bool
    assessment_due_days: int
    support_plan_due_days: int
    sign_off_due_days: int
    appeal_window_days: int
    light_touch_review_min_days: int
    light_touch_review_max_days: int
    full_review_interval_days: int
    underspend_bank_share: Decimal


class DraftPlan(Model):
    plan: Plan
    unmet_needs: UnmetNotes = Field(default_factory=list)
    drafted_by: Actor
    version: int = 1


class SignOff(Model):
    outcome: Literal["approved", "changes_requested", "counter_proposed"]
    by: Actor
    reasons: str = ""


class CounterProposalState(Model):
    proposal: CostedProposal | Proposal
    by: Actor
    valid: bool
    appeal_by: datetime
    outcome: Literal["pending", "accepted", "appealed", "stood"] = "pending"


class AppealState(Model):
    reasons: str
    by: Actor
    outcome: Literal["uphold", "part_uphold", "dismiss"] | None = None
    decided_by: Actor | None = None
    decision_reasons: str = ""
    weekly_amount: Money | None = None


class BudgetStatement(Model):
    """s26(1): (a) the cost of meeting the needs = (b) the person's charge + (c) the council's share."""

    weekly_cost: Money
    person_charge: Money
    council_share: Money
    starts: date
    charge_decision: str = ""  # the charge record's rule bundle hash

    @model_validator(mode="after")
    def _cost_is_charge_plus_share(self) -> BudgetStatement:
        if self.weekly_cost != self.person_charge + self.council_share:
            raise ValueError(
                f"s26(1): cost {self.weekly_cost:.2f} must equal the person's charge "
                f"{self.person_charge:.2f} plus the council's share {self.council_share:.2f}"
            )
        return self


class ReviewRecord(Model):
    # earned_light_touch: the yearly review, light-touch for a saver whose outcomes are met
    kind: Literal["light_touch", "full", "requested", "earned_light_touch"]
    opened: date
    completed: date | None = None
    by: Actor | None = None
    outcome: str = ""
    underspend: Money = Decimal(0)
    banked: Money = Decimal(0)
    notes: str = ""
    assessment_changed: bool = False
    outcomes_met: bool | None = None


class SavingsUseRecord(Model):
    """A request to use banked savings and the council's decision on it, with reasons."""

    request: SavingsRequest
    by: Actor
    on: date
    approved: bool
    reasons: list[str] = Field(default_factory=list)


class ReablementRecord(Model):
    episode: ReablementEpisode
    by: Actor
    cost: Money
    free_weeks: int
    chargeable_weeks: int = 0
    reasons: list[str] = Field(default_factory=list)


class PoolCommitment(Model):
    """A share of this budget committed to a community pool (the pool workflow signals it)."""

    pool_id: str
    weekly_share: Money
    joined: date
    leaves_on: date | None = None  # notice given
    left: date | None = None


class CaseState(Model):
    """Everything about one case; carried whole across continue-as-new."""

    case_id: str
    council: str
    person: PersonDetails
    person_user: str | None = None
    opened_by: str | None = None
    assigned_to: str | None = None  # at intake only; the case list holds the current worker
    area: str | None = None  # the locality recorded at intake (None: not recorded)
    opened_at: datetime
    stage: Stage = Stage.intake
    due_at: datetime | None = None
    due_for: str = ""
    overdue: bool = False
    pending_step: str | None = None  # a step accepted and still running: others wait for it
    policy: Policy | None = None
    self_assessment: SelfAssessment | None = None
    assessment: Verification | None = None
    assessed_by: Actor | None = None
    decisions: dict[str, dict[str, Any]] = Field(default_factory=dict)  # kind -> latest record
    advice: list[str] = Field(default_factory=list)  # s13(5) when not eligible
    draft: DraftPlan | None = None
    change_requests: list[SignOff] = Field(default_factory=list)
    sign_off: SignOff | None = None
    counter_proposal: CounterProposalState | None = None
    appeal: AppealState | None = None
    personal_budget: BudgetStatement | None = None
    plan_started: date | None = None
    light_touch_due: date | None = None  # set after each new or revised plan, cleared when done
    full_review_due: date | None = None
    reviews: list[ReviewRecord] = Field(default_factory=list)
    banked_underspend: Money = Decimal(0)
    savings_uses: list[SavingsUseRecord] = Field(default_factory=list)
    earned_light_touch: bool = False  # the next yearly review is light-touch (savings, outcomes met)
    direct_payment_check_days: int | None = None
    reablement: list[ReablementRecord] = Field(default_factory=list)
    pool_commitments: list[PoolCommitment] = Field(default_factory=list)
    generation: int = 0  # runs completed by continue-as-new
    # Why the rules in force could not make a decision this case needs (activities/decisions.py,
    # RuleBundleError); empty when nothing is wrong. Cleared by the next decision that succeeds.
    needs_attention: str = ""
    timeline: list[TimelineEvent] = Field(default_factory=list)

    @property
    def plan(self) -> Plan | None:
        return self.draft.plan if self.draft else None


class StepResult(Model):
    """What a step's update returns: where the case stands now, not the whole state (that is the
    `describe` query), so an update's result stays small however long the case's record grows.

    Its fields are CaseState's, so a whole state (from a worker before this model) reads as one."""

    model_config = ConfigDict(extra="ignore")

    case_id: str
    stage: Stage
    due_at: datetime | None = None
    due_for: str = ""
    overdue: bool = False
    pending_step: str | None = None
    needs_attention: str = ""


class CaseInput(Model):
    """The workflow's input: a new case, or the state carried over by continue-as-new."""

    start: CaseStart | None = None
    state: CaseState | None = None


class SearchAttributeNames:
    stage = "CaseStage"
    council = "CouncilCode"
    due_at = "DueAt"
    overdue = "Overdue"


# --- activity inputs and results -----------------------------------------------------------


class DecisionRequest(Model):
    kind: str
    council: str
    on: date
    payload: dict[str, Any]


class DecisionBatch(Model):
    """Several decisions of one step, made in turn by one local activity (one round instead of
    one per decision). With `stop_unless_needs_met`, an eligibility decision whose needs will not
    be met ends the batch: s13(5), the decisions after it are not made."""

    requests: list[DecisionRequest] = Field(min_length=1)
    stop_unless_needs_met: bool = False


class DecisionRecords(Model):
    """The records of a DecisionBatch, in the order asked for (fewer when the batch stopped)."""

    records: list[dict[str, Any]]


def needs_met(eligibility: dict[str, Any]) -> bool:
    """The council will meet needs: eligible (s13, s18) or under its prevention policy (s19(1), s2).
    Records made before `needs_met` existed carry only `eligible`, which then decided alone."""
    return bool(eligibility.get("needs_met", eligibility["eligible"]))


class PolicyRequest(Model):
    council: str
    on: date


class BankRequest(Model):
    underspend: Decimal
    council_share_weekly: Decimal
    bank_share: Decimal
    already_banked: Decimal


class BankResult(Model):
    banked: Decimal
    explanation: str


class SavingsDecisionRequest(Model):
    council: str
    on: date
    request: SavingsRequest
    balance: Decimal


class ReviewDepthRequest(Model):
    council: str
    on: date
    reviews: list[bool]  # completed reviews, oldest first: savings banked with outcomes met


class ReablementRequest(Model):
    council: str
    on: date
    weeks: int
    weekly_cost: Decimal


class PolicyDecision(Model):
    """A council-policy decision on savings, review depth or reablement: the result and why."""

    approved: bool = False
    light_touch: bool = False
    direct_payment_check_days: int | None = None
    cost: Decimal = Decimal(0)
    free_weeks: int = 0
    chargeable_weeks: int = 0
    reasons: list[str] = Field(default_factory=list)


class StepLetters(Model):
    """The letters a step's decisions produce, issued right after its record in the same activity
    (one local activity, and the case sent once, not once per letter); keys as LetterRequest's."""

    kinds: list[str] = Field(min_length=1)
    key_prefix: str  # "<case id>:<event number>:": each letter's key is key_prefix + "letter." + kind
    on: date
    case: dict[str, Any]  # CaseState as JSON, without its timeline


class RecordResult(Model):
    """What record_step did beyond the record: the letters it could not produce, and why."""

    letters_failed: dict[str, str] = Field(default_factory=dict)  # kind -> reason


class CaseRecord(Model):
    """One accepted step, timer or refusal, as the store keeps it (idempotent on event_key)."""

    event_key: str
    case_id: str
    actor: Actor
    action: str
    payload: dict[str, Any] = Field(default_factory=dict)
    decisions: dict[str, dict[str, Any]] = Field(default_factory=dict)  # kind -> record
    index: dict[str, Any] | None = None  # case-list fields (store CaseUpdate)
    personal: dict[str, Any] | None = None
    letters: StepLetters | None = None  # the step's letters, issued by the same activity
    # Records of the same step written first, by the same activity (a sign-off's own event before
    # the budget it leads to): one round, and none written if the step's decision fails.
    earlier: list[CaseRecord] = Field(default_factory=list)


class LetterRequest(Model):
    """A decision's letter (activities/letters.py): written once per `key`, the case's event key."""

    key: str
    case_id: str
    kind: str
    on: date
    case: dict[str, Any]  # CaseState as JSON, without its timeline


class LetterIssued(Model):
    letter_id: int
    sha256: str


class NoticeRequest(Model):
    """A notice the case's clock raises (review due, case overdue), queued once per `key`."""

    key: str
    case_id: str
    kind: Literal["review_due", "case_overdue"]
    due_for: str = ""
    due: date | None = None
    person_user: str | None = None
