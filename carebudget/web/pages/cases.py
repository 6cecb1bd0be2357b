"""Pages for the people in a case: the person, the social worker, the approver, the appeals officer.

Each page shows the case as its workflow holds it and offers only the steps the signed-in role
takes at the current stage; the workflow still refuses anything out of turn (Care Act 2014 s9-s27).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from carebudget.store.errors import StoreError
from carebudget.web import case_forms, finding, statement
from carebudget.web import cases as case_access
from carebudget.web.auth import CurrentUser, require_roles
from carebudget.web.case_forms import OUTCOME_LABELS, WAY_LABELS
from carebudget.web.case_view import view
from carebudget.web.caseload import social_workers
from carebudget.web.letters import rows as letter_rows
from carebudget.web.pages.common import flash, redirect, render
from carebudget.web.pages.operations import PAGE_SIZES, temporal_link
from carebudget.web.person_words import event_words, for_you, plain_stage, standing
from carebudget.web.refusal_words import plain_refusal
from carebudget.web.stages import STAGES, stage_label
from carebudget.web.steps import STEPS, Step, steps_for

router = APIRouter(include_in_schema=False)
WORKERS = ("social_worker", "approver", "appeals_officer")
CASE_PAGE = ("person", "social_worker", "approver", "appeals_officer")
START_FIELDS = ("council", "name", "date_of_birth", "setting", "care_home_admission_date",
                "has_capacity", "has_authorised_person", "asks_council_to_arrange", "person_user",
                "assigned_to", "area")
CaseId = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.get("/cases", response_class=HTMLResponse)
def my_work(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*WORKERS, page=True))],
    stage: str | None = None,
    mine: bool = False,
    unallocated: bool = False,
    q: Annotated[str, Query(max_length=80)] = "",
    due_before: str = "",
    page: Annotated[str, Query(max_length=12)] = "1",
    size: Annotated[str, Query(max_length=12)] = "50",
) -> Response:
    filters: dict[str, Any] = case_access.own_council(user)
    errors: dict[str, str] = {}
    if stage in STAGES:
        filters["stage"] = stage
    if mine:
        filters["assigned_to"] = user.username
    elif unallocated:
        filters["unassigned"] = True
    if due_before.strip():
        try:  # "due before D" is "overdue as judged on D", as on the operations list
            filters.update(overdue=True, today=date.fromisoformat(due_before.strip()))
        except ValueError:
            errors["due_before"] = "Enter the date as a real date, like 2026-03-01"
    number = max(1, _int(page))
    per_page = _int(size) if _int(size) in PAGE_SIZES else 50
    store = request.app.state.store
    search = finding.search_filters(q)
    if isinstance(search, str):
        errors["q"] = search
    else:
        filters.update(search)
    rows, total = store.list_cases(filters, {"number": number, "size": per_page}, role=user.role)
    pages = max(1, -(-total // per_page))
    if number > pages:  # past the end: the last page, and say so
        errors["page"] = f"There are only {pages} page{'s' if pages > 1 else ''}; this is the last"
        number = pages
        rows, total = store.list_cases(filters, {"number": number, "size": per_page}, role=user.role)
    if "q" in errors or "due_before" in errors:  # a search that cannot run shows nothing, not everything
        rows, total = [], 0
    if "name" in filters:
        finding.record_name_search(store, user, q.strip(), total)
    if q.strip() and not total and not errors:
        errors["q"] = f"No case matches {q.strip()!r}: try part of the person's name or the start of the reference"
    keep = {k: v for k, v in {"stage": stage, "mine": "true" if mine else None,
                              "unallocated": "true" if unallocated else None, "q": q.strip() or None,
                              "due_before": due_before.strip() or None, "size": per_page}.items() if v}
    return render(
        request,
        "cases.html",
        user,
        title="Cases",
        rows=rows,
        total=total,
        stage=stage,
        mine=mine,
        unallocated=unallocated,
        q=q,
        due_before=due_before,
        page=number,
        pages=pages,
        size=per_page,
        sizes=[(str(n), f"{n} a page") for n in PAGE_SIZES],
        page_link=lambda n: "/cases?" + urlencode({**keep, "page": n}),
        errors=errors,
        stage_label=stage_label,
        stages=[(s, stage_label(s)) for s in STAGES],
    )


@router.get("/my-case", response_class=HTMLResponse)
def my_case(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles("person", page=True))]
) -> Response:
    return _my_cases(request, user)


def _my_cases(request: Request, user: CurrentUser, status_code: int = 200, **extra: Any) -> Response:
    rows = request.app.state.store.person_cases(user.username, role=user.role)
    extra.setdefault("values", {})
    return render(request, "my_case.html", user, status_code=status_code, title="Your cases",
                  rows=rows, standing=standing, **extra)


@router.post("/my-case", response_class=HTMLResponse)
async def find_my_case(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles("person", page=True))]
) -> Response:
    form = await request.form()
    reference = str(form.get("case_id") or "").strip()
    if not reference:
        return _my_cases(request, user, 400,
                         errors={"case_id": "Enter the case reference your social worker gave you"})
    try:
        await case_access.describe(request, reference, user)
    except HTTPException as exc:
        if exc.status_code not in (403, 404):
            raise
        return _my_cases(
            request, user, 400, values={"case_id": reference},
            errors={"case_id": "No case of yours has this reference; check it with your social worker"},
        )
    request.session["my_case"] = reference
    return redirect(f"/cases/{quote(reference)}")


def _areas(request: Request, council: str | None) -> list[tuple[str, str]]:
    """The council's localities for the intake form (council parameter case.areas)."""
    from carebudget.service.council_lists import areas

    return [(a, a) for a in areas(council or "demo", date.today(), _rules(request))]


@router.get("/cases/new", response_class=HTMLResponse)
def new_case(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles("social_worker", "person", page=True))],
) -> Response:
    values = {"council": user.council or "demo"}
    return render(request, "case_new.html", user, title="Start a case", values=values,
                  workers=social_workers(request.app.state.store, user.council),
                  areas=_areas(request, values.get("council") or user.council))


@router.post("/cases/new", response_class=HTMLResponse)
async def start_case(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles("social_worker", "person", page=True))],
) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}
    payload, errors = STEPS["start"].parse(form, {}, user)
    if errors:
        return render(
            request,
            "case_new.html",
            user,
            status_code=400,
            title="Start a case",
            values=values,
            errors=errors,
            workers=social_workers(request.app.state.store, user.council),
                  areas=_areas(request, values.get("council") or user.council),
        )
    try:
        case_id = await case_access.start_case(request, payload, user)
    except HTTPException as exc:
        if exc.status_code not in (409, 422):
            raise
        detail = exc.detail if isinstance(exc.detail, dict) else {"message": str(exc.detail)}
        # Beside the field it is about, when the form has that field.
        where = str(detail.get("field") or "").rsplit(".", 1)[-1]
        where = where if where in START_FIELDS else "form"
        return render(
            request,
            "case_new.html",
            user,
            status_code=400,
            title="Start a case",
            values=values,
            errors={where: str(detail.get("message"))},
            workers=social_workers(request.app.state.store, user.council),
                  areas=_areas(request, values.get("council") or user.council),
        )
    if user.role == "person":
        request.session["my_case"] = case_id
    flash(
        request, f"Case {case_id} is open. The assessment is due within the council's time limit."
    )
    return redirect(f"/cases/{quote(case_id)}")


def _holder(request: Request, case_id: str, user: CurrentUser) -> str | None:
    """The social worker holding the case now (the case list; the workflow knows only intake)."""
    try:
        return request.app.state.store.get_case(case_id, role=user.role).assigned_to  # type: ignore[no-any-return]
    except StoreError:  # intake still running: not on the case list yet
        return None


async def _case_page(
    request: Request, case_id: str, user: CurrentUser, status_code: int = 200, **extra: Any
) -> Response:
    state = await case_access.describe(request, case_id, user)
    case = view(state)
    case["case_id"] = case["case_id"] or case_id
    if user.role == "person":
        _speak_to_the_person(case)
    actions = steps_for(case.get("stage"), user.role)
    extra["values"] = {**prefill(state), **extra.get("values", {})}
    card = case_forms.rate_card_options(_rules(request), case["council"] or "demo", date.today())
    extra.setdefault("holder", _holder(request, case_id, user))
    extra.setdefault("trust", statement.trust(state, _rules(request), date.today()))
    extra.setdefault("letters", letter_rows(request.app.state.store, case_id, ""))
    return render(
        request,
        "case.html",
        user,
        status_code=status_code,
        title=f"Case {case_id}",
        case=case,
        state=state,
        actions=actions,
        outcomes=OUTCOME_LABELS,
        ways=WAY_LABELS,
        stage_label=stage_label,
        plain_stage=plain_stage,
        standing=standing,
        event_words=event_words,
        counter_status=COUNTER_STATUS,
        appeal_words=APPEAL_WORDS,
        temporal_url=temporal_link(request.app.state.settings, case_id),
        plan_rows=range(max(case_forms.PLAN_ROWS, len((case.get("plan") or {}).get("items") or []) + 2,
                            _int(extra.get("values", {}).get("rows")))),
        unmet_rows=range(max(case_forms.UNMET_ROWS, len(case.get("unmet_needs") or []) + 1,
                             _int(extra.get("values", {}).get("unmet_rows")))),
        card=card,
        provisions=case_forms.provision_choices(card),
        justification_lines=range(case_forms.JUSTIFICATION_LINES),
        draft=case_forms.draft_plan(extra["values"], case.get("indicative_budget")),
        plan_warnings=case_forms.plan_warnings(case.get("plan"), case["support"], card, case.get("indicative_budget")),
        **extra,
    )


COUNTER_STATUS = {"pending": "It is waiting for an answer", "accepted": "It was accepted",
                  "appealed": "It was appealed", "stood": "It stands: the time to appeal has passed"}
APPEAL_WORDS = {"uphold": "upheld: the plan's amount stands",
                "part_uphold": "partly upheld, with a new amount",
                "dismiss": "dismissed: the council's lower amount stands"}


def _speak_to_the_person(case: dict[str, Any]) -> None:
    """The decisions' reasons said to the person, the law they cite kept for a note at the end."""
    law: list[str] = []
    for key in ("eligibility_reasons", "budget_reasons", "charge_reasons", "advice"):
        case[key], cited = for_you(list(case.get(key) or []))
        law += [c for c in cited if c not in law]
    for holder, key in [(case, "eligibility_headline"), *((e, "summary") for e in case.get("timeline") or [])]:
        if holder.get(key):
            said, cited = for_you([str(holder[key])])
            holder[key] = " ".join(said)
            law += [c for c in cited if c not in law]
    case["law"] = law


def _int(text: Any) -> int:
    try:
        return min(int(str(text)), 200)
    except ValueError:
        return 0


def prefill(state: dict[str, Any]) -> dict[str, str]:
    """The answers so far (verified, else the person's own), so nobody types them twice."""
    values: dict[str, str] = {}
    source = state.get("assessment") or state.get("self_assessment") or {}
    for prefix, key in (("now", "needs"), ("soon", "predicted_needs")):
        needs = source.get(key) or {}
        if needs:
            values[f"{prefix}.wellbeing_impact"] = str(needs.get("wellbeing_impact", ""))
            values[f"{prefix}.arise_from_impairment_or_illness"] = (
                "yes" if needs.get("arise_from_impairment_or_illness") else "no"
            )
    return values


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*CASE_PAGE, page=True))],
    case_id: CaseId,
) -> Response:
    return await _case_page(request, case_id, user)


@router.post("/cases/{case_id}/counter-proposal/check", response_class=HTMLResponse)
async def check_counter_proposal(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles("approver", page=True))],
    case_id: CaseId,
) -> Response:
    """Show need by need whether the lower amount covers it, before it can be sent (CSSG 11.24)."""
    form = await request.form()
    state = await case_access.describe(request, case_id, user)
    check, errors = counter_check(request, state, form)
    return await _case_page(
        request,
        case_id,
        user,
        status_code=400 if errors else 200,
        check=check,
        errors=errors,
        values={k: str(v) for k, v in form.items()},
        open_step="counter_propose",
    )


def counter_check(
    request: Request, state: dict[str, Any], form: Any
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    case = view(state)
    needs = case["support"]
    proposal, errors = case_forms.proposal_from_form(form, [n["outcome"] for n in needs])
    plan = case.get("plan") or {}
    if proposal is None:
        return None, errors
    if not plan.get("items"):
        return None, {"form": "There is no plan to compare the lower amount with"}
    if not needs:
        return None, {"form": "The assessment records no support per need, so a lower amount cannot be checked"}
    plan_input = {"weekly_total": plan.get("weekly_total"), "items": plan["items"]}
    from carebudget.decisions import DecisionError

    try:
        check = case_forms.check_counter_proposal(
            _rules(request),
            case["council"] or "demo",
            date.today(),
            needs,
            plan_input,
            proposal,
        )
    except DecisionError as exc:
        return None, {exc.field or "form": exc.message}
    check["proposal"] = proposal
    return check, {}


@router.post("/cases/{case_id}/steps/{step}", response_class=HTMLResponse)
async def take_step(
    request: Request,
    step: Annotated[str, Path(pattern=r"^[a-z_]{1,40}$")],
    user: Annotated[CurrentUser, Depends(require_roles(*CASE_PAGE, page=True))],
    case_id: CaseId,
) -> Response:
    spec: Step | None = STEPS.get(step)
    if spec is None or spec.name == "start" or user.role not in spec.roles:
        raise HTTPException(403, "Your role does not take this step")
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}
    state = await case_access.describe(request, case_id, user)
    if step == "submit_plan" and "add_row" in form:  # any number of plan items
        values["rows"] = str(_int(values.get("rows")) + 1)
        return await _case_page(request, case_id, user, values=values, open_step=step)
    if step == "submit_plan" and "add_unmet" in form:  # any number of unmet needs
        values["unmet_rows"] = str(_int(values.get("unmet_rows")) + 1)
        return await _case_page(request, case_id, user, values=values, open_step=step)
    if step == "counter_propose":
        check, errors = counter_check(request, state, form)
        if check is not None and not check["valid"]:
            errors = {"form": "The lower amount does not cover every need yet: see the table"}
        if errors:
            return await _case_page(
                request,
                case_id,
                user,
                status_code=400,
                check=check,
                errors=errors,
                values=values,
                open_step=step,
            )
        payload = spec.payload_from_check(check) if spec.payload_from_check and check else {}
    else:
        payload, errors = spec.parse(form, state, user)
        if errors:
            return await _case_page(
                request,
                case_id,
                user,
                status_code=400,
                errors=errors,
                values=values,
                open_step=step,
            )
    try:
        await case_access.act(request, case_id, spec.workflow_step, payload, user, whole_state=False)
    except HTTPException as exc:
        if exc.status_code not in (409, 422):
            raise
        message = exc.detail.get("message") if isinstance(exc.detail, dict) else str(exc.detail)
        where, words = plain_refusal(str(message), user.username)
        return await _case_page(
            request,
            case_id,
            user,
            status_code=400,
            errors={where: words},
            values=values,
            open_step=step,
        )
    flash(request, spec.done_message)
    return redirect(f"/cases/{quote(case_id)}")


def _rules(request: Request) -> Any:
    """The rules in force for this service: shipped files with the published policy versions."""
    from carebudget.policy.versions import registry_for

    return registry_for(request.app.state.settings.rules_dir, request.app.state.store)
