"""No request body larger than the service needs: refused with 413 before it is read whole.

The largest legitimate body is an uploaded rule file (at most 1 MB, carebudget.rulebook.yamlsource)
as JSON or a form. A 50 MB upload must neither fill the server's memory nor keep a worker reading:
a declared Content-Length above the limit is refused at once, and a body sent without one is
counted as it arrives and cut off at the limit.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 2_000_000


class BodyTooLarge(Exception):
    """The body grew past the limit while it was read."""


def _message(limit: int) -> str:
    return (
        f"the request body is larger than {limit:,} bytes, the most this service accepts; "
        "a rule file may be at most 1,000,000 bytes"
    )


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            # Whatever the app does with the error raised here (FastAPI turns a failed body read
            # into its own 400), the person gets the 413 sent first and nothing after it.
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    if not started and not refused:
                        refused = True
                        await self._refuse(send)
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if not refused and not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        message = _message(self.limit)
        body: dict[str, Any] = {"error": "request too large", "message": message, "detail": message}
        payload = json.dumps(body).encode()
        await send({
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                        (b"content-length", str(len(payload)).encode())],
        })
        await send({"type": "http.response.body", "body": payload})
