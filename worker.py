"""The case worker: runs the Case workflow and its activities on the settings' task queue.

Several worker processes may serve the same task queue; Temporal spreads one council's cases
between them. Run with `python worker.py` (or as part of `carebudget serve`).
"""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from temporalio.client import Client
from temporalio.worker import Worker

from activities.decisions import Decisions
from activities.policy import Policies, bank_underspend
from activities.pools import PoolActivities
from activities.records import Records
from activities.savings import SavingsPolicies
from workflows.case import CaseWorkflow, RecordRefusalWorkflow
from workflows.pool import PoolWorkflow

if TYPE_CHECKING:
    from carebudget.store import Store



def build_worker(
    client: Client, task_queue: str, executor: ThreadPoolExecutor | None = None,
    store: Store | None = None,
) -> Worker:
    """A worker for the Case workflow; activities are synchronous (rules engine, database).

    Decisions use the shipped rules with the council policy versions published in the store."""
    from carebudget.policy.versions import registry_for
    from carebudget.settings import get_settings

    records = Records(store)
    registry = registry_for(get_settings().rules_dir, records.store)
    savings = SavingsPolicies(registry)  # issue 15: savings, a saver's review, reablement costs
    pools = PoolActivities(registry, records.store)  # issue 15: community pools
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CaseWorkflow, RecordRefusalWorkflow, PoolWorkflow],
        activities=[Decisions(registry).decide, Policies(registry).council_policy, bank_underspend,
                    records.record_step, records.record_refusal,
                    savings.savings_use, savings.review_depth, savings.reablement_cost,
                    pools.pool_terms, pools.check_member_share, pools.pool_reward,
                    pools.record_pool_event],
        activity_executor=executor or ThreadPoolExecutor(max_workers=16),
        max_concurrent_activities=16,
    )


async def run_worker(stop: asyncio.Event | None = None) -> None:
    """Connect from settings and serve the task queue until `stop` is set (or SIGINT/SIGTERM)."""
    from carebudget.service.cases import get_client
    from carebudget.settings import get_settings

    settings = get_settings()
    if not settings.is_development:
        from carebudget.settings import DEV_PAYLOAD_KEYS

        if settings.payload_keys == DEV_PAYLOAD_KEYS:
            raise SystemExit("refusing to start outside development with the development "
                             "CAREBUDGET_PAYLOAD_KEYS; set your own (carebudget keys-new)")
    client = await get_client(settings)
    stop = stop or _stop_on_signals()
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with build_worker(client, settings.task_queue, executor):
            check = asyncio.create_task(_startup_check(client))
            await stop.wait()
            check.cancel()


async def _startup_check(client: Client) -> None:
    """After a crash the store may be ahead of Temporal: repair it from the workflows' state."""
    from datetime import timedelta

    from carebudget.service.reconcile import startup_check
    from carebudget.settings import get_settings
    from carebudget.store import get_store

    await startup_check(client, get_store(), timedelta(seconds=get_settings().reconcile_grace_s))


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def main() -> None:
    asyncio.run(run_worker())


if __name__ == "__main__":
    main()
