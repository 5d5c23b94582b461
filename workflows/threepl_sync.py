"""ThreePLInventorySyncWorkflow: pull one 3PL node's inventory from the 3PL and count it in the ledger.

The pull itself (pages, stale counts, resuming from a heartbeat) is the activity's
(activities/threepl.py); this workflow runs it once with the THREEPL_PULL policy and returns what
it did, so every sync and its counts are visible in the Temporal UI.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.threepl import ThreePLInventoryActivities
    from models import names
    from models.threepl import SHIPBOB_SOURCE, PullResult, PullThreePLInventory
    from workflows.policies import THREEPL_PULL

@workflow.defn(name=names.THREEPL_SYNC_WORKFLOW)
class ThreePLInventorySyncWorkflow:
    """Input: the 3PL's node id. Returns the PullResult (levels, pages, applied, rejected_stale, skipped).

    Fails when the activity's budget is spent or the 3PL or store refuses the pull (non-retryable).
    """

    @workflow.run
    async def run(self, node_id: str) -> PullResult:
        return await workflow.execute_activity_method(
            ThreePLInventoryActivities.pull_inventory,
            PullThreePLInventory(node_id=node_id, source=SHIPBOB_SOURCE),
            **THREEPL_PULL,
        )
