"""BackorderSweepWorkflow: tell the orders whose backordered SKUs are back in stock to re-plan now.

Started by the `backorder-sweep` Temporal Schedule (workers/schedules.py). The finding step is the
activity's (activities/backorders.py); each due order gets the `retry_backorders` signal and plans
its waiting units itself, as it would at its hourly retry.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.backorders import BackorderActivities
    from models import names
    from models.schedules import BackorderSweep
    from workflows.policies import LOCAL_DB

# A sweep that cannot read the DB gives up after five minutes; the next one tries again.
SWEEP_POLICY = {**LOCAL_DB, "schedule_to_close_timeout": timedelta(minutes=5)}


@workflow.defn(name=names.BACKORDER_SWEEP_WORKFLOW)
class BackorderSweepWorkflow:
    @workflow.run
    async def run(self) -> BackorderSweep:
        found: BackorderSweep = await workflow.execute_local_activity_method(
            BackorderActivities.orders_with_stock_back, **SWEEP_POLICY)
        signalled = 0
        for workflow_id in found.due:
            try:
                await workflow.get_external_workflow_handle(workflow_id).signal(names.RETRY_BACKORDERS_SIGNAL)
                signalled += 1
            except FailureError as err:  # the order finished since
                workflow.logger.info("backorder retry for %s not delivered: %s", workflow_id, err)
        return found.model_copy(update={"signalled": signalled})
