"""The web's defences: security headers, CSRF tokens on every state-changing form, and sign-in
throttling with temporary lockout (OWASP ASVS 3.5, 4.2.2, 2.2.1)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import FastAPI, HTTPException, Request, Response

# No inline script anywhere (every script is a file under /static); inline style attributes are
# allowed (they cannot run code). Nothing may frame the service.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def add_security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use); every page form sends it back."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """A dependency of every page router: a state-changing request must carry the session's
    token, in the form or in the X-CSRF-Token header (which no other site can set)."""
    if request.method in SAFE_METHODS:
        return
    if "sid" not in request.session and request.url.path != "/sign-in":
        return  # not signed in: the page's own check sends the browser to sign in, nothing changes
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if "form" in content_type:
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not secrets.compare_digest(sent, expected):
        raise HTTPException(
            403,
            "This form did not come from a page of this service, or it has expired. "
            "Go back, reload the page and try again.",
        )


@dataclass
class SignInThrottle:
    """Sign-in attempts per address and per username in a sliding window; too many lock that
    address or username out for a while. Checked before any password is hashed, so a flood of
    guesses is turned away cheaply. Per process: with several web hosts, each keeps its own."""

    per_address: int = 50  # behind a proxy every user shares one address: keep this loose
    per_user: int = 5
    window_s: float = 15 * 60
    lockout_s: float = 15 * 60
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _locked: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [(f"user:{username.lower()}", self.per_user), (f"addr:{address}", self.per_address)]

    def attempt(self, username: str, address: str) -> int:
        """Count a sign-in attempt before its password is checked, so a burst of concurrent
        guesses is counted at once. Returns the seconds to wait if this username or address is
        locked out (0: go ahead). A success takes its own count back (`succeeded`), so only
        failed and in-flight attempts ever count."""
        now = time.monotonic()
        keys = self._keys(username, address)
        with self._lock:
            until = max(self._locked.get(k, 0.0) for k, _ in keys)
            if until > now:
                return int(until - now + 0.999)
            for key, limit in keys:
                recent = self._failures[key]
                while recent and recent[0] < now - self.window_s:
                    recent.popleft()
                if len(recent) >= limit:
                    self._locked[key] = now + self.lockout_s
                    recent.clear()
                    return int(self.lockout_s)
            for key, _ in keys:
                self._failures[key].append(now)
        return 0

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username.lower()}", None)
            recent = self._failures.get(f"addr:{address}")
            if recent:
                recent.pop()


def too_many_attempts(wait: int) -> HTTPException:
    minutes = max(1, (wait + 59) // 60)
    return HTTPException(
        429, f"Too many sign-in attempts. Wait {minutes} minute{'s' if minutes != 1 else ''} and try again.",
        headers={"Retry-After": str(wait)},
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# A flood of sign-ins must not take every worker thread: password hashing is bounded.
HASHING = threading.BoundedSemaphore(2)
