"""ShadowPriceWorkflow: one refresh of the live look-ahead's stock prices.

Started by the `shadow-prices` Temporal Schedule (workers/schedules.py), so each refresh, how many
orders it learnt from and how long the LP took are visible in the Temporal UI. The work is the
activity's (activities/lookahead.py); this workflow only runs it with a retry policy.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.lookahead import LookAheadActivities
    from models import names
    from models.schedules import PriceRefresh

@workflow.defn(name=names.SHADOW_PRICE_WORKFLOW)
class ShadowPriceWorkflow:
    @workflow.run
    async def run(self) -> PriceRefresh:
        return await workflow.execute_activity_method(
            LookAheadActivities.refresh_shadow_prices,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=1),
                                     maximum_attempts=5, non_retryable_error_types=["InvalidData"]),
            summary="refresh look-ahead prices",
        )
