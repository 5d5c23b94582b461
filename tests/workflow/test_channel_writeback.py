"""ChannelWritebackWorkflow on a real worker and dev server, against a Shopify sandbox of its own: what the
read model says shipped is fulfilled in Shopify once, the counts are carried across continue-as-new, and
the history replays against today's code."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from integrations.channels.sandbox import create_shopify_sandbox
from integrations.sandbox import SandboxServer
from models.channel_writeback import (
    ChannelWritebackConfig,
    ChannelWritebackStatus,
    WritebackOutcome,
    channel_writeback_workflow_id,
)
from models.order import OrderStatus
from models.records import OrderRecord, ShipmentRecord
from models.shipment import ShipmentLine, ShipmentState
from store import Store
from tests.fixtures.eventually import eventually
from tests.fixtures.orders import an_order
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import DATA_CONVERTER, worker_settings
from workers.channel_writebacks import start_channel_writeback
from workers.main import PASSTHROUGH, WORKFLOWS, running_worker

TOKEN = "shpat_writeback_workflow"


@pytest.fixture
def shop() -> Iterator[str]:
    with SandboxServer(create_shopify_sandbox(TOKEN)) as server:
        yield server.url


def shipped_shopify_order(store: Store, shop: str, channel: str) -> tuple[int, str]:
    """An order checked out in the shop, recorded here with one shipment that has shipped."""
    response = httpx.post(f"{shop}/_sandbox/orders", json={"line_items": [{"sku": "MUG-1", "quantity": 2}]},
                          timeout=5)
    shopify_id = int(response.json()["id"])
    placed = an_order(("MUG-1", 2), channel=channel)
    order_id = f"{channel}-{shopify_id}"
    store.record_order(OrderRecord(order_id=order_id, workflow_id=f"order-{order_id}", channel=channel,
                                   channel_order_id=str(shopify_id), status=OrderStatus.SHIPPED, currency="USD",
                                   customer=placed.customer, ship_to=placed.ship_to, lines=placed.lines,
                                   created_at=datetime.now(UTC)))
    store.record_shipment(ShipmentRecord(shipment_id=f"{order_id}-S1", order_id=order_id, node_id="dc-il",
                                         lines=[ShipmentLine(line_no=1, sku="MUG-1", quantity=2)],
                                         state=ShipmentState.SHIPPED, carrier="FedEx", tracking_number="7712345",
                                         shipped_at=datetime.now(UTC)))
    return shopify_id, order_id


async def test_a_shipped_shipment_is_fulfilled_once_and_the_counts_survive_continue_as_new(
        temporal_env: WorkflowEnvironment, sqlite_store: Store, sandbox: RunningSandbox, shop: str) -> None:
    channel = f"shop_{uuid.uuid4().hex[:10]}"
    settings = worker_settings(sandbox, shopify_base_url=shop, shopify_api_key=TOKEN)
    shopify_id, order_id = shipped_shopify_order(sqlite_store, shop, channel)
    config = ChannelWritebackConfig(channel=channel, poll_seconds=0.2, max_loops=3)
    async with running_worker(settings, client=temporal_env.client, store=sqlite_store):
        workflow_id = await start_channel_writeback(temporal_env.client, config, settings.task_queue)
        handle = temporal_env.client.get_workflow_handle(workflow_id)
        first_run = (await handle.describe()).run_id
        try:
            async def carried() -> list[ChannelWritebackStatus]:
                status: ChannelWritebackStatus = await handle.query("status", result_type=ChannelWritebackStatus)
                return [status] if status.run_number >= 3 else []

            [status] = await eventually(carried, "two continues-as-new")
        finally:
            await handle.terminate("test over")

    assert workflow_id == channel_writeback_workflow_id(channel)
    assert (status.written, status.found, status.refused) == (1, 0, 0)
    async with httpx.AsyncClient(timeout=5) as client:
        order = (await client.get(f"{shop}/_sandbox/orders/{shopify_id}")).json()
    assert [(f["tracking_company"], f["tracking_number"]) for f in order["fulfillments"]] == [("FedEx", "7712345")]
    assert [r.outcome for r in sqlite_store.writebacks(order_id=order_id)] == [WritebackOutcome.WRITTEN]

    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=DATA_CONVERTER, debug_mode=True,
                        workflow_runner=SandboxedWorkflowRunner(
                            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)))
    history = await temporal_env.client.get_workflow_handle(workflow_id, run_id=first_run).fetch_history()
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
