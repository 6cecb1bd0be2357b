"""The engine's own cost for bench/workflow_lifecycle.py: a workflow whose updates each run one
local activity (as a case step runs its decisions and record) and return a small result."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
def touch(n: int) -> int:
    return n + 1


@workflow.defn
class TrivialWorkflow:
    def __init__(self) -> None:
        self.done = False
        self.steps = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done and workflow.all_handlers_finished())
        return self.steps

    @workflow.update
    async def step(self, n: int) -> int:
        self.steps = await workflow.execute_local_activity(
            touch, n, start_to_close_timeout=timedelta(seconds=10)
        )
        return self.steps

    @workflow.signal
    def finish(self) -> None:
        self.done = True
