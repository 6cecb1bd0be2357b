"""Workflow tests: a real Temporal dev server (one per session), a real store, the real rules.

Timer tests get a fresh time-skipping server each: it will not skip time while any workflow
task is outstanding, so a case left behind by an earlier test (its worker gone) would stall it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from carebudget.service.codec import data_converter
from carebudget.settings import REPO_ROOT
from carebudget.store import Store
from workflows.case import COUNCIL, DUE_AT, OVERDUE, STAGE

SEARCH_ATTRIBUTES = [STAGE, COUNCIL, DUE_AT, OVERDUE]


def temporal_binary() -> str:
    return shutil.which("temporal") or str(REPO_ROOT / ".venv/bin/temporal")


def test_server_binary() -> str:
    return shutil.which("temporal-test-server") or str(REPO_ROOT / ".venv/bin/temporal-test-server")


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_local(
        data_converter=data_converter(),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=temporal_binary(),
        ui=False,
    ) as environment:
        yield environment


@pytest.fixture
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(),
        test_server_existing_path=test_server_binary(),
    ) as environment:
        await environment.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=environment.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.ValueType(key.indexed_value_type)
                    for key in SEARCH_ATTRIBUTES
                },
            )
        )
        yield environment


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path: Path = tmp_path_factory.mktemp("workflows") / "carebudget.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    # Every step's actor must be a user (issue 11): the example staff, and the people of the
    # generated cases these tests drive (make_case(n) for n < 300, seeds 7 and 11 at 100 and 200).
    from carebudget.service import examples

    people = [f"person-0-{n}" for n in range(300)]
    people += [f"person-7-{n}" for n in range(100, 200)] + [f"person-11-{n}" for n in range(200, 300)]
    examples.ensure_users(store, persons=people)
    return store


@pytest.fixture
def task_queue() -> str:
    return f"cases-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def client(env: WorkflowEnvironment, store: Store, task_queue: str) -> AsyncIterator[Client]:
    """The dev server's client, with a worker serving this test's own task queue."""
    from worker import build_worker

    worker: Worker = build_worker(env.client, task_queue, store=store)
    async with worker:
        yield env.client
