"""The engine's own cost for bench/workflow_lifecycle.py: one activity, one signal, done."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
def touch(n: int) -> int:
    return n + 1


@workflow.defn
class TrivialWorkflow:
    def __init__(self) -> None:
        self.signalled = False

    @workflow.run
    async def run(self) -> int:
        result = await workflow.execute_activity(
            touch, 1, start_to_close_timeout=timedelta(seconds=10)
        )
        await workflow.wait_condition(lambda: self.signalled)
        return result

    @workflow.signal
    def go(self) -> None:
        self.signalled = True
