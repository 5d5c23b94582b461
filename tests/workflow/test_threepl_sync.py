"""ThreePLInventorySyncWorkflow on a real worker: the ShipBob sandbox's levels become counts at the 3PL node."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from models.allocation import FeedKind, InventoryFeedItem
from models.inventory import MovementKind
from models.names import THREEPL_SYNC_WORKFLOW, threepl_sync_workflow_id
from models.network import NodeKind
from models.threepl import PullResult
from omniroute.config.settings import Settings
from store import Store
from tests.fixtures.eventually import eventually
from tests.fixtures.network import add_node
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import DATA_CONVERTER, worker_settings
from workers.main import PASSTHROUGH, WORKFLOWS, running_worker
from workers.schedules import ensure_threepl_sync_schedule

NODE = "3pl-shipbob"


@dataclass
class ThreePLWorld:
    client: Client
    settings: Settings
    task_queue: str
    store: Store
    sandbox: RunningSandbox

    async def sync(self, node_id: str = NODE) -> tuple[PullResult, Any]:
        handle = await self.client.start_workflow(
            THREEPL_SYNC_WORKFLOW, node_id, id=f"{threepl_sync_workflow_id(node_id)}-{uuid.uuid4().hex[:8]}",
            task_queue=self.task_queue, result_type=PullResult)
        return await handle.result(), handle


@pytest.fixture
async def world(temporal_env: WorkflowEnvironment, sqlite_store: Store,
                sandbox: RunningSandbox) -> AsyncIterator[ThreePLWorld]:
    sandbox.shipbob_reset()
    add_node(sqlite_store, NODE, "60106", kind=NodeKind.THREE_PL)
    settings = worker_settings(sandbox, shipbob_base_url=sandbox.shipbob_url)
    try:
        async with running_worker(settings, client=temporal_env.client, store=sqlite_store):
            yield ThreePLWorld(temporal_env.client, settings, settings.task_queue, sqlite_store, sandbox)
    finally:
        sandbox.shipbob_reset()


def levels(count: int) -> list[dict[str, Any]]:
    return [{"inventory_id": 9000 + n, "name": f"Item {n}", "sku": f"TPL-{n:04d}",
             "total_on_hand_quantity": n % 17, "total_fulfillable_quantity": n % 17,
             "total_committed_quantity": 0, "total_sellable_quantity": n % 17, "total_awaiting_quantity": 3}
            for n in range(count)]


async def test_a_sync_counts_every_level_of_the_3pl_at_its_node_across_pages(world: ThreePLWorld) -> None:
    seeded = levels(205)  # three pages of 100
    world.sandbox.shipbob_seed(seeded)

    result, handle = await world.sync()

    assert (result.items, result.pages, result.applied, result.rejected_stale, result.skipped) == (205, 3, 205, 0, 0)
    positions = {p.sku: p.on_hand for p in world.store.positions([item["sku"] for item in seeded])
                 if p.node_id == NODE}
    assert positions == {item["sku"]: item["total_on_hand_quantity"] for item in seeded}
    ledger = world.store.ledger(node_id=NODE)
    assert len(ledger) == 205
    assert {(m.kind, m.source) for m in ledger} == {(MovementKind.COUNT, "shipbob")}

    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=DATA_CONVERTER,
                        workflow_runner=SandboxedWorkflowRunner(
                            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)))
    replay = await replayer.replay_workflow(await handle.fetch_history(), raise_on_replay_failure=False)
    assert replay.replay_failure is None, replay.replay_failure


async def test_a_count_older_than_a_later_movement_is_rejected_and_counted_not_applied(
        world: ThreePLWorld) -> None:
    world.store.apply_inventory_feed([
        InventoryFeedItem(node_id=NODE, sku="TPL-0005", on_hand=4, source="wms", as_of=datetime.now(UTC)),
        # A receipt the 3PL's numbers cannot have seen yet: it happened after the pull starts.
        InventoryFeedItem(node_id=NODE, sku="TPL-0005", delta=6, kind=FeedKind.RECEIPT, source="wms",
                          as_of=datetime.now(UTC) + timedelta(hours=1)),
    ])
    world.sandbox.shipbob_seed(levels(8))

    result, _ = await world.sync()

    assert (result.items, result.applied, result.rejected_stale) == (8, 7, 1)
    on_hand = {p.sku: p.on_hand for p in world.store.positions([f"TPL-{n:04d}" for n in range(8)])
               if p.node_id == NODE}
    assert on_hand["TPL-0005"] == 10  # the receipt stands; the 3PL's 5 was not applied
    assert on_hand["TPL-0006"] == 6
    shipbob_rows = [m for m in world.store.ledger(node_id=NODE) if m.source == "shipbob"]
    assert sorted(m.sku for m in shipbob_rows) == [f"TPL-{n:04d}" for n in range(8) if n != 5]


async def test_a_sync_under_the_3pl_rate_limit_waits_out_its_429s(world: ThreePLWorld) -> None:
    world.sandbox.shipbob_seed(levels(205))
    world.sandbox.shipbob_rate_limit(1, 1.0)

    result, _ = await world.sync()

    assert (result.pages, result.applied) == (3, 205)
    stats = world.sandbox.shipbob_stats()
    assert stats["throttled"] >= 1
    assert stats["requests_served"] == 3


async def test_levels_without_a_usable_sku_are_skipped_and_counted(world: ThreePLWorld) -> None:
    world.sandbox.shipbob_seed([*levels(2), {"inventory_id": 1, "sku": None, "total_on_hand_quantity": 3},
                                {"inventory_id": 2, "sku": "has space", "total_on_hand_quantity": 1}])

    result, _ = await world.sync()

    assert (result.items, result.applied, result.skipped) == (4, 2, 2)


async def test_a_pull_stopped_by_a_long_429_resumes_at_the_next_page_not_the_first(world: ThreePLWorld) -> None:
    world.sandbox.shipbob_seed(levels(205))
    # One call per 6 s: each page after the first gets a 429 asking for more than the client sleeps
    # in-process (5 s), so the activity fails and Temporal retries it after the 3PL's x-retry-after.
    world.sandbox.shipbob_rate_limit(1, 6.0)

    result, handle = await world.sync()

    assert (result.pages, result.applied) == (3, 205)
    stats = world.sandbox.shipbob_stats()
    assert stats["requests_served"] == 3  # no page was fetched twice: each retry began at its heartbeat
    assert len(world.store.ledger(node_id=NODE)) == 205
    history = await handle.fetch_history()
    attempts = [e.activity_task_started_event_attributes.attempt for e in history.events
                if e.HasField("activity_task_started_event_attributes")]
    assert attempts and attempts[-1] >= 2  # it did fail and retry


async def test_a_sync_for_a_node_not_in_the_network_fails_at_once_as_invalid_data(world: ThreePLWorld) -> None:
    world.sandbox.shipbob_seed(levels(3))

    with pytest.raises(WorkflowFailureError) as caught:
        await world.sync("no-such-node")

    activity_error = caught.value.cause
    assert isinstance(activity_error, ActivityError)
    assert isinstance(activity_error.cause, ApplicationError)
    assert activity_error.cause.type == "InvalidData"
    assert world.sandbox.shipbob_stats()["requests_served"] == 0


async def test_a_configured_3pl_node_gets_a_schedule_whose_runs_pull_its_inventory(world: ThreePLWorld) -> None:
    assert await ensure_threepl_sync_schedule(world.client, world.settings) is None  # no node configured
    world.sandbox.shipbob_seed(levels(3))
    settings = world.settings.model_copy(update={"shipbob_node_id": NODE})
    schedule_id = await ensure_threepl_sync_schedule(world.client, settings)
    assert schedule_id == threepl_sync_workflow_id(NODE)
    handle = world.client.get_schedule_handle(schedule_id)
    try:
        assert await ensure_threepl_sync_schedule(world.client, settings) == schedule_id  # idempotent
        await handle.trigger()
        await eventually(lambda: len(world.store.ledger(node_id=NODE)) >= 3,
                         "the scheduled pull to write the 3PL node's stock to the ledger")
        assert {m.source for m in world.store.ledger(node_id=NODE)} == {"shipbob"}
    finally:
        await handle.delete()
