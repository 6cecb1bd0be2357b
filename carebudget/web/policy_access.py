"""Whose policy a user may see and change: a council's own staff its policy, national roles all.

Everyone reads the national rules (they are the law). A council's policy changes, versions and
diffs are its own staff's and the national roles'; another council's change answers 404 as if
it did not exist. Both are FastAPI dependencies, declared on the routes (never an `if` inside).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from carebudget.policy import changes as policy_changes
from carebudget.web.auth import CurrentUser, require_roles

POLICY = ("policy_admin", "national_admin")
ChangeId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]


def may_read_policy(user: CurrentUser, council: str) -> bool:
    return user.council is None or council in (user.council, policy_changes.NATIONAL)


def may_change_policy(user: CurrentUser, council: str) -> bool:
    return user.council is None or council == user.council


def own_change(page: bool = False) -> Callable[..., policy_changes.Proposal]:
    """A dependency giving the policy change named in the path, if the user's council's."""

    who = require_roles(*POLICY, page=page)

    def dependency(
        request: Request,
        change_id: ChangeId,
        user: CurrentUser = Depends(who),  # noqa: B008 - a closure's dependency, not an annotation
    ) -> policy_changes.Proposal:
        try:
            proposal = policy_changes.load(request.app.state.store, change_id)
        except policy_changes.PolicyChangeError:
            proposal = None
        if proposal is None or not may_change_policy(user, proposal.council):
            raise HTTPException(404, f"There is no policy change {change_id}.")
        return proposal

    return dependency
