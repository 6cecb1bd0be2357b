"""Issue 15: `carebudget demo` also drives a pool, a banked-savings purchase and a reablement
episode; `carebudget report pools --council demo --format json` lists the pools (real dev server)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from asyncio.subprocess import PIPE
from decimal import Decimal

from temporalio.testing import WorkflowEnvironment

from carebudget.cli.demo import run_demo
from carebudget.cli.pools import run_pool_demo
from carebudget.settings import REPO_ROOT, get_settings
from carebudget.store import Store


async def test_the_demo_drives_a_pool_a_savings_purchase_and_reablement_and_the_report_lists_the_pool(
    env: WorkflowEnvironment, store: Store
) -> None:
    from worker import build_worker

    client = env.client
    async with build_worker(client, get_settings().task_queue, store=store):
        results = await run_demo(client, 6, store=store)
        story = await run_pool_demo(client, results)
        settings = {"CAREBUDGET_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
                    "CAREBUDGET_DATABASE_URL": store.url}
        command = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "carebudget.cli", "report", "pools", "--council", "demo", "--format", "json",
            cwd=REPO_ROOT, env={**os.environ, **settings}, stdout=PIPE, stderr=PIPE,
        )
        out, err = await asyncio.wait_for(command.communicate(), timeout=120)
    pool, purchase, episode = story["pool"], story["purchase"], story["reablement"]
    assert pool is not None and len(pool["members"]) >= 2 and pool["rewarded"] is True
    assert pool["draws"] and pool["draws"][0]["status"] == "approved"
    assert purchase is not None and purchase["approved"] is True
    assert Decimal(purchase["balance"]) > 0
    assert episode is not None and (episode["cost"], episode["free_weeks"]) == ("1440.00", 6)
    assert command.returncode == 0, err.decode()
    report = json.loads(out)
    listed = {p["pool_id"]: p for p in report["pools"]}
    assert pool["pool_id"] in listed
    assert listed[pool["pool_id"]]["members"] == pool["members"]
    assert listed[pool["pool_id"]]["outcomes_met"] is True
