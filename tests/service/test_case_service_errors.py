"""The case service turns Temporal transport failures into a typed, readable error."""

from __future__ import annotations

import shutil

import pytest
from temporalio.testing import WorkflowEnvironment

from carebudget.service import cases
from carebudget.service.codec import data_converter
from carebudget.settings import REPO_ROOT


async def test_reading_a_case_while_temporal_is_unreachable_is_a_busy_error_not_a_stack_trace() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=shutil.which("temporal") or str(REPO_ROOT / ".venv/bin/temporal"),
        data_converter=data_converter(),
    )
    client = env.client
    await env.shutdown()
    with pytest.raises(cases.CaseBusy) as busy:
        await cases.describe(client, "C-20260101-unreachable")
    assert "try again" in busy.value.reason
    assert busy.value.case_id == "C-20260101-unreachable"
