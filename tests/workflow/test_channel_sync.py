"""The channel inventory sync on a real worker and dev server, pushing to the Shopify sandbox over HTTP
(GraphQL `inventorySetQuantities`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from integrations.channels.sandbox import create_shopify_sandbox
from integrations.sandbox import SandboxServer
from models.allocation import ChannelAllocation
from models.channel_sync import ChannelSyncConfig, ChannelSyncStatus
from models.names import channel_sync_workflow_id
from models.network import NodeKind
from omniroute.client import NotFoundError, OmnirouteClient
from store import Store
from tests.fixtures.channels import Shop, a_network
from tests.fixtures.eventually import eventually
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import DATA_CONVERTER, worker_settings
from workers.main import PASSTHROUGH, WORKFLOWS, running_worker


@dataclass(frozen=True)
class Sync:
    sdk: OmnirouteClient
    store: Store
    shop: Shop
    channel: str


@pytest.fixture
def shared_shop(sandbox: RunningSandbox) -> Shop:
    return Shop(sandbox.shopify_url, sandbox.shopify_token)


@pytest.fixture
def throttled_shop() -> Iterator[Shop]:
    """A shop of its own whose GraphQL cost bucket holds one mutation (10 points) and restores 5 a second."""
    with SandboxServer(create_shopify_sandbox("shpat_throttled", graphql_maximum=10, graphql_restore_rate=5)) as server:
        yield Shop(server.url, "shpat_throttled")


@asynccontextmanager
async def channel_sync(temporal: Client, store: Store, sandbox: RunningSandbox, shop: Shop) -> AsyncIterator[Sync]:
    """A worker whose Shopify is `shop`, a fresh channel name; the channel's sync is terminated on exit."""
    settings = worker_settings(sandbox, shopify_base_url=shop.url, shopify_api_key=shop.token)
    channel = f"shop_{uuid.uuid4().hex[:12]}"
    async with running_worker(settings, client=temporal, store=store):
        try:
            yield Sync(OmnirouteClient(temporal, task_queue=settings.task_queue), store, shop, channel)
        finally:
            await temporal.get_workflow_handle(channel_sync_workflow_id(channel)).terminate("test over")


def a_config(sync: Sync, locations: dict[str, int], items: dict[str, int], **fields: Any) -> ChannelSyncConfig:
    """Signals only, by default: no start-up full sync and no ledger polling within a test's time, so
    that the counts these tests assert come from the signals they send."""
    return ChannelSyncConfig.model_validate(
        {"channel": sync.channel, "locations": locations, "items": items, "debounce_seconds": 0.2,
         "poll_seconds": 3600, "full_sync_on_start": False} | fields)


async def status_of(sync: Sync) -> ChannelSyncStatus:
    handle = sync.sdk.temporal.get_workflow_handle(channel_sync_workflow_id(sync.channel))
    result: ChannelSyncStatus = await handle.query("status", result_type=ChannelSyncStatus)
    return result


async def test_the_channel_sees_its_allocated_atp_per_mapped_location_and_follows_stock_changes(
        temporal_env: WorkflowEnvironment, sqlite_store: Store, sandbox: RunningSandbox, shared_shop: Shop) -> None:
    async with channel_sync(temporal_env.client, sqlite_store, sandbox, shared_shop) as sync:
        locations, items = a_network(sync.store)
        rule = ChannelAllocation(percent=50, hidden_node_kinds=[NodeKind.STORE])
        sync.store.set_channel_allocation(sync.channel, rule)
        dc, shop_store = locations["dc-east"], locations["store-soho"]
        a, b = items["SKU-A"], items["SKU-B"]
        await sync.sdk.start_channel_sync(a_config(sync, locations, items))
        await sync.sdk.notify_inventory_changed(sync.channel, ["SKU-A", "SKU-B", "SKU-UNLISTED"])

        expected = {(dc, a): 5, (dc, b): 2, (shop_store, a): 0, (shop_store, b): 0}
        await eventually(lambda: shared_shop.levels({dc, shop_store}) == expected)

        sync.store.set_on_hand("dc-east", "SKU-A", 4, source="test")
        await sync.sdk.notify_inventory_changed(sync.channel, ["SKU-A"])
        await eventually(lambda: shared_shop.levels({dc, shop_store})[(dc, a)] == 2)
        await eventually(lambda: _status_is(sync, pushed=5, skipped_unchanged=1))
        assert shared_shop.levels({dc, shop_store}) == expected | {(dc, a): 2}


async def _status_is(sync: Sync, **expected: Any) -> bool:
    status = await status_of(sync)
    return all(getattr(status, name) == value for name, value in expected.items())


async def test_quick_changes_are_gathered_into_one_push(
        temporal_env: WorkflowEnvironment, sqlite_store: Store, sandbox: RunningSandbox, shared_shop: Shop) -> None:
    async with channel_sync(temporal_env.client, sqlite_store, sandbox, shared_shop) as sync:
        locations, items = a_network(sync.store)
        await sync.sdk.start_channel_sync(a_config(sync, {"dc-east": locations["dc-east"]}, items,
                                                   debounce_seconds=1.5))
        calls_before = shared_shop.stats()["graphql_calls"]
        for sku in ("SKU-A", "SKU-B", "SKU-A", "SKU-B", "SKU-A"):
            await sync.sdk.notify_inventory_changed(sync.channel, [sku])

        await eventually(lambda: _status_is(sync, pushed=2, loops_this_run=1, pending=0))
        assert shared_shop.stats()["graphql_calls"] - calls_before == 1  # both levels in one mutation
        assert shared_shop.levels({locations["dc-east"]}) == {
            (locations["dc-east"], items["SKU-A"]): 10, (locations["dc-east"], items["SKU-B"]): 5}


async def test_a_throttled_channel_still_ends_with_every_level_right(
        temporal_env: WorkflowEnvironment, sqlite_store: Store, sandbox: RunningSandbox,
        throttled_shop: Shop) -> None:
    async with channel_sync(temporal_env.client, sqlite_store, sandbox, throttled_shop) as sync:
        locations, items = a_network(sync.store)
        sync.store.set_on_hand("store-soho", "SKU-B", 3, source="test")
        await sync.sdk.start_channel_sync(a_config(sync, locations, items, batch_size=3))
        await sync.sdk.notify_inventory_changed(sync.channel, ["SKU-A", "SKU-B"])

        dc, soho = locations["dc-east"], locations["store-soho"]
        a, b = items["SKU-A"], items["SKU-B"]
        expected = {(dc, a): 10, (dc, b): 5, (soho, a): 6, (soho, b): 3}
        await eventually(lambda: throttled_shop.levels({dc, soho}) == expected)
        await eventually(lambda: _status_is(sync, pushed=4, failed=0))
        assert throttled_shop.stats()["graphql_calls"] >= 2  # two batches, the second waited for points


async def test_the_sync_continues_as_new_and_remembers_what_it_pushed(
        temporal_env: WorkflowEnvironment, sqlite_store: Store, sandbox: RunningSandbox, shared_shop: Shop) -> None:
    async with channel_sync(temporal_env.client, sqlite_store, sandbox, shared_shop) as sync:
        locations, items = a_network(sync.store)
        dc = {"dc-east": locations["dc-east"]}
        await sync.sdk.start_channel_sync(a_config(sync, dc, items, max_loops=2))
        handle = sync.sdk.temporal.get_workflow_handle(channel_sync_workflow_id(sync.channel))
        first_run = (await handle.describe()).run_id

        await sync.sdk.notify_inventory_changed(sync.channel, ["SKU-A"])
        await eventually(lambda: _status_is(sync, pushed=1))
        sync.store.set_on_hand("dc-east", "SKU-B", 7, source="test")
        await sync.sdk.notify_inventory_changed(sync.channel, ["SKU-B"])
        await eventually(lambda: _status_is(sync, run_number=2, pushed=2, remembered_levels=2, loops_this_run=0))
        assert (await handle.describe()).run_id != first_run

        calls_before = shared_shop.stats()["graphql_calls"]
        await sync.sdk.notify_inventory_changed(sync.channel, ["SKU-A", "SKU-B"])
        await eventually(lambda: _status_is(sync, loops_this_run=1, skipped_unchanged=2, pushed=2))
        assert shared_shop.stats()["graphql_calls"] == calls_before  # nothing changed: nothing sent

        await _assert_replays(sync.sdk.temporal.get_workflow_handle(handle.id, run_id=first_run))


async def test_notifying_a_channel_without_a_sync_is_not_found(temporal_env: WorkflowEnvironment) -> None:
    sdk = OmnirouteClient(temporal_env.client, task_queue=f"unused-{uuid.uuid4().hex[:8]}")
    with pytest.raises(NotFoundError):
        await sdk.notify_inventory_changed(f"nosync_{uuid.uuid4().hex[:8]}", ["SKU-A"])


async def _assert_replays(handle: WorkflowHandle[Any, Any]) -> None:
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=DATA_CONVERTER,
                        workflow_runner=SandboxedWorkflowRunner(
                            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)))
    result = await replayer.replay_workflow(await handle.fetch_history(), raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_channel_that_refuses_the_push_is_counted_and_the_sync_keeps_running(
        temporal_env: WorkflowEnvironment, sqlite_store: Store, sandbox: RunningSandbox) -> None:
    wrong_token = Shop(sandbox.shopify_url, "shpat_revoked")
    async with channel_sync(temporal_env.client, sqlite_store, sandbox, wrong_token) as sync:
        locations, items = a_network(sync.store)
        await sync.sdk.start_channel_sync(a_config(sync, locations, items))
        await sync.sdk.notify_inventory_changed(sync.channel, ["SKU-A"])
        await eventually(lambda: _status_is(sync, failed=2, pushed=0, pending=0, loops_this_run=1))
        await sync.sdk.notify_inventory_changed(sync.channel, ["SKU-B"])
        await eventually(lambda: _status_is(sync, failed=4, loops_this_run=2))
        assert wrong_token.levels(set(locations.values())) == {}


async def test_a_new_sync_sets_every_listed_sku_and_follows_the_ledger_without_signals(
        temporal_env: WorkflowEnvironment, sqlite_store: Store, sandbox: RunningSandbox, shared_shop: Shop) -> None:
    async with channel_sync(temporal_env.client, sqlite_store, sandbox, shared_shop) as sync:
        locations, items = a_network(sync.store)
        dc = locations["dc-east"]
        a, b = items["SKU-A"], items["SKU-B"]
        await sync.sdk.start_channel_sync(a_config(sync, {"dc-east": dc}, items, poll_seconds=0.2,
                                                   full_sync_on_start=True))
        await eventually(lambda: shared_shop.levels({dc}) == {(dc, a): 10, (dc, b): 5})

        sync.store.set_on_hand("dc-east", "SKU-B", 1, source="wms")  # nobody signals this

        await eventually(lambda: shared_shop.levels({dc}) == {(dc, a): 10, (dc, b): 1})
