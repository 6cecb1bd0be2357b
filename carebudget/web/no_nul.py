"""No request carries the NUL character: refused with 400 in plain words before any handler runs.

PostgreSQL text cannot hold NUL (code 0), so a name, search or sign-in containing one reached
the database and failed there with a 500; SQLite would have stored it and the two stores would
disagree. No legitimate input of this service (names, reasons, rule files, which are UTF-8 text)
contains it, so it is refused at the edge, in the path, the query and the body, however encoded:
raw, percent-encoded (`%00`) or as a JSON escape (`\\u0000`).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MESSAGE = (
    "the request contains the NUL character (code 0), which no name, date or text may contain; "
    "remove it and try again"
)
_ENCODED = re.compile(rb"\x00|%00|\\u0000", re.IGNORECASE)


def carries_nul(data: bytes) -> bool:
    return _ENCODED.search(data) is not None


class RefuseNul:
    """ASGI middleware; sits inside BodyLimit, so the body it reads whole is at most 2 MB."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        if "\x00" in scope["path"] or carries_nul(path) or carries_nul(scope["query_string"]):
            await self._refuse(scope, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if carries_nul(body):
            await self._refuse(scope, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if scope["path"].startswith("/api"):
            payload = json.dumps(
                {"error": "invalid input", "message": MESSAGE, "detail": MESSAGE}
            ).encode()
            content_type = b"application/json"
        else:
            payload = (
                b"<!doctype html><html lang=en><meta charset=utf-8><title>Not accepted</title>"
                b"<main><h1>Not accepted</h1><p>What you sent contains the NUL character (code 0), "
                b"which no name, date or text may contain. Go back, remove it and try again.</p>"
                b'<p><a href="/">Back to the start</a></p></main></html>'
            )
            content_type = b"text/html; charset=utf-8"
        await send({
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", content_type),
                        (b"content-length", str(len(payload)).encode())],
        })
        await send({"type": "http.response.body", "body": payload})
