"""Issue 11 point 5, each finding reproduced and shown fixed: CSRF from another port (in a real
browser), login CSRF, framing and content headers, brute force, user enumeration by timing,
a session cookie replayed after sign-out, weak passwords and secrets."""

from __future__ import annotations

import http.server
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from carebudget.web.app import UnsafeConfiguration, create_app
from carebudget.web.demo_users import DEMO_PASSWORD
from carebudget.web.security import SignInThrottle
from tests.web.conftest import bearer, make_settings
from tests.web.live import chromium, free_port, needs_chromium, serve
from tests.web.live import sign_in as browser_sign_in


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    app = create_app(make_settings(tmp_path_factory.mktemp("security")))
    with TestClient(app):  # lifespan: demo users
        pass
    yield app


def test_every_response_forbids_framing_sniffing_and_inline_script(secured: Any) -> None:
    client = TestClient(secured)
    for path in ("/sign-in", "/api/health", "/api/openapi.json", "/no-such-page"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
        assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_no_template_has_inline_script_or_event_handlers() -> None:
    import re

    templates = Path(__file__).resolve().parents[2] / "carebudget/web/templates"
    for template in templates.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name


@contextmanager
def evil_site(html: str) -> Iterator[str]:
    """A page on another port of the same host (same site, other origin), as an attacker's."""
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


@needs_chromium
def test_a_page_on_another_port_cannot_make_a_signed_in_administrator_create_a_user(secured: Any) -> None:
    store = secured.state.store
    with serve(secured) as base, chromium() as browser:
        page = browser_sign_in(browser, base, "demo-admin")
        assert page.url.endswith("/admin/users")
        form = (f'<form id="f" method="post" action="{base}/admin/users">'
                '<input name="username" value="mallory"><input name="display_name" value="Mallory">'
                '<input name="role" value="admin"><input name="password" value="a very long evil passphrase">'
                '</form><script>document.getElementById("f").submit()</script>')
        with evil_site(form) as evil:
            page.goto(evil)
            page.wait_for_load_state("networkidle")
        assert store.get_user("mallory") is None
        assert "did not come from a page of this service" in page.content()
        # The same administrator, on the service's own page, still can.
        page.goto(f"{base}/admin/users")
        assert page.locator('input[name="csrf_token"]').count() >= 1


@needs_chromium
def test_a_page_on_another_port_cannot_sign_a_browser_in_as_the_attacker(secured: Any) -> None:
    with serve(secured) as base, chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{base}/sign-in")  # the victim has the service open, not signed in
        form = (f'<form id="f" method="post" action="{base}/sign-in">'
                f'<input name="username" value="demo-operations"><input name="password" value="{DEMO_PASSWORD}">'
                '</form><script>document.getElementById("f").submit()</script>')
        with evil_site(form) as evil:
            page.goto(evil)
            page.wait_for_load_state("networkidle")
        page.goto(f"{base}/operations")
        assert "/sign-in" in page.url  # not signed in as the attacker's account


def test_a_form_post_without_the_sessions_token_changes_nothing(secured: Any) -> None:
    from tests.web.conftest import sign_in

    client = TestClient(secured)
    assert sign_in(client, "demo-admin").status_code == 303
    del client.headers["X-CSRF-Token"]
    response = client.post("/admin/users", data={"username": "trudy", "display_name": "Trudy",
                                                 "role": "admin", "password": "a very long evil passphrase"})
    assert response.status_code == 403 and secured.state.store.get_user("trudy") is None


def test_signing_out_ends_an_api_token_too(secured: Any) -> None:
    client = TestClient(secured)
    token = client.post("/api/token", json={"username": "demo-compliance", "password": DEMO_PASSWORD}).json()["access_token"]
    assert client.get("/api/me", headers=bearer(token)).status_code == 200
    assert client.delete("/api/token", headers=bearer(token)).status_code == 204
    refused = client.get("/api/me", headers=bearer(token))
    assert refused.status_code == 401 and "signed out" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("password", "words"),
    [("short pass", "at least 12"), ("password1234", "most common"), ("aaaaaaaaaaaaaaaa", "too few"),
     ("i am newbie the user", "username")],
)
def test_a_weak_password_is_refused_naming_the_field(secured: Any, password: str, words: str) -> None:
    client = TestClient(secured)
    admin = client.post("/api/token", json={"username": "demo-admin", "password": DEMO_PASSWORD}).json()["access_token"]
    response = client.post("/api/users", headers=bearer(admin), json={
        "username": "newbie", "display_name": "New", "role": "operations", "password": password})
    assert response.status_code == 422
    assert response.json()["field"] == "password" and words in response.json()["message"]


def test_production_refuses_a_weak_secret(tmp_path: Path) -> None:
    settings = make_settings(tmp_path).model_copy(update={
        "environment": "production", "secret_key": "short-secret", "create_demo_users": False})
    with pytest.raises(UnsafeConfiguration, match="CAREBUDGET_SECRET_KEY is too weak"):
        create_app(settings)


def _timed_sign_in(base: str, username: str) -> float:
    start = time.perf_counter()
    response = httpx.post(f"{base}/api/token", json={"username": username, "password": "wrong-password-guess"})
    assert response.status_code == 401
    return time.perf_counter() - start


def test_a_failed_sign_in_takes_as_long_whether_or_not_the_user_exists(secured: Any) -> None:
    secured.state.throttle = SignInThrottle(per_user=10_000, per_address=10_000)
    try:
        with serve(secured) as base:
            _timed_sign_in(base, "demo-admin")  # warm up both paths
            _timed_sign_in(base, "nobody-at-all")
            known, unknown = [], []
            for _ in range(12):
                known.append(_timed_sign_in(base, "demo-admin"))
                unknown.append(_timed_sign_in(base, "nobody-at-all"))
    finally:
        secured.state.throttle = SignInThrottle()
    ratio = statistics.median(unknown) / statistics.median(known)
    # The leak this guards against is an unknown name answered without hashing a password: a
    # ratio near 0 (microseconds against the hash's tens of milliseconds). The bounds leave room
    # for other work on a shared machine (1.28 was seen under a parallel suite), not for a leak.
    assert 0.5 <= ratio <= 2.0, (ratio, statistics.median(known), statistics.median(unknown))


def test_a_flood_of_wrong_sign_ins_is_turned_away_and_the_service_stays_responsive(secured: Any) -> None:
    secured.state.throttle = SignInThrottle()
    with serve(secured) as base, httpx.Client(base_url=base, timeout=30) as http:
        baseline = []
        for _ in range(20):
            start = time.perf_counter()
            assert http.get("/api/health").status_code == 200
            baseline.append(time.perf_counter() - start)
        statuses: list[int] = []
        during: list[float] = []
        stop = threading.Event()

        def attack(i: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as attacker:
                statuses.append(attacker.post("/api/token", json={
                    "username": "demo-admin", "password": f"guess-{i}"}).status_code)

        def probe() -> None:
            while not stop.is_set():
                start = time.perf_counter()
                http.get("/api/health")
                during.append(time.perf_counter() - start)
                time.sleep(0.02)

        prober = threading.Thread(target=probe)
        prober.start()
        with ThreadPoolExecutor(max_workers=40) as pool:
            list(pool.map(attack, range(40)))
        stop.set()
        prober.join()
        locked = http.post("/api/token", json={"username": "demo-admin", "password": DEMO_PASSWORD})
    assert statuses.count(429) >= 30  # turned away before any password is hashed
    assert set(statuses) <= {401, 429}
    assert locked.status_code == 429 and "Wait" in locked.json()["detail"]
    # Health keeps answering through the flood (before: stalled 42 s). The bound is loose on
    # purpose: this machine is shared, and the point is seconds of stall, not milliseconds.
    assert len(during) >= 3
    assert statistics.quantiles(during, n=20)[-1] <= max(2.0, 50 * statistics.median(baseline))
