"""The web app's connection to Temporal: opened on first use, so pages that need no case work
while Temporal is still starting, and a page that does gets a clear 503 instead of a hang."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import HTTPException

from carebudget.settings import Settings

log = logging.getLogger(__name__)


class TemporalAccess:
    def __init__(self, settings: Settings, client: Any = None) -> None:
        self.settings = settings
        self._client = client
        self._owned = False
        self._lock = asyncio.Lock()

    async def client(self) -> Any:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await asyncio.wait_for(self._connect(), timeout=10)
                    self._owned = True
                except Exception as exc:
                    log.warning("cannot reach Temporal at %s: %s", self.settings.effective_temporal_address, exc)
                    raise HTTPException(503, f"The case service (Temporal at "
                                        f"{self.settings.effective_temporal_address}) is not reachable; "
                                        "try again in a minute") from None
        return self._client

    async def _connect(self) -> Any:
        try:
            from carebudget.service.cases import get_client
        except ImportError:
            from temporalio.client import Client

            return await Client.connect(self.settings.effective_temporal_address,
                                        namespace=self.settings.temporal_namespace)
        return await get_client(self.settings)

    async def close(self) -> None:
        self._client = None if self._owned else self._client
