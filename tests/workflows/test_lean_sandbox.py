"""The worker's sandbox (worker.LeanSandboxRunner): workflow code stays sandboxed, and the SDK's
own plumbing around it (the source it compiles on entering, the serialization context it looks
up for every payload) costs less. If an SDK upgrade changes how its sandbox is built, the first
test fails, so the change is seen rather than silently costing CPU again."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from temporalio import activity, workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from worker import lean, workflow_runner


@activity.defn
def echo(text: str) -> str:
    return text


@workflow.defn(name="SandboxProbe")
class SandboxProbe:
    @workflow.run
    async def run(self, text: str) -> list[str]:
        try:
            datetime.now()  # non-deterministic: the sandbox must refuse it
            refused = "not refused"
        except Exception as exc:  # noqa: BLE001 - what the sandbox raised is the answer
            refused = type(exc).__name__
        echoed = await workflow.execute_local_activity(
            echo, text, start_to_close_timeout=timedelta(seconds=10))
        return [refused, echoed]


async def test_a_sandboxed_instance_is_made_lean_on_this_sdk_and_looks_up_the_same_contexts() -> None:
    from temporalio.api.common.v1 import Payloads
    from temporalio.api.failure.v1 import Failure
    from temporalio.converter import DataConverter
    from temporalio.worker import WorkflowInstanceDetails
    from temporalio.worker.workflow_sandbox._runner import _fake_info

    runner = workflow_runner()
    details = WorkflowInstanceDetails(
        payload_converter_factory=DataConverter.default._new_payload_converter,
        failure_converter_class=DataConverter.default.failure_converter_class,
        interceptor_classes=[], defn=workflow._Definition.must_from_class(SandboxProbe),
        info=_fake_info, randomness_seed=1, extern_functions={},
        disable_eager_activity_execution=False, worker_level_failure_exception_types=[],
        patch_activation_callback=None, last_completion_result=Payloads(), last_failure=Failure(),
    )
    instance = runner.create_instance(details)
    assert "get_serialization_context" in vars(instance)  # lean: asked directly
    stock = type(instance)
    assert instance.get_serialization_context(None) == stock.get_serialization_context(instance, None)
    assert instance.get_serialization_context(None) is not None
    assert (instance.get_external_store_context(None)
            == stock.get_external_store_context(instance, None))
    assert lean(object.__new__(stock)) is False  # an instance not built as expected is left alone


async def test_workflow_code_in_the_lean_sandbox_is_still_refused_a_non_deterministic_call(
    env: WorkflowEnvironment,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    queue = f"probe-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[SandboxProbe], activities=[echo],
                      activity_executor=ThreadPoolExecutor(max_workers=2),
                      workflow_runner=workflow_runner()):
        result = await env.client.execute_workflow(
            SandboxProbe.run, "a payload converted and encrypted both ways",
            id=f"probe-{uuid.uuid4().hex}", task_queue=queue)
    assert result == ["RestrictedWorkflowAccessError", "a payload converted and encrypted both ways"]
