"""Who is signed in and what they may do: argon2 passwords, cookie sessions, bearer tokens, roles.

Authorisation is a FastAPI dependency (`require_roles`), declared on every route, never an `if`
inside a handler. A refused attempt on a case's data is written to the ledger, since compliance
must be able to see who tried to reach a case they had no business with (UK GDPR art 5(1)(f)).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

from carebudget.store.errors import StoreError, UnknownDecision
from carebudget.store.roles import ROLES

log = logging.getLogger(__name__)

ROLE_LABELS: dict[str, str] = {
    "person": "person receiving care",
    "social_worker": "social worker",
    "approver": "sign-off approver",
    "appeals_officer": "appeals officer",
    "operations": "operations",
    "compliance": "compliance officer",
    "policy_admin": "policy officer",
    "national_admin": "national rules officer",
    "admin": "administrator",
}
TOKEN_SALT = "carebudget-api-token"
TOKEN_MAX_AGE_SECONDS = 8 * 3600

password_hash = PasswordHash((Argon2Hasher(),))
_bearer = HTTPBearer(auto_error=False, description="Token from POST /api/token")


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    try:
        return password_hash.verify(password, hashed)
    except (ValueError, UnknownHashError):  # a malformed stored hash is a failed sign-in
        return False


@dataclass(frozen=True)
class CurrentUser:
    username: str
    role: str
    display_name: str = ""
    council: str | None = None  # the council whose cases and policy the user works on; None: national

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class NotSignedIn(Exception):
    """A page needs a signed-in user; the handler sends the browser to the sign-in page."""


def token_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=TOKEN_SALT)


def issue_token(secret: str, user: CurrentUser, sid: str) -> str:
    """A bearer token naming its server-side session, so signing out (DELETE /api/token) ends it."""
    return token_serializer(secret).dumps({"u": user.username, "r": user.role, "s": sid})


def _live_session(request: Request, sid: object, username: str, role: str) -> bool:
    if not isinstance(sid, str):
        return False
    try:
        return request.app.state.store.session_user(sid) == (username, role)
    except StoreError:
        return False


def _user_from_store(request: Request, username: str, role: str) -> CurrentUser | None:
    """The user as stored now: a deactivated user or a changed role ends old sessions and tokens."""
    store = request.app.state.store
    try:
        record = store.get_user(username)
    except StoreError:  # a malformed username: nobody
        return None
    if record is None or not record.active or record.role != role:
        return None
    return CurrentUser(record.username, record.role, record.display_name, record.council)


def api_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> CurrentUser:
    """The caller of an API endpoint, from `Authorization: Bearer <token>`."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Sign in first: POST /api/token, then send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        data = token_serializer(request.app.state.settings.secret_key).loads(
            credentials.credentials, max_age=TOKEN_MAX_AGE_SECONDS
        )
    except SignatureExpired:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "The token has expired; ask for a new one",
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    except BadSignature:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "The token is not valid",
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    user = _user_from_store(request, str(data.get("u")), str(data.get("r")))
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "The token's user no longer exists or has another role",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not _live_session(request, data.get("s"), user.username, user.role):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This token was signed out; ask for a new one",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def page_user(request: Request) -> CurrentUser:
    """The person using a page, from the signed session cookie."""
    session = request.session
    username, role = session.get("username"), session.get("role")
    if not username or not role:
        raise NotSignedIn()
    user = _user_from_store(request, str(username), str(role))
    if user is None or not _live_session(request, session.get("sid"), user.username, user.role):
        session.clear()
        raise NotSignedIn()
    return user


def record_refusal(request: Request, user: CurrentUser, allowed: tuple[str, ...]) -> None:
    """Write a refused attempt on case data to the ledger; other refusals are only logged."""
    case_id = request.path_params.get("case_id")
    log.info(
        "refused %s %s for %s (%s)", request.method, request.url.path, user.username, user.role
    )
    if not case_id:
        return
    try:
        request.app.state.store.append_event(
            event_key=f"web-refused-{uuid.uuid4()}",
            case_id=str(case_id),
            actor=user.username,
            role=user.role,
            action="access_refused",
            payload={
                "method": request.method,
                "path": request.url.path,
                "allowed_roles": list(allowed),
            },
        )
    except StoreError as exc:  # an unknown case id: nothing on the case to record against
        log.info("refusal not written to the ledger: %s", exc)


def forbidden(role: str, allowed: tuple[str, ...]) -> HTTPException:
    names = ", ".join(ROLE_LABELS[r] for r in allowed)
    return HTTPException(
        status.HTTP_403_FORBIDDEN,
        f"Your role ({ROLE_LABELS.get(role, role)}) may not do this. Allowed: {names}.",
    )


def _decision_council(request: Request, decision_id: str) -> str | None:
    try:
        return str(request.app.state.store.get_decision(int(decision_id)).council)
    except (ValueError, StoreError):  # malformed or unknown: the route answers for itself
        return None


def check_council(request: Request, user: CurrentUser) -> None:
    """Staff see and act on their own council's cases only. A route naming a case (`{case_id}`)
    or a decision (`{decision_id}`) of another council answers 404, exactly as for one that does
    not exist, so that its existence does not leak; national roles work for England as a whole."""
    if user.council is None:
        return
    from carebudget.web.cases import case_council

    params = request.path_params
    for name, council in (
        ("case_id", lambda v: case_council(request, v)),
        ("decision_id", lambda v: _decision_council(request, v)),
    ):
        value = params.get(name)
        found = council(str(value)) if value else None
        if found is not None and found != user.council:
            log.info("refused %s %s for %s: %s of council %s, user of %s", request.method,
                     request.url.path, user.username, name, found, user.council)
            if name == "decision_id":  # the very refusal an unknown decision gets
                raise UnknownDecision(f"no decision with id {value}", "decision_id")
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No case {value} found")


def require_roles(*roles: str, page: bool = False) -> Callable[..., Any]:
    """A dependency admitting only `roles` (admin is not implied: separation of duties), and, on
    a route naming a case, only the case's own council's users (`check_council`)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    allowed = tuple(roles)

    if page:

        def check_page(
            request: Request, user: Annotated[CurrentUser, Depends(page_user)]
        ) -> CurrentUser:
            if user.role not in allowed:
                record_refusal(request, user, allowed)
                raise forbidden(user.role, allowed)
            check_council(request, user)
            return user

        check_page.allowed_roles = allowed  # type: ignore[attr-defined]
        return check_page

    def check_api(request: Request, user: Annotated[CurrentUser, Depends(api_user)]) -> CurrentUser:
        if user.role not in allowed:
            record_refusal(request, user, allowed)
            raise forbidden(user.role, allowed)
        check_council(request, user)
        return user

    check_api.allowed_roles = allowed  # type: ignore[attr-defined]
    return check_api


ALL_ROLES: tuple[str, ...] = ROLES
STAFF: tuple[str, ...] = tuple(r for r in ROLES if r != "person")
CASE_READERS: tuple[str, ...] = (
    "person",
    "social_worker",
    "approver",
    "appeals_officer",
    "operations",
    "compliance",
)


# Roles whose sign-ins the ledger keeps (issue 4: compliance and policy sign-ins are audited).
AUDITED_SIGN_IN: tuple[str, ...] = ("compliance", "policy_admin", "national_admin", "admin")


def record_sign_in(store: Any, user: CurrentUser, via: str) -> None:
    if user.role in AUDITED_SIGN_IN:
        store.append_event(
            f"{via}-sign-in-{uuid.uuid4()}",
            None,
            user.username,
            user.role,
            "user.signed_in",
            {"via": via},
        )


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A real argon2 hash of nothing anyone knows: an unknown user costs one verification too,
    so the time of a failed sign-in does not tell whether the username exists."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(uuid.uuid4().hex))
    return _DUMMY_HASH[0]


def authenticate(store: Any, username: str, password: str) -> CurrentUser | None:
    from carebudget.web.security import HASHING

    try:
        record = store.get_user(username)
    except StoreError:  # a malformed username is a failed sign-in
        record = None
    known = record is not None and getattr(record, "active", True)
    stored = getattr(record, "password_hash", "") if known else _dummy_hash()
    with HASHING:
        matches = verify_password(password, stored)
    if not known or not matches:
        return None
    assert record is not None
    return CurrentUser(record.username, record.role, record.display_name, record.council)


def start_session(request: Request, user: CurrentUser) -> None:
    """Sign a page user in: a fresh session (no fixation), recorded server-side."""
    sid = request.app.state.store.create_session(user.username, user.role, "page", 8 * 3600)
    request.session.clear()
    request.session.update({"username": user.username, "role": user.role, "sid": sid})


def end_session(request: Request) -> None:
    sid = request.session.get("sid")
    if isinstance(sid, str):
        request.app.state.store.revoke_session(sid)
    request.session.clear()
