"""The case service API (used by the CLI and the web): open a case, take a step, read a case.

A step goes to the case's workflow as a Temporal update; the workflow's validator decides whether
it may be taken (stage, role, fields, separation of duties). A refusal comes back as `CaseRefused`
with the reason, and is written to the store for compliance (by the workflow's `refused` signal,
or, once a case has closed, directly through activities/records.py).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from carebudget.decisions.inputs import Setting
from carebudget.service.codec import data_converter
from carebudget.service.council_lists import area_refused, unknown_unmet_provision
from carebudget.settings import Settings, get_settings
from workflows.case import COUNCIL, STAGE, CaseWorkflow
from workflows.models import (
    STEP_INPUTS,
    Actor,
    CaseInput,
    CaseRecord,
    CaseStart,
    CaseState,
    Refusal,
    Role,
    Stage,
    StepInput,
    StepResult,
)
from workflows.refusal_record import RecordRefusalWorkflow
from workflows.refusals import assessed_outcomes, readable


class CaseServiceError(Exception):
    """Base of the service's typed errors: `reason` is for a person, `field` names the input."""

    def __init__(self, reason: str, case_id: str | None = None, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.case_id, self.field = reason, case_id, field


class CaseNotFound(CaseServiceError):
    """No case with that id."""


class CaseInvalid(CaseServiceError):
    """The input is malformed (missing or invalid fields, unknown step, role or council)."""


class CaseRefused(CaseServiceError):
    """The step may not be taken now: wrong stage, role, separation of duties, or a failed check."""


class CaseBusy(CaseServiceError):
    """The case could not be read in time (the workers are behind or Temporal is unreachable)."""


async def get_client(settings: Settings | None = None) -> Client:
    settings = settings or get_settings()
    return await Client.connect(
        settings.effective_temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings.payload_keys),
    )


def workflow_id(case_id: str) -> str:
    return case_id


def new_case_id() -> str:
    return f"C-{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:8]}"


def checked_start(payload: dict[str, Any], rules: Any = None) -> CaseStart:
    """The intake payload as a CaseStart, or CaseInvalid naming what is wrong: checked before
    anything is started, and before Temporal is reached (bad input is bad input whether or not
    the workflow service is up)."""
    try:
        start = CaseStart.model_validate(payload)
    except ValidationError as exc:
        raise CaseInvalid(readable(exc), field=_first_field(exc)) from None
    _check_council(start.council)
    if wrong_area := area_refused(start.area, start.council, date.today(), rules):
        raise CaseInvalid(wrong_area, field="area")
    if start.person.setting is Setting.care_home and start.person.care_home_admission_date is None:
        # SI 2014/2672 Sch 2 para 2: a care-home charge cannot be decided without this day.
        raise CaseInvalid(
            "person.care_home_admission_date: give the date the person moved into the care home "
            "permanently; the 12-week property disregard counts from it",
            field="person.care_home_admission_date",
        )
    return start


async def start_case(
    client: Client, payload: dict[str, Any] | CaseStart, task_queue: str | None = None,
    idempotent: bool = False, rules: Any = None,
) -> str:
    """Intake (s9): validate, then start the case's workflow; returns the case id. With
    `idempotent`, a case already started under the payload's id is that case (a retried start);
    otherwise an id in use is refused. `rules`: the registry whose council lists (areas) are
    checked, with the published policy versions (default: the shipped rule files). A CaseStart
    is one `checked_start` has already checked."""
    start = payload if isinstance(payload, CaseStart) else checked_start(payload, rules)
    case_id = start.case_id or new_case_id()
    try:
        await client.start_workflow(
            CaseWorkflow.run,
            CaseInput(start=start),
            id=workflow_id(case_id),
            task_queue=task_queue or get_settings().task_queue,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(STAGE, Stage.intake.value), SearchAttributePair(COUNCIL, start.council)]
            ),
        )
    except WorkflowAlreadyStartedError:
        if not idempotent:
            raise CaseInvalid(f"case {case_id} already exists; a new case gets a new reference",
                              case_id, "case_id") from None
    return case_id


async def act(
    client: Client, case_id: str, step: str, actor_id: str, role: str, payload: dict[str, Any],
    request_id: str | None = None, rules: Any = None,
) -> dict[str, Any]:
    """Take one human step; returns the case's whole state (as `describe`), or raises
    CaseRefused / CaseInvalid. A caller that needs only where the case stands uses `take_step`.
    `rules`: the registry whose rate card unmet needs are checked against (as `start_case`)."""
    await _update(client, case_id, step, actor_id, role, payload, request_id, rules)
    # The step is taken: a slow read must not make it look failed (a retry would be refused).
    for attempt in (1, 2):
        try:
            return await describe(client, case_id)
        except CaseBusy:
            await asyncio.sleep(0.5 * attempt)
    return await describe(client, case_id)


async def take_step(
    client: Client, case_id: str, step: str, actor_id: str, role: str, payload: dict[str, Any],
    request_id: str | None = None, rules: Any = None,
) -> dict[str, Any]:
    """Take one human step; returns where the case stands (workflows.models.StepResult: case_id,
    stage, due_at, due_for, overdue, pending_step, needs_attention), or raises as `act` does."""
    result = await _update(client, case_id, step, actor_id, role, payload, request_id, rules)
    return result.model_dump(mode="json")


async def _update(
    client: Client, case_id: str, step: str, actor_id: str, role: str, payload: dict[str, Any],
    request_id: str | None, rules: Any = None,
) -> StepResult:
    """The step as a Temporal update; its small result (the state is read by query if wanted)."""
    if step not in STEP_INPUTS:
        raise CaseInvalid(f"{step!r} is not a step; steps are {', '.join(STEP_INPUTS)}", case_id)
    try:
        actor = Actor(id=actor_id, role=Role(role))
    except (ValueError, ValidationError):
        roles = ", ".join(r.value for r in Role)
        raise CaseInvalid(f"role {role!r} is not one of {roles}", case_id, "role") from None
    if not isinstance(payload, dict):
        raise CaseInvalid("the step's input must be a JSON object", case_id, "payload")
    if step == "submit_plan":
        await _check_unmet_provisions(client, case_id, payload, rules)
    request = StepInput(actor=actor, payload=payload, request_id=request_id or uuid.uuid4().hex)
    handle = client.get_workflow_handle(workflow_id(case_id))
    try:
        result: StepResult = await handle.execute_update(step, request, result_type=StepResult)
    except WorkflowUpdateFailedError as exc:
        cause = _application_cause(exc)
        reason = cause.message if cause is not None else str(exc)
        kind = cause.type if cause is not None else None
        if kind == "StepRefused":
            await _record_refusal(client, handle, case_id, step, request, reason)
        if kind in ("StepRefused", "CounterProposalRefused", "ActorRefused"):
            raise CaseRefused(reason, case_id) from None
        raise CaseRefused(f"{step} failed: {reason}", case_id) from None
    except RPCError as exc:
        await _raise_for_rpc(client, exc, handle, case_id, step, request)
        raise
    return result


async def describe(client: Client, case_id: str) -> dict[str, Any]:
    """The case's full state, with its timeline (the workflow's `describe` query)."""
    handle = client.get_workflow_handle(workflow_id(case_id))
    try:
        state = await handle.query(CaseWorkflow.describe)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CaseNotFound(f"No case {case_id} found", case_id) from None
        # Anything else (a deadline, an unreachable server, the client's own RPC timeout, which
        # the SDK reports as CANCELLED) means the case cannot be read now: busy, never a 500.
        raise CaseBusy(f"Case {case_id} could not be read just now; try again shortly", case_id) from None
    return view(state)


async def list_cases(
    client: Client, stage: str | None = None, overdue: bool | None = None,
    council: str | None = None, limit: int = 1000,
) -> list[dict[str, Any]]:
    """Cases from Temporal visibility by the search attributes (no personal data in them)."""
    clauses = ["WorkflowType = 'Case'"]
    if stage is not None:
        if stage not in {s.value for s in Stage}:
            raise CaseInvalid(f"stage {stage!r} is not one of {', '.join(s.value for s in Stage)}")
        clauses.append(f"CaseStage = '{stage}'")
    if overdue is not None:
        clauses.append(f"Overdue = {'true' if overdue else 'false'}")
    if council is not None:
        clauses.append(f"CouncilCode = '{council.replace(chr(39), '')}'")
    rows = []
    async for wf in client.list_workflows(" AND ".join(clauses), limit=limit):
        attrs = wf.typed_search_attributes
        due = next((p.value for p in attrs if p.key.name == "DueAt"), None)
        rows.append(
            {
                "case_id": wf.id,
                "stage": next((p.value for p in attrs if p.key.name == "CaseStage"), None),
                "council": next((p.value for p in attrs if p.key.name == "CouncilCode"), None),
                "due_at": due.isoformat() if isinstance(due, datetime) else None,
                "overdue": bool(next((p.value for p in attrs if p.key.name == "Overdue"), False)),
                "status": wf.status.name if wf.status else None,
                "started": wf.start_time.isoformat(),
            }
        )
    return rows


def view(state: CaseState) -> dict[str, Any]:
    """The state as JSON, with the names the pages read (plan, predicted needs list)."""
    data = state.model_dump(mode="json")
    if state.draft is not None:
        data["plan"] = {
            **state.draft.plan.model_dump(mode="json"),
            "unmet_needs": [n if isinstance(n, str) else n.model_dump(mode="json") for n in state.draft.unmet_needs],
            "drafted_by": state.draft.drafted_by.model_dump(mode="json"),
            "version": state.draft.version,
        }
    else:
        data["plan"] = None
    data["predicted_needs_list"] = assessed_outcomes(state)
    return data


async def _record_refusal(
    client: Client, handle: WorkflowHandle[Any, Any], case_id: str, step: str, request: StepInput, reason: str
) -> None:
    refusal = _refusal(step, request, reason)
    try:
        await handle.signal(CaseWorkflow.refused, refusal)
    except RPCError:  # the case closed meanwhile
        description = await handle.describe()
        await _record_refusal_after_close(client, case_id, description.task_queue, refusal)


def _refusal(step: str, request: StepInput, reason: str) -> Refusal:
    return Refusal(step=step, actor=request.actor, reason=reason,
                   request_id=request.request_id or uuid.uuid4().hex)


async def _record_refusal_after_close(
    client: Client, case_id: str, task_queue: str, refusal: Refusal
) -> None:
    """A closed case runs no activities: a short workflow on its task queue writes the refusal."""
    key = f"{case_id}:refused:{refusal.request_id}"
    record = CaseRecord(
        event_key=key, case_id=case_id, actor=refusal.actor, action="update.refused",
        payload={"step": refusal.step, "reason": refusal.reason, "stage": "closed"},
    )
    await client.start_workflow(
        RecordRefusalWorkflow.run, record, id=key, task_queue=task_queue
    )


async def _raise_for_rpc(
    client: Client, exc: RPCError, handle: WorkflowHandle[Any, Any], case_id: str, step: str, request: StepInput
) -> None:
    if exc.status != RPCStatusCode.NOT_FOUND:
        return
    try:
        description = await handle.describe()
    except RPCError:
        raise CaseNotFound(f"No case {case_id} found", case_id) from None
    if description.status != WorkflowExecutionStatus.RUNNING:
        reason = f"the case is closed, so {step} cannot be taken"
        refusal = _refusal(step, request, reason)
        await _record_refusal_after_close(client, case_id, description.task_queue, refusal)
        raise CaseRefused(reason, case_id) from None


def _application_cause(exc: WorkflowUpdateFailedError) -> ApplicationError | None:
    """The business error behind a failed update (validator refusal or a handler's check)."""
    cause: BaseException | None = exc.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__ or getattr(cause, "cause", None)
    return cause


async def _check_unmet_provisions(client: Client, case_id: str, payload: dict[str, Any], rules: Any) -> None:
    """An unmet need names a provision from the council's rate card in force today, or `other`:
    the workflow cannot read the card, so it is checked here (the plan is otherwise unchanged)."""
    needs = payload.get("unmet_needs")
    if not isinstance(needs, list) or not any(isinstance(n, dict) for n in needs):
        return
    council = await _council_of(client, case_id)
    wrong = unknown_unmet_provision(payload, council, date.today(), rules)
    if wrong is not None:
        raise CaseInvalid(wrong[1], case_id, wrong[0])


async def _council_of(client: Client, case_id: str) -> str:
    """The case's council, from its search attributes (the server answers: no query wakes the
    workflow to send its whole state); from the state only for a case that has none yet."""
    try:
        found = (await client.get_workflow_handle(workflow_id(case_id)).describe()).typed_search_attributes
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CaseNotFound(f"No case {case_id} found", case_id) from None
        raise CaseBusy(f"Case {case_id} could not be read just now; try again shortly", case_id) from None
    return found.get(COUNCIL) or (await describe(client, case_id)).get("council") or ""


def _check_council(council: str) -> None:
    from carebudget.rulebook import UnknownCouncil, get_registry

    try:
        get_registry().bundle(council, date.today())
    except UnknownCouncil as exc:
        raise CaseInvalid(str(exc), field="council") from None


def _first_field(exc: ValidationError) -> str | None:
    errors = exc.errors()
    return ".".join(str(p) for p in errors[0]["loc"]) if errors else None
