"""The baseline: a workflow of three local activities that do nothing, on its own task queue.

Run against the same server as the orders, its throughput is what Temporal itself allows here, so
orders per second divided by it shows what Omniroute's work costs. This module imports nothing but
temporalio, so the workflow sandbox re-imports it cheaply.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker

STEP_TIMEOUT = timedelta(seconds=10)


@activity.defn(name="bench_trivial_step")
async def trivial_step(value: int) -> int:
    return value + 1


@workflow.defn(name="BenchTrivialWorkflow")
class TrivialWorkflow:
    """Adds three through three local activities: start, three round trips in the worker, complete."""

    @workflow.run
    async def run(self, value: int) -> int:
        for _ in range(3):
            value = await workflow.execute_local_activity(trivial_step, value, start_to_close_timeout=STEP_TIMEOUT)
        return value


def trivial_worker(client: Client, task_queue: str, *, max_cached_workflows: int,
                   max_concurrent_workflow_tasks: int, max_concurrent_local_activities: int) -> Worker:
    """A worker for the baseline, sized like Omniroute's own (same cache, slots and pollers)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[TrivialWorkflow],
        activities=[trivial_step],
        max_cached_workflows=max_cached_workflows,
        max_concurrent_workflow_tasks=max_concurrent_workflow_tasks,
        max_concurrent_local_activities=max_concurrent_local_activities,
        workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(maximum=4),
        activity_task_poller_behavior=PollerBehaviorSimpleMaximum(maximum=4),
    )
