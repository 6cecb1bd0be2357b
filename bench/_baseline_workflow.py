"""The engine's own cost for bench/workflow_throughput.py: one activity, then one signal."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
def baseline_touch(n: int) -> int:
    return n + 1


@workflow.defn(name="BenchBaseline")
class BaselineWorkflow:
    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self) -> int:
        result = await workflow.execute_activity(
            baseline_touch, 1, start_to_close_timeout=timedelta(seconds=10)
        )
        await workflow.wait_condition(lambda: self.go)
        return result

    @workflow.signal
    def proceed(self) -> None:
        self.go = True
