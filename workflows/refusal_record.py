"""Care Act 2014 s13, s24-26 (the decision trail): a step refused on a case that has closed.

A closed case's workflow has ended and can run no activity of its own, so the refusal is written
by this small workflow instead. It lives apart from workflows/case.py so that making a case's
sandbox does not also build this workflow's definition.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.models import CaseRecord

from workflows.case import RECORD_TIMEOUT, RETRY


@workflow.defn(name="RecordRefusal")
class RecordRefusalWorkflow:
    """A step refused on a closed case, which can no longer run activities of its own."""

    @workflow.run
    async def run(self, record: CaseRecord) -> None:
        await workflow.execute_activity(
            "record_refusal", record, start_to_close_timeout=RECORD_TIMEOUT, retry_policy=RETRY
        )
