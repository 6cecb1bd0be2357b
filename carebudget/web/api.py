"""The JSON API under /api: tokens, users, decisions, cases, audit and rules.

Every route names the roles that may call it with `require_roles`; the OpenAPI schema is at
/api/openapi.json and the interactive docs at /api/docs.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from carebudget.policy import changes as policy_changes
from carebudget.store.models import DECISION_ID_MAX
from carebudget.store.roles import NATIONAL_ROLES, can_read_personal
from carebudget.web import cases as case_access
from carebudget.web import finding
from carebudget.web.auth import (
    ALL_ROLES,
    CASE_READERS,
    TOKEN_MAX_AGE_SECONDS,
    CurrentUser,
    authenticate,
    hash_password,
    issue_token,
    record_sign_in,
    require_roles,
)
from carebudget.web.passwords import password_problem
from carebudget.web.policy_access import may_change_policy, may_read_policy, own_change

router = APIRouter(prefix="/api")

DECIDERS = ("social_worker", "approver", "appeals_officer", "compliance", "policy_admin")
CASE_LISTERS = ("social_worker", "approver", "appeals_officer", "operations", "compliance")
AUDITORS = ("compliance",)
POLICY = ("policy_admin", "national_admin")
POLICY_READERS = ("policy_admin", "national_admin", "compliance")
RoleName = Literal[
    "person",
    "social_worker",
    "approver",
    "appeals_officer",
    "operations",
    "compliance",
    "policy_admin",
    "national_admin",
    "admin",
]
DecisionKind = Literal[
    "eligibility",
    "carer-eligibility",
    "charge",
    "indicative-budget",
    "assessment",
    "counter-proposal",
]
CaseId = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRequest(Strict):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=500)


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    username: str
    role: str


class Me(BaseModel):
    username: str
    role: str
    display_name: str
    council: str | None


class UserIn(Strict):
    username: str = Field(min_length=2, max_length=60, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    display_name: str = Field(min_length=1, max_length=120)
    role: RoleName
    password: str = Field(
        min_length=1, max_length=500, description="At least 12 characters, not a common password"
    )
    council: str | None = Field(
        None, pattern=r"^[a-z0-9_-]{1,40}$",
        description="The council the user works for (default: the administrator's own); none for national_admin",
    )
    team: str | None = Field(None, max_length=60, description="The team within the council (fairness by team)")

    @field_validator("password")
    @classmethod
    def _strong_password(cls, value: str, info: ValidationInfo) -> str:
        problem = password_problem(value, str(info.data.get("username", "")))
        if problem:
            raise ValueError(problem)
        return value


class UserChange(Strict):
    display_name: str | None = Field(None, min_length=1, max_length=120)
    role: RoleName | None = None
    password: str | None = Field(
        None, min_length=1, max_length=500, description="At least 12 characters, not a common password"
    )
    active: bool | None = None
    team: str | None = Field(None, max_length=60, description='The team within the council; "" clears it')

    @field_validator("password")
    @classmethod
    def _strong_password(cls, value: str | None) -> str | None:
        problem = password_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value


class Health(BaseModel):
    status: Literal["ok"] = "ok"


@router.get("/health", response_model=Health, tags=["service"])
async def health() -> Health:
    """Liveness: answers without touching the database or Temporal."""
    return Health()


@router.post(
    "/token",
    response_model=Token,
    tags=["sign-in"],
    responses={401: {"description": "Wrong username or password"}},
)
def token(request: Request, body: TokenRequest) -> Token:
    """Exchange a username and password for a bearer token (valid 8 hours; DELETE /api/token
    signs it out). Repeated failures lock the username and the address out for a while (429)."""
    from carebudget.web.security import client_address, too_many_attempts

    throttle, address = request.app.state.throttle, client_address(request)
    wait = throttle.attempt(body.username, address)
    if wait:
        raise too_many_attempts(wait)
    user = authenticate(request.app.state.store, body.username, body.password)
    if user is None:
        raise HTTPException(401, "The username or password is not right")
    throttle.succeeded(body.username, address)
    record_sign_in(request.app.state.store, user, "api")
    sid = request.app.state.store.create_session(user.username, user.role, "api", TOKEN_MAX_AGE_SECONDS)
    return Token(
        access_token=issue_token(request.app.state.settings.secret_key, user, sid),
        expires_in=TOKEN_MAX_AGE_SECONDS,
        username=user.username,
        role=user.role,
    )


@router.delete("/token", status_code=204, tags=["sign-in"])
def sign_out_token(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*ALL_ROLES))],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
) -> Response:
    """Sign this token out: it is refused from now on."""
    from carebudget.web.auth import token_serializer

    assert credentials is not None  # require_roles admitted it
    data = token_serializer(request.app.state.settings.secret_key).loads(credentials.credentials)
    request.app.state.store.revoke_session(str(data.get("s")))
    return Response(status_code=204)


@router.get("/me", response_model=Me, tags=["sign-in"])
def me(user: Annotated[CurrentUser, Depends(require_roles(*ALL_ROLES))]) -> Me:
    return Me(username=user.username, role=user.role, display_name=user.display_name,
              council=user.council)


# --- users (admin) -------------------------------------------------------------------------------
def council_problem(admin: CurrentUser, role: str, council: str | None) -> str | None:
    """A national role has no council; every other role one, and an administrator of a council
    adds and changes users of that council only."""
    if role in NATIONAL_ROLES:
        return "A national rules officer works for England as a whole: leave the council empty" if council else None
    if not council:
        return "Give the council this user works for"
    if admin.council is not None and council != admin.council:
        return f"You administer council {admin.council}; add users to it only"
    return None


def _administers(admin: CurrentUser, council: str | None) -> bool:
    """An administrator of a council sees and changes its users and the national officers."""
    return admin.council is None or council in (admin.council, None)


@router.get("/users", tags=["users"])
def list_users(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles("admin"))]
) -> list[dict[str, Any]]:
    return [u.model_dump(mode="json") for u in request.app.state.store.list_users()
            if _administers(user, u.council)]


@router.post("/users", status_code=201, tags=["users"])
def create_user(
    request: Request, body: UserIn, user: Annotated[CurrentUser, Depends(require_roles("admin"))]
) -> dict[str, Any]:
    council = body.council if body.council is not None or body.role in NATIONAL_ROLES else user.council
    problem = council_problem(user, body.role, council)
    if problem is not None:
        raise HTTPException(422, {"error": "invalid input", "field": "council", "message": problem})
    created = request.app.state.store.create_user(
        body.username,
        body.display_name,
        body.role,
        hash_password(body.password),
        actor=user.username,
        council=council,
        team=body.team,
    )
    return dict(created.model_dump(mode="json"))


@router.patch("/users/{username}", tags=["users"])
def change_user(
    request: Request,
    body: UserChange,
    username: Annotated[str, Path(min_length=1, max_length=60)],
    user: Annotated[CurrentUser, Depends(require_roles("admin"))],
) -> dict[str, Any]:
    store = request.app.state.store
    found = store.get_user(username)
    if found is None or not _administers(user, found.council):
        raise HTTPException(404, {"error": "not found", "field": "username",
                                  "message": f"No user {username!r}"})
    changed = store.update_user(
        username,
        display_name=body.display_name,
        role=body.role,
        active=body.active,
        password_hash=hash_password(body.password) if body.password else None,
        actor=user.username,
        team=body.team,
    )
    return dict(changed.model_dump(mode="json"))


# --- decisions (pure: no case is changed) ---------------------------------------------------------
@router.post(
    "/decisions/{kind}",
    tags=["decisions"],
    responses={422: {"description": "Invalid facts, a missing amount or an unknown council"}},
)
def decide(
    request: Request,
    kind: DecisionKind,
    payload: Annotated[
        dict[str, Any],
        Body(
            examples=[
                {
                    "person": {"date_of_birth": "1950-01-01", "setting": "home"},
                    "needs": {
                        "arise_from_impairment_or_illness": True,
                        "wellbeing_impact": "significant",
                        "outcomes": {
                            "nutrition": ["needs_assistance"],
                            "personal_hygiene": ["needs_assistance"],
                        },
                    },
                }
            ]
        ),
    ],
    user: Annotated[CurrentUser, Depends(require_roles(*DECIDERS))],
    council: Annotated[str | None, Query(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$",
                                         description="Default: your own council (national roles: demo)")] = None,
    on: Annotated[date | None, Query(alias="date")] = None,
) -> dict[str, Any]:
    """Make one decision (the `carebudget decide` contract) under the rules in force on the date."""
    from carebudget.decisions import DecisionError, decide_with_bundle
    from carebudget.policy.versions import registry_for
    from carebudget.rulebook import UnknownCouncil

    council = council or user.council or "demo"
    day = on or date.today()
    try:
        settings, store = request.app.state.settings, request.app.state.store
        bundle = registry_for(settings.rules_dir, store).bundle(council, day)
        return dict(decide_with_bundle(kind, bundle, day, payload))
    except UnknownCouncil as exc:
        raise HTTPException(
            422, {"error": "unknown council", "field": "council", "message": str(exc)}
        ) from None
    except DecisionError as exc:
        raise HTTPException(422, exc.to_json()) from None


@router.get("/decisions/{decision_id}", tags=["audit"])
def get_decision(
    request: Request,
    decision_id: Annotated[int, Path(ge=1, le=DECISION_ID_MAX)],
    user: Annotated[CurrentUser, Depends(require_roles(*AUDITORS))],
) -> dict[str, Any]:
    return dict(
        request.app.state.store.get_decision(decision_id, role=user.role).model_dump(mode="json")
    )


@router.post("/decisions/{decision_id}/replay", tags=["audit"])
def replay_decision(
    request: Request,
    decision_id: Annotated[int, Path(ge=1, le=DECISION_ID_MAX)],
    user: Annotated[CurrentUser, Depends(require_roles(*AUDITORS))],
) -> dict[str, Any]:
    """Re-run a stored decision under the stored bundle it names; identical or the differences."""
    return dict(request.app.state.store.replay_decision(decision_id).model_dump(mode="json"))


# --- cases ---------------------------------------------------------------------------------------
class CaseListQuery(Strict):
    stage: str | None = Field(None, max_length=40)
    council: str | None = Field(None, max_length=40)
    assigned_to: str | None = Field(None, max_length=60)
    overdue: bool | None = None
    due_before: date | None = None
    id_prefix: str | None = Field(None, min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$",
                                  description="The start of a case reference, like C-2026")
    name: str | None = Field(None, min_length=2, max_length=200,
                             description="Part of the person's name (staff who may see names; on the ledger)")
    page: int = Field(1, ge=1, le=1_000_000)
    size: int = Field(50, ge=1, le=500)


@router.get("/cases", tags=["cases"])
def list_cases(
    request: Request,
    query: Annotated[CaseListQuery, Depends()],
    user: Annotated[CurrentUser, Depends(require_roles(*CASE_LISTERS))],
) -> dict[str, Any]:
    """The operations list: overdue first, then by due date; filters combine with AND. A search by
    name is for roles that may see names, and each one is on the ledger (`person.searched`)."""
    if query.name and not can_read_personal(user.role):
        raise HTTPException(403, {"error": "forbidden", "field": "name",
                                  "message": "Your role does not see names, so cannot search by one: "
                                             "search by the start of the reference (id_prefix)"})
    rows, total = case_access.list_cases(request.app.state.store, query, user)
    if query.name:
        finding.record_name_search(request.app.state.store, user, query.name.strip(), total)
    return {
        "total": total,
        "page": query.page,
        "size": query.size,
        "cases": [r.model_dump(mode="json") for r in rows],
    }


@router.post("/cases", status_code=201, tags=["cases"])
async def start_case(
    request: Request,
    payload: Annotated[dict[str, Any], Body()],
    user: Annotated[CurrentUser, Depends(require_roles("social_worker", "person"))],
) -> dict[str, Any]:
    """Open a case (Care Act 2014 s9: an assessment wherever it appears there may be needs)."""
    case_id = await case_access.start_case(request, payload, user)
    return {"case_id": case_id}


@router.get("/cases/{case_id}", tags=["cases"])
async def show_case(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*CASE_READERS))],
    case_id: CaseId,
) -> dict[str, Any]:
    """The case's full state and timeline, as the workflow holds it."""
    return await case_access.describe(request, case_id, user)


@router.post("/cases/{case_id}/steps/{step}", tags=["cases"])
async def act_on_case(
    request: Request,
    step: Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z_]+$")],
    payload: Annotated[dict[str, Any], Body(default_factory=dict)],
    user: Annotated[CurrentUser, Depends(require_roles(*case_access.ACTORS))],
    case_id: CaseId,
) -> dict[str, Any]:
    """Take one step of the case; the workflow refuses a step out of turn or by the wrong person."""
    return await case_access.act(request, case_id, step, payload, user)


@router.get("/cases/{case_id}/letters", tags=["cases"])
async def case_letters(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*CASE_READERS))],
    case_id: CaseId,
) -> list[dict[str, Any]]:
    """The case's letters, oldest first: kind, created, sha256 (of the HTML; it is on the ledger)
    and links to each as PDF and HTML. The same checks as the case: a person, their own only."""
    from carebudget.web.letters import listing

    return await listing(request, case_id, user, "/api")


@router.get(
    "/cases/{case_id}/letters/{letter_file}",
    tags=["cases"],
    responses={200: {"content": {"application/pdf": {}, "text/html": {}}}},
)
async def case_letter(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*CASE_READERS))],
    case_id: CaseId,
    letter_file: Annotated[str, Path(min_length=3, max_length=30, pattern=r"^[0-9]+\.(pdf|html)$")],
) -> Response:
    """One letter as issued: `{letter_id}.pdf` or `{letter_id}.html`."""
    from carebudget.web.letters import serve

    return await serve(request, case_id, letter_file, user)


@router.get("/cases/{case_id}/trail", tags=["audit"])
def case_trail(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*AUDITORS))],
    case_id: CaseId,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Every ledger row and decision of the case, as JSON or CSV."""
    store = request.app.state.store
    store.get_case(case_id, role=user.role)
    trail = [e.model_dump(mode="json") for e in store.case_trail(case_id, role=user.role)]
    if format == "csv":
        return Response(
            trail_csv(trail),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{case_id}-trail.csv"'},
        )
    decisions = [d.model_dump(mode="json") for d in store.case_decisions(case_id, role=user.role)]
    body = {"case_id": case_id, "trail": trail, "decisions": decisions}
    return Response(
        json.dumps(body, indent=1),
        media_type="application/json",
        headers={"Content-Disposition": f'inline; filename="{case_id}-trail.json"'},
    )


def trail_csv(trail: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    columns = [
        "seq",
        "at",
        "case_id",
        "actor",
        "role",
        "action",
        "payload",
        "personal",
        "prev_hash",
        "hash",
    ]
    writer = csv.DictWriter(out, columns, extrasaction="ignore")
    writer.writeheader()
    for row in trail:
        writer.writerow(
            {
                **row,
                "payload": json.dumps(row.get("payload"), sort_keys=True),
                "personal": json.dumps(row.get("personal"), sort_keys=True),
            }
        )
    return out.getvalue()


@router.get("/ledger/verify", tags=["audit"])
def verify_ledger(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*AUDITORS))]
) -> dict[str, Any]:
    """Recompute the hash chain of the caller's council (every chain for a national role); names
    the first broken row if any."""
    return dict(request.app.state.store.verify_chain(council=user.council).model_dump(mode="json"))


# --- rules and policy changes --------------------------------------------------------------------
@router.get("/rules", tags=["rules"])
def councils(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*POLICY_READERS))]
) -> dict[str, Any]:
    from carebudget.web.rules_view import council_overview

    overview = council_overview(request.app.state.settings, request.app.state.store)
    overview["councils"] = [c for c in overview["councils"] if may_read_policy(user, c["council"])]
    return overview


@router.get("/rules/{council}/diff", tags=["rules"])
def rules_diff(
    request: Request,
    council: Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,40}$")],
    first: Annotated[date, Query(alias="from")],
    second: Annotated[date, Query(alias="to")],
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY_READERS))],
) -> dict[str, Any]:
    from carebudget.web.rules_view import diff

    if not may_read_policy(user, council):
        raise _no_council(council)
    return diff(request.app.state.settings, request.app.state.store, council, first, second)


@router.get("/policy/changes", tags=["rules"])
def list_changes(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*POLICY))]
) -> list[dict[str, Any]]:
    return [
        policy_changes.as_json(p)
        for p in policy_changes.list_all(request.app.state.store, user.council)
    ]


@router.post("/policy/changes", status_code=201, tags=["rules"])
def propose_change(
    request: Request,
    body: policy_changes.ProposalIn,
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY))],
) -> dict[str, Any]:
    """Upload a council rule or parameter file: it is checked, tested and run against the caseload."""
    if not may_change_policy(user, body.council):
        raise HTTPException(422, {"error": "invalid input", "field": "council",
                                  "message": f"council: you are a policy officer of {user.council} "
                                             "and change only its rules"})
    try:
        proposal = policy_changes.propose(
            request.app.state.settings, request.app.state.store, body, user.username, user.role
        )
    except policy_changes.PolicyChangeError as exc:
        raise HTTPException(
            422, {"error": "invalid input", "field": exc.field, "message": exc.message}
        ) from None
    return policy_changes.as_json(proposal)


ChangeId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]


def _no_council(council: str) -> HTTPException:
    return HTTPException(404, {"error": "not found", "field": "council", "message": f"unknown council {council!r}"})


OwnChange = Annotated[policy_changes.Proposal, Depends(own_change())]


@router.get("/policy/changes/{change_id}", tags=["rules"])
def get_change(
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY))],
    proposal: OwnChange,
) -> dict[str, Any]:
    return policy_changes.as_json(proposal)


def _policy_refusal(exc: policy_changes.PolicyChangeError) -> HTTPException:
    """An unknown change is 404; a change that may not be published or withdrawn now is 409."""
    code = 404 if isinstance(exc, policy_changes.PolicyChangeNotFound) else 409
    return HTTPException(code, {"error": "refused", "field": exc.field, "message": exc.message})


@router.post("/policy/changes/{change_id}/publish", tags=["rules"])
def publish_change(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY))],
    change_id: ChangeId,
    mine: OwnChange,
) -> dict[str, Any]:
    """A second policy officer approves; the change is in force for new decisions at once."""
    try:
        proposal = policy_changes.approve_and_publish(
            request.app.state.settings, request.app.state.store, change_id, user.username, user.role
        )
    except policy_changes.PolicyChangeError as exc:
        raise _policy_refusal(exc) from None
    return policy_changes.as_json(proposal)


@router.get("/policy/versions", tags=["rules"])
def list_versions(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY_READERS))],
    council: Annotated[str | None, Query(pattern=r"^[a-z0-9_-]{1,40}$")] = None,
) -> list[dict[str, Any]]:
    """Every published policy version, oldest first: who proposed and approved it, why, when it
    took effect, the checks it passed and the bundle it produced (content: see /versions/{seq})."""
    versions = request.app.state.store.list_policy_versions(council)
    return [v for v in versions if may_read_policy(user, v["council"])]


@router.get("/policy/versions/compare", tags=["rules"])
def compare_versions(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY_READERS))],
    first: Annotated[int, Query(alias="from", ge=1, le=2**62)],
    second: Annotated[int, Query(alias="to", ge=1, le=2**62)],
) -> dict[str, Any]:
    """Any two published versions of one council: amounts before and after, and each changed
    rule's condition and effect before and after."""
    from carebudget.policy.versions import VersionNotFound
    from carebudget.policy.versions import compare_versions as compare

    try:
        result = compare(request.app.state.store, first, second)
    except VersionNotFound as exc:
        raise HTTPException(404, {"error": "not found", "field": exc.field, "message": exc.message}) from None
    if not may_read_policy(user, str(result.get("council"))):
        raise HTTPException(404, {"error": "not found", "field": "from", "message": f"no policy version {first}"})
    return result


@router.get("/policy/versions/{seq}", tags=["rules"])
def get_version(
    request: Request,
    seq: Annotated[int, Path(ge=1, le=2**62)],
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY_READERS))],
) -> dict[str, Any]:
    """One published version, with the file's text."""
    for version in request.app.state.store.list_policy_versions(None, with_content=True):
        if version["seq"] == seq and may_read_policy(user, version["council"]):
            return dict(version)
    raise HTTPException(404, {"error": "not found", "field": "seq", "message": f"no policy version {seq}"})


@router.get("/policy/export", tags=["rules"])
def export_rules(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY_READERS))],
    council: Annotated[str | None, Query(pattern=r"^[a-z0-9_-]{1,40}$")] = None,
) -> Response:
    """The whole effective rule set as files (a zip of rules/): the shipped rules with every
    published version applied. Unzipped, it is a rules folder `carebudget rules` can read."""
    from carebudget.policy.versions import export_zip, registry_for

    settings = request.app.state.settings
    registry = registry_for(settings.rules_dir, request.app.state.store)
    council = council or user.council
    if council is not None and not may_read_policy(user, council):
        raise _no_council(council)
    if council is not None and council not in registry.library.codes():
        raise HTTPException(404, {"error": "not found", "field": "council", "message": f"unknown council {council!r}"})
    name = f"carebudget-rules-{council or 'all'}-{date.today().isoformat()}.zip"
    return Response(export_zip(registry, council), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/policy/changes/{change_id}/withdraw", tags=["rules"])
def withdraw_change(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles(*POLICY))],
    change_id: ChangeId,
    mine: OwnChange,
) -> dict[str, Any]:
    try:
        proposal = policy_changes.withdraw(request.app.state.store, change_id, user.username)
    except policy_changes.PolicyChangeError as exc:
        raise _policy_refusal(exc) from None
    return policy_changes.as_json(proposal)
