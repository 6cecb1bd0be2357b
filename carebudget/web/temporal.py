"""The web app's connection to Temporal: opened on first use, so pages that need no case work
while Temporal is still starting, and a page that does gets a clear 503 instead of a hang."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from fastapi import HTTPException

from carebudget.settings import Settings

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5.0


class TemporalAccess:
    def __init__(self, settings: Settings, client: Any = None) -> None:
        self.settings = settings
        self._client = client
        self._owned = False
        self._lock = asyncio.Lock()
        self._failed_at = -RETRY_AFTER_SECONDS

    async def client(self) -> Any:
        if self._client is not None:
            return self._client
        if time.monotonic() - self._failed_at < RETRY_AFTER_SECONDS:
            raise self._unreachable()  # fail fast while Temporal is down, rather than queue every request
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await asyncio.wait_for(self._connect(), timeout=10)
                    self._owned = True
                except (OSError, RuntimeError, TimeoutError) as exc:  # not there, or not ready
                    self._failed_at = time.monotonic()
                    log.warning(
                        "cannot reach Temporal at %s: %s",
                        self.settings.effective_temporal_address,
                        exc,
                    )
                    raise self._unreachable() from None
        return self._client

    def _unreachable(self) -> HTTPException:
        return HTTPException(
            503,
            f"The case service (Temporal at {self.settings.effective_temporal_address}) "
            "is not reachable; try again in a minute",
        )

    async def _connect(self) -> Any:
        try:
            from carebudget.service.cases import get_client
        except ImportError:
            from temporalio.client import Client

            return await Client.connect(
                self.settings.effective_temporal_address, namespace=self.settings.temporal_namespace
            )
        return await get_client(self.settings)

    async def close(self) -> None:
        self._client = None if self._owned else self._client
