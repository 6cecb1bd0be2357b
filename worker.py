"""The case worker: runs the Case workflow and its activities on the settings' task queue.

Several worker processes may serve the same task queue; Temporal spreads one council's cases
between them. Run with `python worker.py` (or as part of `carebudget serve`).
"""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import CodeType
from typing import TYPE_CHECKING, Any

from temporalio.client import Client
from temporalio.worker import Worker, WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.decisions import Decisions
from activities.letters import Letters
from activities.policy import Policies, bank_underspend
from activities.pools import PoolActivities
from activities.records import Records
from activities.savings import SavingsPolicies
from workflows.case import CaseWorkflow
from workflows.pool import PoolWorkflow
from workflows.refusal_record import RecordRefusalWorkflow

if TYPE_CHECKING:
    from carebudget.settings import Settings
    from carebudget.store import Store

# Concurrency (docs/performance.md, "Worker settings"). Activities, the decisions and records the
# workflows run locally among them, are synchronous: they share ACTIVITY_THREADS threads (local
# activities have no slot limit of their own, the SDK's default: they queue for a thread). Store
# writes queue in-process for SQLite's one writer (carebudget/store/db.py), so more threads add
# waiting, not throughput; PostgreSQL writes to different councils' chains run side by side.
ACTIVITY_THREADS = 16
# Workflow runs kept in memory between their tasks; a run evicted is replayed from its history
# when it next has work. The SDK's default, stated: each cached case costs about 0.5 MB.
CACHED_RUNS = 1000
# Our deterministic model modules (pydantic models and pure functions: no I/O, no clock, no
# randomness) are imported once for the process and shared with every workflow's sandbox, instead
# of being imported again for each workflow run. The workflow modules themselves (workflows/case.py,
# workflows/pool.py) stay sandboxed, so a non-deterministic call there is still refused.
PASSTHROUGH_MODULES = (
    "workflows.models", "workflows.pool_models", "workflows.refusals", "workflows.index",
    "workflows.savings", "carebudget.decisions.inputs",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    keep_workflow_bytecode()
    return LeanSandboxRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )


@dataclass(frozen=True)
class LeanSandboxRunner(SandboxedWorkflowRunner):
    """The SDK's sandbox, unchanged for workflow code, without two costs of its own plumbing
    (docs/performance.md, "Steps under load"): the SDK compiles the same few lines of source each
    time it enters a sandbox (every activation), and enters it once more for every payload it
    converts, to ask the workflow which serialization context applies: a lookup of the SDK's own
    state (workflow id, the pending command) that imports nothing and calls no workflow code.
    Here those lines are compiled once, and the lookup is asked directly. On an SDK whose
    sandbox is not built this way, the instance is left as the SDK made it."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        instance = super().create_instance(det)
        lean(instance)
        return instance


_COMPILED: dict[str, CodeType] = {}


def lean(instance: WorkflowInstance) -> bool:
    """Make a sandboxed instance lean (see LeanSandboxRunner); False if it cannot be."""
    stock_run_code = getattr(type(instance), "_run_code", None)
    sandboxed = getattr(instance, "globals_and_locals", {}).get("__temporal_in_sandbox")
    inner = getattr(sandboxed, "instance", None)
    lookups = ("get_serialization_context", "get_external_store_context")
    if stock_run_code is None or inner is None or not all(hasattr(inner, n) for n in lookups):
        return False

    def run_code(code: str | CodeType, **extra_globals: Any) -> None:
        if isinstance(code, str):
            code = _COMPILED.get(code) or _COMPILED.setdefault(
                code, compile(code, "<temporal sandbox>", "exec"))
        stock_run_code(instance, code, **extra_globals)

    instance._run_code = run_code  # type: ignore[attr-defined]
    for name in lookups:
        setattr(instance, name, getattr(inner, name))
    return True


def keep_workflow_bytecode() -> None:
    """Write the bytecode of the workflow modules, which every workflow run imports afresh in its
    sandbox. Where Python writes no bytecode (PYTHONDONTWRITEBYTECODE, usual in containers and set
    on our CI machines) each run compiled workflows/case.py from source again: about 20 ms, half
    the cost of making a case's sandbox. Imports read bytecode even when they may not write it.
    A read-only install just compiles as before."""
    import compileall
    from pathlib import Path

    compileall.compile_dir(Path(__file__).resolve().parent / "workflows", maxlevels=0, quiet=2)


def build_worker(
    client: Client, task_queue: str, executor: ThreadPoolExecutor | None = None,
    store: Store | None = None, settings: Settings | None = None,
) -> Worker:
    """A worker for the Case workflow; activities are synchronous (rules engine, database).

    Decisions use the shipped rules with the council policy versions published in the store."""
    from carebudget.policy.versions import registry_for
    from carebudget.settings import get_settings

    records = Records(store)
    registry = registry_for(get_settings().rules_dir, records.store)
    savings = SavingsPolicies(registry)  # issue 15: savings, a saver's review, reablement costs
    pools = PoolActivities(registry, records.store)  # issue 15: community pools
    letters = Letters(registry, records.store, settings)  # issue 13: each decision's letter, and notices
    records.letters = letters  # a step's letters go with its record, on the worker's rules
    decisions = Decisions(registry)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CaseWorkflow, RecordRefusalWorkflow, PoolWorkflow],
        activities=[decisions.decide, decisions.decide_in_turn, Policies(registry).council_policy,
                    bank_underspend, records.record_step, records.record_refusal,
                    savings.savings_use, savings.review_depth, savings.reablement_cost,
                    pools.pool_terms, pools.check_member_share, pools.pool_reward,
                    pools.record_pool_event, letters.issue_letter, letters.issue_notice],
        activity_executor=executor or ThreadPoolExecutor(max_workers=ACTIVITY_THREADS),
        max_concurrent_activities=ACTIVITY_THREADS,
        max_cached_workflows=CACHED_RUNS,
        workflow_runner=workflow_runner(),
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
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        async with build_worker(client, settings.task_queue, executor):
            check = asyncio.create_task(_startup_check(client))
            relay = asyncio.create_task(_notice_relay())
            await stop.wait()
            check.cancel()
            relay.cancel()


async def _startup_check(client: Client) -> None:
    """After a crash the store may be ahead of Temporal: repair it from the workflows' state."""
    from datetime import timedelta

    from carebudget.service.reconcile import startup_check
    from carebudget.settings import get_settings
    from carebudget.store import get_store

    await startup_check(client, get_store(), timedelta(seconds=get_settings().reconcile_grace_s))


async def _notice_relay() -> None:
    """Notices left in the outbox (mail server down, a crash mid-send) are sent again."""
    from carebudget.notices.outbox import relay
    from carebudget.settings import get_settings
    from carebudget.store import get_store

    await relay(get_store(), get_settings())


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
