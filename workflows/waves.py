"""ReleaseWaveWorkflow: one release wave over the orders waiting to be released.

Started by the `release-waves` Temporal Schedule (workers/schedules.py). The planning step
(activities/waves.py) returns a new plan for each waiting order the wave changes; this workflow
sends each its plan as a signal. The order takes it only if its shipments are still waiting, and
swaps its reservations itself; an order that released or finished in the meantime keeps its plan.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.waves import WaveActivities
    from models import names
    from models.schedules import WaveReport

@workflow.defn(name=names.RELEASE_WAVE_WORKFLOW)
class ReleaseWaveWorkflow:
    @workflow.run
    async def run(self) -> WaveReport:
        report: WaveReport = await workflow.execute_activity_method(
            WaveActivities.plan_wave,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=1),
                                     maximum_attempts=3, non_retryable_error_types=["InvalidData"]),
            summary="plan the release wave",
        )
        delivered = 0
        for dispatch in report.dispatches:
            try:
                await workflow.get_external_workflow_handle(dispatch.workflow_id).signal(
                    names.WAVE_PLAN_SIGNAL, dispatch.plan)
                delivered += 1
            except FailureError as err:  # the order finished since: nothing to re-plan
                workflow.logger.info("wave plan for %s not delivered: %s", dispatch.workflow_id, err)
        return report.model_copy(update={"delivered": delivered})
