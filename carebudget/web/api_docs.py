"""The API's reference page, rendered on the server from the OpenAPI schema.

FastAPI's own /docs page loads Swagger UI from a CDN, which deployments without internet cannot
reach; this page needs nothing but the app. It also states, for every operation, the roles that
may call it, read from the `require_roles` dependency the route declares.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


def allowed_roles(route: APIRoute) -> tuple[str, ...] | None:
    """The roles of the route's `require_roles` dependency; None for an open route."""
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        roles = getattr(dependant.call, "allowed_roles", None)
        if roles is not None:
            return tuple(roles)
        stack.extend(dependant.dependencies)
    return None


def with_roles(app: FastAPI, routes: list[Any]) -> dict[str, Any]:
    """The OpenAPI schema, each operation's description naming who may call it."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for route in routes:  # the API router's own routes (the app wraps included routers)
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        roles = allowed_roles(route)
        note = f"Roles: {', '.join(roles)}." if roles else "Open: no sign-in needed."
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation["description"] = (
                    f"{operation.get('description', '').strip()}\n\n{note}".strip()
                )
                operation["x-roles"] = list(roles or ())
    app.openapi_schema = schema
    return schema


def operations(app: FastAPI) -> list[dict[str, Any]]:
    schema = app.openapi()
    rows = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": (op.get("description") or "")
                    .split("\n\nRoles:")[0]
                    .split("\n\nOpen:")[0],
                    "roles": op.get("x-roles", []),
                    "tag": (op.get("tags") or ["other"])[0],
                    "parameters": [
                        {"name": p["name"], "in": p["in"], "required": p.get("required", False)}
                        for p in op.get("parameters", [])
                    ],
                    "body": bool(op.get("requestBody")),
                }
            )
    return rows
