"""Community fund holding (issue 15) on the web: a member's own pool, and the council's pools for staff.

A member sees only the pools they belong to: the members, their own committed share and what stays
under their own control, the emergency fund, its draws and the members' decisions, notice to leave,
and the pool's outcomes at review. Staff see every pool of their council. The pool's workflow
(workflows/pool.py) still refuses any step out of turn, with a reason shown beside the form.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response

from carebudget.store.errors import StoreError
from carebudget.web import cases as case_access
from carebudget.web.auth import CurrentUser, require_roles

# Staff who work with a pool's members: they see every pool of their council.
POOL_STAFF = ("social_worker", "approver", "appeals_officer", "compliance")
POOL_PAGE = ("person", *POOL_STAFF)
PoolId = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")]
DrawNumber = Annotated[int, Path(ge=1, le=10_000)]

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


# --- reading pools, with who may see which -------------------------------------------------


async def _client(request: Request) -> Any:
    return await request.app.state.temporal.client()


def _http(exc: Exception) -> HTTPException:
    mapped = case_access._refusal(exc)
    if mapped is None:
        raise exc
    return mapped


def staff_council(request: Request, user: CurrentUser) -> str | None:
    """The council a member of staff works for (None: a national role, which sees every council)."""
    return user.council


async def _form_values(request: Request) -> dict[str, str]:
    """The posted form's fields, trimmed, without its CSRF token."""
    form = await request.form()
    return {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}


def membership(pool: dict[str, Any], username: str) -> dict[str, Any] | None:
    """The person's membership of the pool: a current one first, else the last they had."""
    rows = [m for m in pool.get("members") or [] if m.get("person_user") == username]
    current = [m for m in rows if m.get("status") != "left"]
    return (current or rows or [None])[-1]


def _refuse(request: Request, user: CurrentUser, pool: dict[str, Any]) -> HTTPException:
    """A person reaching another group's pool: refused, and written down for compliance."""
    try:
        request.app.state.store.append_event(
            f"web-refused-{uuid.uuid4()}", None, user.username, user.role, "access_refused",
            {"method": request.method, "path": request.url.path, "pool_id": pool.get("pool_id"),
             "reason": "not a member of this pool"}, chain=pool.get("council"))
    except StoreError as exc:
        log.info("pool refusal not written to the ledger: %s", exc)
    return HTTPException(403, "You can see only the community pools you are a member of")


async def read_pool(request: Request, pool_id: str, user: CurrentUser, *, joining: bool = False) -> dict[str, Any]:
    """The pool if this user may see it: a member (or, `joining`, a budget holder of its council)
    or staff of its council."""
    from carebudget.service import pools

    try:
        pool = await pools.describe(await _client(request), pool_id)
    except Exception as exc:
        raise _http(exc) from None
    if user.role == "person":
        if membership(pool, user.username) is None and not (joining and pool["council"] in _person_councils(request, user)):
            raise _refuse(request, user, pool)
    else:
        council = staff_council(request, user)
        if council is not None and pool["council"] != council:
            # Another council's pool is, to this council's staff, a pool that does not exist.
            raise HTTPException(404, f"No pool {pool_id} found")
    return pool


def _person_councils(request: Request, user: CurrentUser) -> set[str]:
    return {r.council for r in request.app.state.store.person_cases(user.username, role=user.role)}


def _budget_cases(request: Request, user: CurrentUser) -> list[Any]:
    """The person's cases with a personal budget in force: the ones that can join a pool."""
    rows = request.app.state.store.person_cases(user.username, role=user.role)
    return [r for r in rows if r.stage in ("active_budget", "review")]


def member_rows(pool: dict[str, Any], user: CurrentUser) -> list[dict[str, Any]]:
    """Members as the page lists them: a person sees themselves as "You", others by number only."""
    rows = []
    for number, m in enumerate(pool.get("members") or [], start=1):
        you = user.role == "person" and m.get("person_user") == user.username
        name = "You" if you else (m["case_id"] if user.role != "person" else f"Member {number}")
        rows.append({**m, "number": number, "name": name, "you": you})
    return rows


def draw_rows(pool: dict[str, Any], members: list[dict[str, Any]], user: CurrentUser) -> list[dict[str, Any]]:
    names = {m["case_id"]: m["name"] for m in members}
    mine = membership(pool, user.username) if user.role == "person" else None
    rows = []
    for d in pool.get("draws") or []:
        votes = d.get("votes") or {}
        rows.append({
            **d, "for_name": names.get(d["for_case"], "a former member"),
            "agree": sum(1 for v in votes.values() if v), "against": sum(1 for v in votes.values() if not v),
            "may_vote": bool(mine and mine.get("status") != "left" and d["status"] == "open"
                             and mine["case_id"] not in votes),
            "your_vote": votes.get(mine["case_id"]) if mine else None,
        })
    return rows


async def _own_budget(request: Request, member: dict[str, Any] | None, user: CurrentUser) -> dict[str, Any] | None:
    """The member's own budget: what they pool, and what stays under their own control."""
    if member is None or user.role != "person":
        return None
    try:
        case = await case_access.describe(request, member["case_id"], user)
    except HTTPException as exc:
        if exc.status_code in (403, 404, 503):
            return None
        raise
    budget = case.get("personal_budget") or {}
    committed = sum((Decimal(c["weekly_share"]) for c in case.get("pool_commitments") or [] if not c.get("left")),
                    Decimal(0))
    weekly = Decimal(str(budget.get("weekly_cost") or 0))
    return {"case_id": member["case_id"], "weekly": f"{weekly:.2f}", "committed": f"{committed:.2f}",
            "own_control": f"{weekly - committed:.2f}"}


async def _pool_page(request: Request, pool_id: str, user: CurrentUser, status_code: int = 200,
                     **extra: Any) -> Response:
    from carebudget.service import pools
    from carebudget.web.pages.common import render

    pool = await read_pool(request, pool_id, user)
    member = membership(pool, user.username) if user.role == "person" else None
    members = member_rows(pool, user)
    current = [m for m in members if m["status"] != "left"]
    extra.setdefault("values", {})
    return render(
        request, "pool.html", user, status_code=status_code, title=f"Pool: {pool['name']}",
        pool=pool, summary=pools.summary(pool), member=member, members=members, current=current,
        draws=draw_rows(pool, members, user), own=await _own_budget(request, member, user),
        is_member=member is not None and member["status"] != "left", **extra,
    )


# --- pages -----------------------------------------------------------------------------------


@router.get("/pools", response_class=HTMLResponse)
async def pools_page(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*POOL_PAGE, page=True))]
) -> Response:
    return await _pools_page(request, user)


async def _pools_page(request: Request, user: CurrentUser, status_code: int = 200, **extra: Any) -> Response:
    from carebudget.service import pools
    from carebudget.web.pages.common import render

    client = await _client(request)
    if user.role == "person":
        found: list[dict[str, Any]] = []
        try:
            for council in sorted(_person_councils(request, user)):
                found += await pools.list_pools(client, council)
        except Exception as exc:
            raise _http(exc) from None
        mine = [p for p in found if membership(p, user.username) is not None]
        others = [p for p in found if membership(p, user.username) is None]
        return render(request, "pools.html", user, status_code=status_code, title="Community pools",
                      mine=[pools.summary(p) | {"you": membership(p, user.username)} for p in mine],
                      joinable=[{"pool_id": p["pool_id"], "name": p["name"], "purpose": p["purpose"]}
                                for p in others] if _budget_cases(request, user) else [],
                      **extra)
    staff_of = staff_council(request, user)
    try:
        found = await pools.list_pools(client, staff_of)
    except Exception as exc:
        raise _http(exc) from None
    extra.setdefault("values", {"council": staff_of or "demo"})
    return render(request, "pools.html", user, status_code=status_code, title="Community pools",
                  rows=[pools.summary(p) | {"council": p["council"]} for p in found], council=staff_of, **extra)


@router.post("/pools/new", response_class=HTMLResponse)
async def open_pool(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles("social_worker", page=True))]
) -> Response:
    from carebudget.service import pools
    from carebudget.web.pages.common import flash, redirect

    values = await _form_values(request)
    errors: dict[str, str] = {}
    council = staff_council(request, user) or values.get("council", "")
    for name, label, most in (("name", "Give the pool a name", 200), ("purpose", "Say what the pool is for", 2000)):
        if not values.get(name):
            errors[name] = label
        elif len(values[name]) > most:
            errors[name] = f"Keep it to {most:,} characters"
    if not council:
        errors["council"] = "Enter the council, for example demo"
    if not errors:
        try:
            pool_id = await pools.start_pool(await _client(request), {
                "council": council, "name": values["name"], "purpose": values["purpose"],
                "opened_by": user.username}, task_queue=request.app.state.settings.task_queue)
        except Exception as exc:
            mapped = _http(exc)
            if mapped.status_code not in (409, 422):
                raise mapped from None
            errors["council" if "council" in _message(mapped) else "form"] = _message(mapped)
        else:
            flash(request, f"Pool {pool_id} is open. Add its members with their weekly shares.")
            return redirect(f"/pools/{quote(pool_id)}")
    return await _pools_page(request, user, 400, errors=errors, values=values)


@router.get("/pools/{pool_id}", response_class=HTMLResponse)
async def pool_page(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles(*POOL_PAGE, page=True))],
    pool_id: PoolId,
) -> Response:
    return await _pool_page(request, pool_id, user)


@router.get("/pools/{pool_id}/join", response_class=HTMLResponse)
async def join_page(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles("person", page=True))],
    pool_id: PoolId,
) -> Response:
    return await _join_page(request, pool_id, user)


async def _join_page(request: Request, pool_id: str, user: CurrentUser, status_code: int = 200,
                     **extra: Any) -> Response:
    from carebudget.web.pages.common import render

    pool = await read_pool(request, pool_id, user, joining=True)
    budgets = _budget_cases(request, user)
    extra.setdefault("values", {})
    return render(request, "pool_join.html", user, status_code=status_code, title=f"Join {pool['name']}",
                  pool=pool, members=len([m for m in pool["members"] if m["status"] != "left"]),
                  budgets=budgets, budget_options=[(r.case_id, f"Reference {r.case_id}") for r in budgets], **extra)


@router.post("/pools/{pool_id}/join", response_class=HTMLResponse)
async def join(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles("person", "social_worker", page=True))],
    pool_id: PoolId,
) -> Response:
    values = await _form_values(request)
    errors: dict[str, str] = {}
    case_id = values.get("case_id", "")
    if user.role == "person":
        await read_pool(request, pool_id, user, joining=True)
        if case_id not in {r.case_id for r in _budget_cases(request, user)}:
            errors["case_id"] = "Choose which of your budgets the share comes from"
    elif not case_id:
        errors["case_id"] = "Enter the member's case reference"
    share = pounds(values.get("weekly_share", ""), "weekly_share", "the weekly share", errors)
    payload = {"case_id": case_id, "weekly_share": share}
    done = "You joined the pool. Your share is on your own budget statement." if user.role == "person" else \
        f"Case {case_id} joined the pool."
    return await _step(request, pool_id, user, "join", payload, values, errors, done)


@router.post("/pools/{pool_id}/draws", response_class=HTMLResponse)
async def propose_draw(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles("person", page=True))],
    pool_id: PoolId,
) -> Response:
    values = await _form_values(request)
    errors: dict[str, str] = {}
    pool = await read_pool(request, pool_id, user)
    amount = pounds(values.get("amount", ""), "amount", "the amount", errors)
    reason = values.get("reason", "")
    if not reason:
        errors["reason"] = "Say what the money is needed for"
    elif len(reason) > 2000:
        errors["reason"] = "Keep the reason to 2,000 characters"
    for_case = _member_case(pool, values.get("for_member", ""))
    if for_case is None:
        errors["for_member"] = "Choose the member the money is for"
    payload = {"amount": amount, "reason": reason, "for_case": for_case}
    return await _step(request, pool_id, user, "propose_draw", payload, values, errors,
                       "The draw is proposed. The other members are asked to agree or not.")


@router.post("/pools/{pool_id}/draws/{draw}/vote", response_class=HTMLResponse)
async def vote(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles("person", page=True))],
    pool_id: PoolId, draw: DrawNumber,
) -> Response:
    form = await request.form()
    choice = str(form.get("agree") or "")
    errors = {} if choice in ("yes", "no") else {"form": "Choose whether you agree to the draw"}
    return await _step(request, pool_id, user, "vote", {"draw": draw, "agree": choice == "yes"}, {}, errors,
                       "Your vote is recorded.")


@router.post("/pools/{pool_id}/leave", response_class=HTMLResponse)
async def leave(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles("person", "social_worker", page=True))],
    pool_id: PoolId,
) -> Response:
    form = await request.form()
    pool = await read_pool(request, pool_id, user)
    errors: dict[str, str] = {}
    if user.role == "person":
        mine = membership(pool, user.username)
        case_id = mine["case_id"] if mine else None
    else:
        case_id = _member_case(pool, str(form.get("member") or ""))
    if case_id is None:
        errors["form"] = "Choose the member who is leaving"
    return await _step(request, pool_id, user, "leave", {"case_id": case_id}, {}, errors,
                       "Notice is given. The share stays in the pool until the notice ends, then comes back "
                       "to the member's own budget.")


@router.post("/pools/{pool_id}/time", response_class=HTMLResponse)
async def give_time(
    request: Request,
    user: Annotated[CurrentUser, Depends(require_roles("person", "social_worker", page=True))],
    pool_id: PoolId,
) -> Response:
    values = await _form_values(request)
    errors: dict[str, str] = {}
    kind = values.get("kind", "")
    if kind not in ("volunteer", "family"):
        errors["kind"] = "Choose volunteer or family time"
    giver = values.get("giver", "")
    if not giver or len(giver) > 200:
        errors["giver"] = "Say who gave the time (up to 200 characters)"
    hours = values.get("hours", "")
    try:
        ok = Decimal(hours).is_finite() and 0 < Decimal(hours) <= 168 and Decimal(hours) == round(Decimal(hours), 2)
    except InvalidOperation:
        ok = False
    if not ok:
        errors["hours"] = "Enter the hours as a number above 0 and at most 168, like 2.5"
    return await _step(request, pool_id, user, "give_time", {"kind": kind, "giver": giver, "hours": hours},
                       values, errors, "The time is recorded at the council's value.")


@router.post("/pools/{pool_id}/review", response_class=HTMLResponse)
async def review(
    request: Request, user: Annotated[CurrentUser, Depends(require_roles("social_worker", page=True))],
    pool_id: PoolId,
) -> Response:
    values = await _form_values(request)
    errors: dict[str, str] = {}
    met = values.get("outcomes_met", "")
    if met not in ("yes", "no"):
        errors["outcomes_met"] = "Choose whether the members' outcomes were met"
    planned = pounds(values.get("planned", ""), "planned", "the planned spending", errors, zero=True)
    spent = pounds(values.get("spent", ""), "spent", "what was spent", errors, zero=True)
    payload = {"outcomes_met": met == "yes", "planned": planned, "spent": spent,
               "notes": values.get("notes", "")[:4000]}
    return await _step(request, pool_id, user, "review_pool", payload, values, errors,
                       "The pool's review is recorded, with what the council's policy grants.")


# --- plumbing --------------------------------------------------------------------------------


def pounds(raw: str, name: str, label: str, errors: dict[str, str], zero: bool = False) -> str | None:
    """An amount typed as pounds ("£1,200.50"), or a plain message beside the field."""
    text = raw.replace("£", "").replace(",", "").strip()
    if not text:
        errors[name] = f"Enter {label} in pounds, like 12.50"
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[name] = f"Enter {label} as a number of pounds, like 12.50"
        return None
    if not value.is_finite() or value < 0 or (value == 0 and not zero):
        errors[name] = f"Enter {label} above £0.00" if not zero else f"Enter {label} as zero or more pounds"
        return None
    if value != value.quantize(Decimal("0.01")) or value >= Decimal("10000000"):
        errors[name] = f"Enter {label} in pounds and pence, under £10,000,000"
        return None
    return f"{value:.2f}"


def _member_case(pool: dict[str, Any], number: str) -> str | None:
    """A member chosen on the page by their number (pages never ask a person for others' references)."""
    members = pool.get("members") or []
    if not number.isdigit() or not 1 <= int(number) <= len(members):
        return None
    chosen = members[int(number) - 1]
    return str(chosen["case_id"]) if chosen["status"] != "left" else None


def _message(exc: HTTPException) -> str:
    return str(exc.detail.get("message") if isinstance(exc.detail, dict) else exc.detail)


async def _step(request: Request, pool_id: str, user: CurrentUser, step: str, payload: dict[str, Any],
                values: dict[str, str], errors: dict[str, str], done: str) -> Response:
    """Send one step to the pool's workflow; any refusal is shown on the page it came from."""
    from carebudget.service import pools
    from carebudget.web.pages.common import flash, redirect

    # Who may reach the pool at all (a member, a budget holder joining, staff of its council) is
    # checked before anything is sent; what they may do in it is the workflow's rule.
    await read_pool(request, pool_id, user, joining=step == "join")
    if not errors:
        try:
            await pools.act(await _client(request), pool_id, step, user.username, user.role, payload)
        except Exception as exc:
            mapped = _http(exc)
            if mapped.status_code not in (409, 422):
                raise mapped from None
            errors = {"form": _message(mapped)}
        else:
            flash(request, done)
            return redirect(f"/pools/{quote(pool_id)}")
    pool = await read_pool(request, pool_id, user, joining=step == "join")
    if step == "join" and user.role == "person" and membership(pool, user.username) is None:
        return await _join_page(request, pool_id, user, 400, errors=errors, values=values)
    return await _pool_page(request, pool_id, user, 400, errors=errors, values=values, open_step=step)
