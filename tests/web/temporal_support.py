"""A real Temporal dev server and a real case worker for web tests that need cases."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from carebudget.settings import REPO_ROOT, Settings


def temporal_binary() -> str:
    return shutil.which("temporal") or str(REPO_ROOT / ".venv/bin/temporal")


@asynccontextmanager
async def temporal_dev_server() -> AsyncIterator[Any]:
    from temporalio.testing import WorkflowEnvironment

    from carebudget.service.codec import data_converter
    from workflows.case import COUNCIL, DUE_AT, OVERDUE, STAGE

    async with await WorkflowEnvironment.start_local(
        data_converter=data_converter(),
        search_attributes=[STAGE, COUNCIL, DUE_AT, OVERDUE],
        dev_server_existing_path=temporal_binary(),
        ui=False,
    ) as env:
        yield env


@asynccontextmanager
async def case_worker(client: Any, store: Any, task_queue: str, settings: Any = None) -> AsyncIterator[None]:
    from worker import build_worker

    async with build_worker(client, task_queue, store=store, settings=settings):
        yield


def with_queue(settings: Settings) -> Settings:
    """Each test module's cases on their own task queue."""
    return settings.model_copy(update={"task_queue": f"web-{uuid.uuid4().hex[:10]}"})


class TemporalThread:
    """Temporal dev server and a case worker on their own event loop, for a threaded web server."""

    def __init__(self, store: Any, task_queue: str, settings: Any = None) -> None:
        import threading

        self.store, self.task_queue, self.settings = store, task_queue, settings
        self.address = ""
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._loop: Any = None
        self._stop: Any = None
        self.error: BaseException | None = None

    def _run(self) -> None:
        import asyncio

        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            async with (
                temporal_dev_server() as env,
                case_worker(env.client, self.store, self.task_queue, self.settings),
            ):
                self.address = env.client.service_client.config.target_host
                self._ready.set()
                await self._stop.wait()

        try:
            asyncio.run(main())
        except Exception as exc:  # noqa: BLE001 - any start-up failure is reported by start()
            self.error = exc
            self._ready.set()

    def start(self) -> str:
        self._thread.start()
        self._ready.wait(timeout=120)
        if self.error is not None or not self.address:
            raise RuntimeError(f"Temporal did not start: {self.error}")
        return self.address

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)
