"""The web service: server-rendered pages for each role and a JSON API under /api (FastAPI).

`create_app(settings)` builds the app; `carebudget serve` runs it with uvicorn. Every asset is
served from carebudget/web/static: deployments may have no internet.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from carebudget.settings import DEFAULT_SECRET, DEV_PAYLOAD_KEYS, Settings, get_settings
from carebudget.web.auth import NotSignedIn
from carebudget.web.body_limit import BodyLimit
from carebudget.web.forms import field_path, plain_message
from carebudget.web.no_nul import RefuseNul
from carebudget.web.temporal import TemporalAccess

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
DEMO_PREFIX = "demo-"


class UnsafeConfiguration(RuntimeError):
    """The service refuses to start outside development with demo users or the default secret."""


def check_safe_to_start(settings: Settings, store: Any) -> None:
    if settings.is_development:
        return
    problems = []
    if settings.secret_key == DEFAULT_SECRET:
        problems.append(
            "CAREBUDGET_SECRET_KEY is the default development secret; set a long random value"
        )
    elif len(settings.secret_key) < 32 or len(set(settings.secret_key)) < 10:
        problems.append(
            "CAREBUDGET_SECRET_KEY is too weak; use at least 32 random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if settings.create_demo_users:
        problems.append("CAREBUDGET_CREATE_DEMO_USERS is on; set it to false")
    ledger_problem = settings.ledger_key_problem()
    if ledger_problem:
        problems.append(ledger_problem)
    if settings.payload_keys == DEV_PAYLOAD_KEYS:
        problems.append(
            "CAREBUDGET_PAYLOAD_KEYS is the development key; set your own (carebudget keys-new)"
        )
    if store is not None:
        demo = [
            u.username
            for u in store.list_users()
            if u.username.startswith(DEMO_PREFIX) and u.active
        ]
        if demo:
            problems.append(
                f"demo users exist ({', '.join(demo)}); deactivate them with "
                "`carebudget users deactivate NAME`"
            )
    if problems:
        raise UnsafeConfiguration(
            f"refusing to start in {settings.environment!r} mode: " + "; ".join(problems)
        )


def create_app(
    settings: Settings | None = None, *, store: Any = None, temporal_client: Any = None
) -> FastAPI:
    """The FastAPI app. `store` and `temporal_client` may be given (tests); else from settings."""
    settings = settings or get_settings()
    if store is None:
        store = _store_for(settings)
    check_safe_to_start(settings, store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.is_development and settings.create_demo_users:
            from carebudget.web.demo_users import ensure_demo_users

            ensure_demo_users(
                store,
                announce=True,
                url=f"http://{settings.http_host}:{settings.http_port}/sign-in",
            )
        yield
        await app.state.temporal.close()

    app = FastAPI(
        title="carebudget",
        version="0.1.0",
        description="Personal budgets under the Care Act 2014: cases, decisions, rules and audit. "
        "Get a token from POST /api/token and send it as 'Authorization: Bearer <token>'.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI comes from a CDN: /api/docs is ours (api_docs.py)
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.store = store
    app.state.temporal = TemporalAccess(settings, temporal_client)
    from carebudget.web.security import SignInThrottle, add_security_headers

    app.state.throttle = SignInThrottle()
    add_security_headers(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="carebudget_session",
        same_site="lax",
        https_only=not settings.is_development,
        max_age=8 * 3600,
    )
    # Inside the body limit: NUL (which PostgreSQL text cannot hold) is refused before any handler.
    app.add_middleware(RefuseNul)
    # Outermost, so nothing (session, routing, form parsing) reads an oversized body first.
    app.add_middleware(BodyLimit)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    from carebudget.web import api, pages

    app.include_router(api.router)
    pages.include(app)
    from carebudget.web.api_docs import operations, with_roles

    app.openapi = lambda: with_roles(app, api.router.routes)  # type: ignore[method-assign]

    @app.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
    def api_reference(request: Request) -> Response:
        from carebudget.web.pages.common import render

        return render(
            request, "api_docs.html", None, title="API reference", operations=operations(app)
        )

    _install_error_handlers(app)
    return app


def _store_for(settings: Settings) -> Any:
    from carebudget.store import Store, get_store

    if settings is get_settings():
        return get_store()
    from carebudget.store.signing import Keyring

    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    # The app's own settings sign the ledger (a weak key is refused by check_safe_to_start).
    keys = Keyring.from_text(settings.ledger_key, settings.ledger_previous_keys)
    store = Store(settings.effective_database_url, keys=keys)
    store.migrate()
    return store


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _install_error_handlers(app: FastAPI) -> None:
    from carebudget.store import StoreError
    from carebudget.web.pages.common import render_error

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail
        if _is_api(request):
            # One error shape everywhere: {detail: sentence, error?, field?, message?}.
            body = (
                {**detail, "detail": detail.get("message")}
                if isinstance(detail, dict)
                else {"detail": detail}
            )
            return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
        return render_error(
            request,
            exc.status_code,
            str(detail.get("message") if isinstance(detail, dict) else detail),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": field_path(tuple(e.get("loc", ()))), "message": plain_message(dict(e))}
            for e in exc.errors()
        ]
        if _is_api(request):
            first = errors[0] if errors else {"field": None, "message": "invalid input"}
            return JSONResponse(
                {
                    "error": "invalid input",
                    "field": first["field"],
                    "message": f"{first['field']}: {first['message']}",
                    "errors": errors,
                },
                status_code=422,
            )
        return render_error(
            request, 400, "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        )

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        code = (
            404
            if type(exc).__name__.startswith("Unknown")
            else 409
            if "Duplicate" in type(exc).__name__
            else 400
        )
        if _is_api(request):
            return JSONResponse(exc.to_json(), status_code=code)
        return render_error(request, code, exc.message)
