"""The web's way to a case: the operations list from the store, the case itself from its workflow.

The workflow (carebudget.service.cases) decides whether a step is allowed: in the right stage, by
the right role, with separation of duties. The web only checks who may reach the case at all.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from datetime import date
from typing import Any

from fastapi import HTTPException, Request

from carebudget.store.errors import StoreError
from carebudget.store.roles import can_read_personal
from carebudget.web.auth import CurrentUser

log = logging.getLogger(__name__)
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,100}")

# Roles that take steps on a case; which step each may take is the workflow's rule.
ACTORS: tuple[str, ...] = ("person", "social_worker", "approver", "appeals_officer")

# What a role without access to personal data (operations) sees of a case: where it is and what
# is due. No name, birth date, needs, finances, or decision summaries (they quote amounts).
PROCESS_FIELDS = ("case_id", "council", "stage", "due_at", "due_for", "overdue", "opened_at",
                  "opened_by", "pending_step", "generation")


def own_council(user: CurrentUser) -> dict[str, Any]:
    """The case-list filter every list a user sees starts from: their own council's cases only."""
    return {"council": user.council} if user.council is not None else {}


def case_filters(query: Any, user: CurrentUser) -> dict[str, Any]:
    filters: dict[str, Any] = own_council(user)
    if query.stage:
        filters["stage"] = query.stage
    if query.council and filters.get("council", query.council) != query.council:
        raise HTTPException(422, {"error": "invalid input", "field": "council",
                                  "message": f"council: you work for council {user.council} and see "
                                             "only its cases"})
    if query.council:
        filters["council"] = query.council
    if query.assigned_to:
        filters["assigned_to"] = query.assigned_to
    if query.overdue is not None:
        filters["overdue"] = query.overdue
    if getattr(query, "id_prefix", None):
        filters["id_prefix"] = query.id_prefix
    if getattr(query, "name", None):
        filters["name"] = query.name.strip()
    if getattr(query, "due_before", None):
        if query.overdue is False:
            raise HTTPException(
                422,
                {
                    "error": "invalid input",
                    "field": "due_before",
                    "message": "due_before: choose either 'not overdue' or a due date, not both",
                },
            )
        # "due before D" is "overdue as judged on D"; with overdue=true as well, the earlier date wins.
        filters["overdue"] = True
        filters["today"] = (
            min(query.due_before, date.today()) if query.overdue else query.due_before
        )
    return filters


def list_cases(store: Any, query: Any, user: CurrentUser) -> tuple[list[Any], int]:
    rows, total = store.list_cases(
        case_filters(query, user), {"number": query.page, "size": query.size}, role=user.role
    )
    return list(rows), int(total)


def case_council(request: Request, case_id: str) -> str | None:
    """The council a case belongs to, from the case list; None if it is not listed (a case still
    at intake, or none at all: `describe` and `act` then check the workflow's own state)."""
    try:
        return str(request.app.state.store.get_case(case_id).council)
    except StoreError:
        return None


def outside_council(state: dict[str, Any], user: CurrentUser) -> bool:
    return user.council is not None and state.get("council") not in (None, user.council)


def _service() -> Any:
    try:
        from carebudget.service import cases as service
    except ImportError:
        raise HTTPException(503, "The case service is not installed in this build") from None
    return service


def _refusal(exc: Exception) -> HTTPException | None:
    """The case service's typed errors as HTTP: unknown 404, malformed 422, refused 409, busy 503."""
    from carebudget.service.cases import CaseBusy, CaseInvalid, CaseNotFound, CaseServiceError

    if not isinstance(exc, CaseServiceError):
        return None
    if isinstance(exc, CaseNotFound):
        return HTTPException(404, exc.reason)
    if isinstance(exc, CaseBusy):
        return HTTPException(503, exc.reason)
    kind, code = ("invalid input", 422) if isinstance(exc, CaseInvalid) else ("refused", 409)
    return HTTPException(code, {"error": kind, "field": exc.field, "message": exc.reason})


def owns_case(state: dict[str, Any], user: CurrentUser) -> bool:
    """A person may see only their own case: the workflow names the person's user."""
    return bool(state.get("person_user")) and state.get("person_user") == user.username


def refuse_foreign_case(request: Request, case_id: str, user: CurrentUser) -> HTTPException:
    try:
        request.app.state.store.append_event(
            f"web-refused-{uuid.uuid4()}",
            case_id,
            user.username,
            user.role,
            "access_refused",
            {
                "method": request.method,
                "path": request.url.path,
                "reason": "not the person's own case",
            },
        )
    except StoreError as exc:  # an unknown case: nothing to write against
        log.info("refusal not written to the ledger: %s", exc)
    return HTTPException(403, "You can only see your own case")


async def describe(request: Request, case_id: str, user: CurrentUser) -> dict[str, Any]:
    service = _service()
    client = await request.app.state.temporal.client()
    try:
        state = await service.describe(client, case_id)
    except Exception as exc:
        mapped = _refusal(exc)
        if mapped is None:
            raise
        raise mapped from None
    state = dict(state)
    if outside_council(state, user):  # a case not yet on the list: as if there were none
        raise HTTPException(404, f"No case {case_id} found")
    if user.role == "person" and not owns_case(state, user):
        raise refuse_foreign_case(request, case_id, user)
    if not can_read_personal(user.role):
        return process_view(state)
    if user.role != "person":
        _record_view(request, case_id, user)
    return state


def process_view(state: dict[str, Any]) -> dict[str, Any]:
    """A case as operations see it (UK GDPR art 5(1)(c), data minimisation)."""
    view = {k: state.get(k) for k in PROCESS_FIELDS if k in state}
    view["timeline"] = [
        {"seq": e.get("seq"), "at": e.get("at"), "stage": e.get("stage"), "action": e.get("action"),
         "actor": {"role": (e.get("actor") or {}).get("role")}}
        for e in state.get("timeline") or []
    ]
    return view


def _record_view(request: Request, case_id: str, user: CurrentUser) -> None:
    """Every view of a person's details by staff is on the ledger (who, which case, when)."""
    store = request.app.state.store
    try:
        store.append_event(f"view:{case_id}:{uuid.uuid4().hex}", case_id, user.username, user.role,
                           "person.viewed", {"case_id": case_id})
    except StoreError as exc:  # a case not yet on the case list: nothing personal recorded yet
        log.info("view of %s not recorded: %s", case_id, exc)


async def start_case(request: Request, payload: dict[str, Any], user: CurrentUser) -> str:
    service = _service()
    payload = dict(payload)
    if "case_id" in payload:
        raise HTTPException(422, {"error": "invalid input", "field": "case_id",
                                  "message": "case_id: the service gives each case its reference; leave it out"})
    if user.council is not None:  # staff open cases for their own council only
        if payload.setdefault("council", user.council) != user.council:
            raise HTTPException(422, {"error": "invalid input", "field": "council",
                                      "message": f"council: you work for council {user.council}, "
                                                 f"not {payload['council']!r}; a case you open is "
                                                 f"{user.council}'s"})
    if "opened_by" in payload and payload["opened_by"] != user.username:
        raise HTTPException(422, {"error": "invalid input", "field": "opened_by",
                                  "message": "opened_by: a case is opened by whoever is signed in; leave it out"})
    if user.role == "person":
        if payload.get("person_user", user.username) != user.username:
            raise HTTPException(422, {"error": "invalid input", "field": "person_user",
                                      "message": "person_user: you can ask for an assessment for yourself only"})
        payload["person_user"] = user.username
        if payload.get("assigned_to"):
            raise HTTPException(422, {"error": "invalid input", "field": "assigned_to",
                                      "message": "The council allocates your social worker; leave this out"})
    else:  # a social worker who opens a case holds it unless they name a colleague
        _check_person_user(request, payload.get("person_user"), user)
        payload["assigned_to"] = _worker(request, str(payload.get("assigned_to") or user.username), user)
    if isinstance(payload.get("person"), dict):
        _check_person(payload["person"])
    payload["opened_by"] = user.username
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise HTTPException(422, {"error": "invalid input", "field": "Idempotency-Key",
                                      "message": "Idempotency-Key: 1 to 100 letters, digits or . _ : -"})
        # A retried start with the same key is the same case: the id comes from who asked and
        # the key, so no one can reach another's case by choosing a key.
        digest = hashlib.sha256(f"{user.username}\n{key}".encode()).hexdigest()
        payload["case_id"] = f"C-{digest[:16]}"
    try:
        # Checked before Temporal is reached: bad input is refused even while Temporal is down.
        start = service.checked_start(payload, rules_in_force(request))
        client = await request.app.state.temporal.client()
        return str(
            await service.start_case(
                client, start, task_queue=request.app.state.settings.task_queue, idempotent=key is not None,
            )
        )
    except Exception as exc:
        mapped = _refusal(exc)
        if mapped is None:
            raise
        raise mapped from None


def _invalid(field: str, message: str) -> HTTPException:
    return HTTPException(422, {"error": "invalid input", "field": field, "message": message})


def _check_person(person: dict[str, Any]) -> None:
    """No one living was born in 1800 or tomorrow; what changes the charge is asked, not assumed
    (capacity and an authorised person, s18(4); who arranges the care, s18(3))."""
    born = person.get("date_of_birth")
    if isinstance(born, str):
        try:
            day = date.fromisoformat(born)
        except ValueError:
            raise _invalid("person.date_of_birth", "Give the date of birth as a real date, like 1950-03-01") from None
        if day >= date.today():
            raise _invalid("person.date_of_birth", "The date of birth must be in the past")
        if day.year < date.today().year - 120:
            raise _invalid("person.date_of_birth", "Check the year of birth: it is more than 120 years ago")
    asked = {
        "has_capacity": "Say whether the person can make decisions about care and money (has_capacity: true or false)",
        "asks_council_to_arrange": "Say who arranges the care: true if the council is asked to, false if the "
                                   "person arranges it (asks_council_to_arrange)",
    }
    if person.get("has_capacity") is False:
        asked["has_authorised_person"] = ("Say whether someone may act for the person, such as an attorney or a "
                                          "deputy (has_authorised_person: true or false)")
    for key, message in asked.items():
        if not isinstance(person.get(key), bool):
            raise _invalid(f"person.{key}", message)
    if person.get("setting") == "care_home" and not person.get("care_home_admission_date"):
        raise _invalid("person.care_home_admission_date",
                       "Give the date the person moved into the care home for good: the charge depends on it")


def _check_person_user(request: Request, username: Any, user: CurrentUser) -> None:
    """The person's sign-in, when given, must be an active person's of the council: else they
    never see the case."""
    if not username:
        return
    found = request.app.state.store.get_user(str(username))
    if (found is None or found.role != "person" or not found.active
            or found.council != (user.council or found.council)):
        raise HTTPException(422, {"error": "invalid input", "field": "person_user",
                                  "message": f"No person signs in as {username!r}: check the username, "
                                             "or leave it empty and give them the reference"})


def _worker(request: Request, worker: str, user: CurrentUser) -> str:
    from carebudget.web.caseload import AllocationRefused, check_worker

    try:
        return check_worker(request.app.state.store, worker, user.council)
    except AllocationRefused as exc:
        raise HTTPException(422, {"error": "invalid input", "field": "assigned_to",
                                  "message": str(exc)}) from None


def rules_in_force(request: Request) -> Any:
    """The rules in force for this service: shipped files with the published policy versions
    (as the worker decides with), for the council lists a step is checked against."""
    from carebudget.policy.versions import registry_for

    return registry_for(request.app.state.settings.rules_dir, request.app.state.store)


async def act(
    request: Request, case_id: str, step: str, payload: dict[str, Any], user: CurrentUser,
    whole_state: bool = True,
) -> dict[str, Any]:
    """Take the step as `user`; the case's whole state (the API returns it), or with
    `whole_state=False` only where it stands (a form's page redirects and reads the case anew)."""
    service = _service()
    client = await request.app.state.temporal.client()
    if user.role == "person" or case_council(request, case_id) is None:
        # refuses someone else's case (and writes it down), or another council's not yet listed
        await describe(request, case_id, user)
    try:
        take = service.act if whole_state else service.take_step
        state = dict(await take(client, case_id, step, user.username, user.role, payload,
                                rules=rules_in_force(request)))
    except Exception as exc:
        mapped = _refusal(exc)
        if mapped is None:
            raise
        raise mapped from None
    from carebudget.web.caseload import claim_if_unallocated

    claim_if_unallocated(request.app.state.store, case_id, user)
    return state
