"""Policy: the council's rule versions, diffs, upload with checks, what-if, two-officer publication."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import escape
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from carebudget.policy import changes as policy_changes
from carebudget.web import whatif_progress
from carebudget.web.auth import CurrentUser, require_roles
from carebudget.web.case_forms import OUTCOME_LABELS, WAY_LABELS, needs_from_form
from carebudget.web.chart import Bar, bar_chart
from carebudget.web.forms import blank_to_none, errors_by_field
from carebudget.web.pages.common import flash, redirect, render
from carebudget.web.policy_access import may_change_policy, may_read_policy, own_change
from carebudget.web.rules_view import council_overview, diff

router = APIRouter(include_in_schema=False)
POLICY = ("policy_admin", "national_admin")
ChangeId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]


def _home(request: Request, user: CurrentUser, status_code: int = 200, **extra: Any) -> Response:
    settings = request.app.state.settings
    overview = council_overview(settings, request.app.state.store)
    changes = policy_changes.list_all(request.app.state.store, user.council)
    versions = [v for v in request.app.state.store.list_policy_versions()
                if may_read_policy(user, v["council"])]
    extra.setdefault("values", {"council": user.council or "demo"})
    options = [(c["council"], c["council"]) for c in overview["councils"]
               if may_change_policy(user, c["council"])]
    return render(
        request,
        "policy.html",
        user,
        status_code=status_code,
        title="Council policy",
        overview=overview,
        changes=changes,
        published=versions,
        version_options=[(str(v["seq"]), f"{v['seq']}: {v['council']} {v['path']} from {v['effective_from']}")
                         for v in reversed(versions)],
        council_options=options,
        **extra,
    )


@router.get("/policy", response_class=HTMLResponse)
def policy_home(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*POLICY, page=True))]
) -> Response:
    return _home(request, user)


class DiffForm(BaseModel):
    council: str
    first: date
    second: date


@router.get("/policy/diff", response_class=HTMLResponse)
def policy_diff(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*POLICY, page=True))]
) -> Response:
    raw = blank_to_none(dict(request.query_params))
    try:
        form = DiffForm.model_validate(
            {"council": raw.get("council"), "first": raw.get("from"), "second": raw.get("to")}
        )
    except ValidationError as exc:
        errors = {
            ("from" if k == "first" else "to" if k == "second" else k): v
            for k, v in errors_by_field(exc).items()
        }
        return _home(request, user, status_code=400, errors=errors)
    if not may_read_policy(user, form.council):
        return _home(request, user, status_code=400,
                     errors={"council": f"You see the national rules and council {user.council}'s only"})
    result = diff(request.app.state.settings, request.app.state.store, form.council, form.first, form.second)
    return render(
        request, "policy_diff.html", user, title=f"What changed for {form.council}", diff=result
    )


@router.get("/policy/versions/compare", response_class=HTMLResponse)
def policy_compare(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*POLICY, page=True))]
) -> Response:
    from carebudget.policy.versions import VersionNotFound, compare_versions

    raw = dict(request.query_params)
    try:
        first, second = int(raw.get("vfrom", "")), int(raw.get("vto", ""))
        result = compare_versions(request.app.state.store, first, second)
    except ValueError:
        return _home(request, user, status_code=400,
                     errors={"vfrom": "Choose two published versions to compare"})
    except VersionNotFound as exc:
        return _home(request, user, status_code=400, errors={f"v{exc.field}": exc.message})
    if not may_read_policy(user, str(result["council"])):
        return _home(request, user, status_code=400, errors={"vfrom": f"There is no published version {first}"})
    return render(request, "policy_diff.html", user, title=f"Versions of {result['council']}", diff=result)


@router.post("/policy/changes", response_class=HTMLResponse)
async def upload(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*POLICY, page=True))]
) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    upload_file = form.get("file")
    content = values.get("content", "")
    if isinstance(upload_file, UploadFile) and upload_file.filename:
        raw = await upload_file.read(policy_changes.MAX_FILE_BYTES + 1)
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _home(
                request,
                user,
                status_code=400,
                values=values,
                errors={"file": "The file must be UTF-8 text (a .yaml rule or parameter file, or a letter template)"},
            )
    try:
        change = policy_changes.ProposalIn.model_validate(
            {
                "council": values.get("council", ""),
                "path": values.get("path", ""),
                "content": content,
                "note": values.get("note", ""),
            }
        )
    except ValidationError as exc:
        errors = errors_by_field(exc)
        if "content" in errors:
            errors["file"] = (
                "Choose a YAML file or a letter template, or paste its text: " + errors.pop("content").lower()
            )
        return _home(request, user, status_code=400, values=values, errors=errors)
    if not may_change_policy(user, change.council):
        return _home(request, user, status_code=400, values=values,
                     errors={"council": f"You are a policy officer of {user.council} and change only its rules"})
    try:
        # Off the event loop: checking a change takes seconds (a child process, the rule tests).
        # The what-if then runs in the background while the change's page shows its progress.
        proposal = await run_in_threadpool(
            policy_changes.propose,
            request.app.state.settings, request.app.state.store, change, user.username, user.role,
            defer_whatif=True,
        )
    except policy_changes.PolicyChangeError as exc:
        return _home(
            request, user, status_code=400, values=values, errors={exc.field or "path": exc.message}
        )
    if proposal.status == "refused":
        flash(
            request,
            "The change did not pass its checks: see the problems below. Nothing was published.",
            "warn",
        )
    else:
        flash(
            request,
            "The change passed its checks and tests. A second policy officer can approve it once "
            "its what-if on the caseload is shown.",
        )
    if proposal.whatif_pending:
        whatif_progress.start(request.app.state.settings, request.app.state.store, proposal.id)
    return redirect(f"/policy/changes/{proposal.id}")


def _short(label: str, most: int = 38) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"


def whatif_chart(proposal: policy_changes.Proposal) -> str:
    rows = proposal.whatif.get("largest", [])
    bars = [Bar(_short(str(r["case"])), Decimal(r["change"])) for r in rows]
    total = Decimal(proposal.whatif.get("total_weekly_change", "0"))
    bars.append(Bar("Total, all cases", total))
    return bar_chart(
        bars, "Change in weekly indicative budget (mid-point) per case, largest first, and in total"
    )


@router.get("/policy/changes/{change_id}", response_class=HTMLResponse)
def show_change(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY, page=True))],
    change_id: ChangeId,
    proposal: Annotated[policy_changes.Proposal, Depends(own_change(page=True))],
) -> Response:
    progress = None
    if proposal.whatif_pending:
        progress = whatif_progress.start(request.app.state.settings, request.app.state.store, change_id,
                                         retry_failed=True)
    return render(
        request,
        "policy_change.html",
        user,
        title=f"Policy change {change_id}",
        p=proposal,
        chart=whatif_chart(proposal) if proposal.whatif else "",
        progress=progress,
    )


@router.get("/policy/changes/{change_id}/letter.html")
async def letter_preview(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY, page=True))],
    change_id: ChangeId,
    proposal: Annotated[policy_changes.Proposal, Depends(own_change(page=True))],
) -> Response:
    """The letter a proposed template writes, for a sample person (not a real case)."""
    try:
        html = await run_in_threadpool(policy_changes.letter_preview, request.app.state.settings,
                                       request.app.state.store, proposal)
    except policy_changes.PolicyChangeError as exc:
        return HTMLResponse(f"<p>{escape(exc.message)}</p>", status_code=404)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/policy/changes/{change_id}/whatif")
def whatif_status(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY, page=True))],
    change_id: ChangeId,
    proposal: Annotated[policy_changes.Proposal, Depends(own_change(page=True))],
) -> Response:
    """How far the change's what-if has got: {state, done, total, message}; `done` once saved."""
    if not proposal.whatif_pending:
        cases = int(proposal.whatif.get("cases", 0))
        return JSONResponse({"state": "done", "done": cases, "total": cases, "message": ""})
    progress = whatif_progress.start(request.app.state.settings, request.app.state.store, change_id)
    snapshot = progress.to_json()
    if snapshot["state"] == "done":
        # Finished between the two reads: the change saved with its figures is what counts.
        snapshot["state"] = "deciding"
    return JSONResponse(snapshot)


@router.post("/policy/changes/{change_id}/publish", response_class=HTMLResponse)
def publish(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY, page=True))],
    change_id: ChangeId,
    mine: Annotated[policy_changes.Proposal, Depends(own_change(page=True))],
) -> Response:
    try:
        proposal = policy_changes.approve_and_publish(
            request.app.state.settings, request.app.state.store, change_id, user.username, user.role
        )
    except policy_changes.PolicyChangeError as exc:
        flash(request, exc.message, "warn")
        return redirect(f"/policy/changes/{change_id}")
    flash(
        request,
        f"Published. New decisions for {proposal.council} from {proposal.effective_from} use "
        f"bundle {(proposal.bundle or '')[:12]}, without a restart.",
    )
    return redirect(f"/policy/changes/{change_id}")


@router.post("/policy/changes/{change_id}/withdraw", response_class=HTMLResponse)
def withdraw(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY, page=True))],
    change_id: ChangeId,
    mine: Annotated[policy_changes.Proposal, Depends(own_change(page=True))],
) -> Response:
    try:
        policy_changes.withdraw(request.app.state.store, change_id, user.username)
    except policy_changes.PolicyChangeError as exc:
        flash(request, exc.message, "warn")
        return redirect(f"/policy/changes/{change_id}")
    flash(request, "The change was withdrawn.")
    return redirect("/policy")


@router.get("/policy/try", response_class=HTMLResponse)
def try_page(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*POLICY, page=True))]
) -> Response:
    return render(
        request,
        "policy_try.html",
        user,
        title="Try the rules",
        values={"council": user.council or "demo"},
        outcomes=OUTCOME_LABELS,
        ways=WAY_LABELS,
        result=None,
        chosen={},
    )


@router.post("/policy/try", response_class=HTMLResponse)
async def try_rules(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*POLICY, page=True))]
) -> Response:
    """An indicative budget under the rules in force today: how a policy officer sees a change used."""
    from carebudget.decisions import DecisionError, decide_with_bundle
    from carebudget.policy.versions import registry_for
    from carebudget.rulebook import UnknownCouncil

    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    chosen = {o: [str(w) for w in form.getlist(f"now.{o}")] for o in OUTCOME_LABELS}
    needs, errors = needs_from_form(form, "now")
    result = None
    if needs is not None:
        facts = {"person": {"date_of_birth": "1960-01-01", "setting": "home"}, "needs": needs}
        try:
            settings = request.app.state.settings
            bundle = registry_for(settings.rules_dir, request.app.state.store).bundle(
                values.get("council", ""), date.today()
            )
            result = decide_with_bundle("indicative-budget", bundle, date.today(), facts)
        except UnknownCouncil as exc:
            errors["council"] = str(exc)
        except DecisionError as exc:
            errors[exc.field or "council"] = exc.message
    return render(
        request,
        "policy_try.html",
        user,
        status_code=400 if errors else 200,
        title="Try the rules",
        values=values,
        outcomes=OUTCOME_LABELS,
        ways=WAY_LABELS,
        result=result,
        chosen=chosen,
        errors=errors,
    )
