"""Caseloads: which social worker holds each case (Care Act 2014 s9, s25: the assessment and the
plan are a named worker's job), allocated by operations or claimed, each change on the ledger.

The case list in the store holds the current worker; the workflow only knows who took the case
at intake. Allocation writes a `case.updated` ledger row through the store's upsert, so the
caseload can be rebuilt from the ledger like every other case-list field.
"""

from __future__ import annotations

import uuid
from typing import Any

from carebudget.store.errors import StoreError
from carebudget.web.auth import CurrentUser

ALLOCATORS = ("operations", "social_worker")


class AllocationRefused(Exception):
    """A plain-words reason an allocation cannot be made, shown beside the worker field."""


def social_workers(store: Any, council: str | None = None) -> list[tuple[str, str]]:
    """(username, name) of every active social worker (of `council`), for the allocation choice."""
    return [
        (u.username, u.display_name or u.username)
        for u in store.list_users()
        if u.role == "social_worker" and u.active and council in (None, u.council)
    ]


def check_worker(store: Any, worker: str, council: str | None = None) -> str:
    """The username of an active social worker (of `council`), or AllocationRefused saying why not."""
    worker = worker.strip()
    if not worker:
        raise AllocationRefused("Choose the social worker who will hold this case")
    user = store.get_user(worker)
    if user is None:
        raise AllocationRefused(f"There is no user called {worker!r}")
    if user.role != "social_worker":
        raise AllocationRefused(f"{worker} is not a social worker, so cannot hold a caseload")
    if not user.active:
        raise AllocationRefused(f"{worker} is no longer active; choose someone else")
    if council is not None and user.council != council:
        raise AllocationRefused(f"{worker} is not a social worker of council {council}")
    return str(user.username)


def allocate(store: Any, case_id: str, worker: str, by: CurrentUser) -> str:
    """Allocate (or reallocate) the case; a social worker may only claim a case for themself."""
    if by.role not in ALLOCATORS:
        raise AllocationRefused("Only operations staff or a social worker can allocate a case")
    if by.role == "social_worker" and worker.strip() != by.username:
        raise AllocationRefused("You can take a case yourself; operations allocate it to others")
    worker = check_worker(store, worker, by.council)
    try:
        store.upsert_case(
            f"allocate:{case_id}:{uuid.uuid4().hex}", case_id, {"assigned_to": worker},
            by.username, by.role,
        )
    except StoreError as exc:  # the case is not on the list yet (intake still running)
        raise AllocationRefused(
            "This case is still being opened; try again in a moment"
        ) from exc
    return worker


def claim_if_unallocated(store: Any, case_id: str, by: CurrentUser) -> None:
    """A social worker who takes a step on an unallocated case takes the case on."""
    if by.role != "social_worker":
        return
    try:
        if store.get_case(case_id, role=by.role).assigned_to is None:
            allocate(store, case_id, by.username, by)
    except (StoreError, AllocationRefused):
        return  # the step itself succeeded; allocation can still be made by hand
