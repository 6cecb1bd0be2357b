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
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from workflows.case import COUNCIL, DUE_AT, OVERDUE, STAGE

    async with await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=[STAGE, COUNCIL, DUE_AT, OVERDUE],
        dev_server_existing_path=temporal_binary(),
        ui=False,
    ) as env:
        yield env


@asynccontextmanager
async def case_worker(client: Any, store: Any, task_queue: str) -> AsyncIterator[None]:
    from worker import build_worker

    async with build_worker(client, task_queue, store=store):
        yield


def with_queue(settings: Settings) -> Settings:
    """Each test module's cases on their own task queue."""
    return settings.model_copy(update={"task_queue": f"web-{uuid.uuid4().hex[:10]}"})
