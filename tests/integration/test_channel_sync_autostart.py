"""Configured channel syncs start with the worker: once per channel, however often they are ensured,
on a real worker and dev server, pushing to the Shopify sandbox over HTTP."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from models.channel_sync import ChannelSyncConfig
from models.names import channel_sync_workflow_id
from omniroute.config.settings import Settings
from omniroute.devstack.ports import free_port
from store import Store
from tests.fixtures.channels import Shop, a_network
from tests.fixtures.eventually import eventually
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import worker_settings
from workers.channel_syncs import ChannelSyncStartError, ensure_channel_syncs
from workers.main import running_worker


@dataclass(frozen=True)
class Configured:
    temporal: Client
    settings: Settings
    workflow_ids: list[str]


def a_config(channel: str, locations: dict[str, int], items: dict[str, int]) -> ChannelSyncConfig:
    return ChannelSyncConfig(channel=channel, locations=locations, items=items, debounce_seconds=0, poll_seconds=0.5)


@pytest.fixture
async def configured(temporal_env: WorkflowEnvironment, worker_store: Store,
                     sandbox: RunningSandbox) -> AsyncIterator[Configured]:
    """A worker whose settings list two fresh channels over a small network; their syncs end with the test."""
    locations, items = a_network(worker_store)
    channels = [f"shop_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    settings = worker_settings(sandbox, shopify_base_url=sandbox.shopify_url, shopify_api_key=sandbox.shopify_token,
                               channel_syncs=[a_config(channel, locations, items) for channel in channels])
    workflow_ids = [channel_sync_workflow_id(channel) for channel in channels]
    async with running_worker(settings, client=temporal_env.client, store=worker_store):
        try:
            yield Configured(temporal_env.client, settings, workflow_ids)
        finally:
            for workflow_id in workflow_ids:
                handle = temporal_env.client.get_workflow_handle(workflow_id)
                with contextlib.suppress(RPCError):  # never started when the test failed early
                    if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                        await handle.terminate("test over")


async def run_ids(temporal: Client, workflow_id: str) -> list[str]:
    """Every run that visibility knows under `workflow_id`."""
    return [execution.run_id async for execution in temporal.list_workflows(f"WorkflowId = '{workflow_id}'")]


async def visible_run_ids(temporal: Client, workflow_id: str) -> list[str]:
    """The runs under `workflow_id` once visibility shows any (it may lag a start by a moment)."""
    await eventually(lambda: _any_run(temporal, workflow_id))
    return await run_ids(temporal, workflow_id)


async def _any_run(temporal: Client, workflow_id: str) -> bool:
    return bool(await run_ids(temporal, workflow_id))


async def test_ensuring_the_configured_syncs_twice_leaves_one_run_per_channel(configured: Configured) -> None:
    first = await ensure_channel_syncs(configured.temporal, configured.settings)
    runs_after_first = [(await configured.temporal.get_workflow_handle(w).describe()).run_id for w in first]
    second = await ensure_channel_syncs(configured.temporal, configured.settings)

    assert first == second == configured.workflow_ids
    for workflow_id, run_id in zip(configured.workflow_ids, runs_after_first, strict=True):
        description = await configured.temporal.get_workflow_handle(workflow_id).describe()
        assert (description.run_id, description.status) == (run_id, WorkflowExecutionStatus.RUNNING)
        assert await visible_run_ids(configured.temporal, workflow_id) == [run_id]


async def test_a_configured_sync_pushes_the_networks_levels_to_its_channel(
    configured: Configured, sandbox: RunningSandbox
) -> None:
    await ensure_channel_syncs(configured.temporal, configured.settings)
    config = configured.settings.channel_syncs[0]
    shop = Shop(sandbox.shopify_url, sandbox.shopify_token)
    dc, store = config.locations["dc-east"], config.locations["store-soho"]
    sku_a, sku_b = config.items["SKU-A"], config.items["SKU-B"]

    expected = {(dc, sku_a): 10, (store, sku_a): 6, (dc, sku_b): 5, (store, sku_b): 0}
    await eventually(lambda: shop.levels({dc, store}) == expected)


async def test_a_sync_that_ended_is_started_again(configured: Configured) -> None:
    await ensure_channel_syncs(configured.temporal, configured.settings)
    handle = configured.temporal.get_workflow_handle(configured.workflow_ids[0])
    ended = (await handle.describe()).run_id
    await handle.terminate("an operator stopped it")

    await ensure_channel_syncs(configured.temporal, configured.settings)

    description = await configured.temporal.get_workflow_handle(configured.workflow_ids[0]).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert description.run_id != ended


async def test_no_configured_channel_starts_nothing(temporal_env: WorkflowEnvironment, sandbox: RunningSandbox) -> None:
    assert await ensure_channel_syncs(temporal_env.client, worker_settings(sandbox)) == []


async def test_a_sync_that_cannot_start_names_its_entry_in_the_setting(sandbox: RunningSandbox) -> None:
    settings = worker_settings(sandbox, channel_syncs=[a_config("shop_unreached", {"dc-east": 1}, {"SKU-A": 2})])
    nowhere = await Client.connect(f"127.0.0.1:{free_port()}", data_converter=pydantic_data_converter, lazy=True)

    with pytest.raises(ChannelSyncStartError, match=r"OMNIROUTE_CHANNEL_SYNCS\[0\] \(channel 'shop_unreached'\)"):
        await ensure_channel_syncs(nowhere, settings)
