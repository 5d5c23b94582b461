"""ReservationSweepWorkflow: release expired reservations, batch after batch, until none are left.

Started every few minutes by the `reservation-sweep` Temporal Schedule (workers/schedules.py), so
each run and its count are visible in the Temporal UI. What is released and what is held is the
activity's rule (activities/sweep.py, docs/inventory.md); this workflow only loops.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.sweep import ReservationSweepActivities
    from models import names
    from models.schedules import SweepBatch, SweepBatchResult, SweepReport
    from workflows.policies import LOCAL_DB

BATCH_SIZE = 500
# One run stops after this many batches (250,000 reservations); the next scheduled run goes on.
# It keeps a run's history short even after an outage left a large backlog.
MAX_BATCHES_PER_RUN = 500


@workflow.defn(name=names.RESERVATION_SWEEP_WORKFLOW)
class ReservationSweepWorkflow:
    """Releases every reservation that expired before the run started and that no live order holds.

    Returns a SweepReport (released, held, batches). Database outages are retried by the local
    activity's policy (LOCAL_DB); the run fails only when that budget is spent.
    """

    @workflow.run
    async def run(self) -> SweepReport:
        # Everything is judged against the run's start time: reservations expiring during the run
        # are the next run's work, so the loop cannot chase a moving target.
        now = workflow.now()
        released = held = batches = 0
        while batches < MAX_BATCHES_PER_RUN:
            result: SweepBatchResult = await workflow.execute_local_activity_method(
                ReservationSweepActivities.release_expired_batch,
                SweepBatch(now=now, limit=BATCH_SIZE, skip_held=held),
                **LOCAL_DB,
            )
            batches += 1
            released += result.released
            held = result.held
            if result.exhausted:
                break
        return SweepReport(released=released, held=held, batches=batches)
