"""Configured Shopify write-backs start with the worker: once per channel however often they are ensured,
started again once ended, and an entry that cannot start is named; on a real worker and dev server."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from models.channel_writeback import ChannelWritebackConfig, ChannelWritebackStatus, channel_writeback_workflow_id
from omniroute.config.settings import Settings
from omniroute.devstack.ports import free_port
from store import Store
from tests.fixtures.eventually import eventually
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import worker_settings
from workers.channel_writebacks import ChannelWritebackStartError, ensure_channel_writebacks
from workers.main import running_worker


@dataclass(frozen=True)
class Configured:
    temporal: Client
    settings: Settings
    workflow_ids: list[str]


@pytest.fixture
async def configured(temporal_env: WorkflowEnvironment, worker_store: Store,
                     sandbox: RunningSandbox) -> AsyncIterator[Configured]:
    """A worker whose settings write two fresh channels back; their write-backs end with the test."""
    channels = [f"shop_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    writebacks = [ChannelWritebackConfig(channel=channel, poll_seconds=0.2) for channel in channels]
    settings = worker_settings(sandbox, shopify_base_url=sandbox.shopify_url, shopify_api_key=sandbox.shopify_token,
                               shopify_writebacks=writebacks)
    workflow_ids = [channel_writeback_workflow_id(channel) for channel in channels]
    async with running_worker(settings, client=temporal_env.client, store=worker_store):
        try:
            yield Configured(temporal_env.client, settings, workflow_ids)
        finally:
            for workflow_id in workflow_ids:
                handle = temporal_env.client.get_workflow_handle(workflow_id)
                with contextlib.suppress(RPCError):
                    if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                        await handle.terminate("test over")


async def test_ensuring_the_configured_writebacks_twice_leaves_one_polling_run_per_channel(
        configured: Configured) -> None:
    first = await ensure_channel_writebacks(configured.temporal, configured.settings)
    runs = [(await configured.temporal.get_workflow_handle(w).describe()).run_id for w in first]
    second = await ensure_channel_writebacks(configured.temporal, configured.settings)

    assert first == second == configured.workflow_ids
    for workflow_id, run_id in zip(configured.workflow_ids, runs, strict=True):
        handle = configured.temporal.get_workflow_handle(workflow_id)
        description = await handle.describe()
        assert (description.run_id, description.status) == (run_id, WorkflowExecutionStatus.RUNNING)

        await eventually(functools.partial(_polled_twice, handle), f"{workflow_id} to poll the read model")


async def _polled_twice(handle: WorkflowHandle[Any, Any]) -> bool:
    status: ChannelWritebackStatus = await handle.query("status", result_type=ChannelWritebackStatus)
    return status.polls_this_run >= 2 and status.written == 0


async def test_a_writeback_that_ended_is_started_again(configured: Configured) -> None:
    await ensure_channel_writebacks(configured.temporal, configured.settings)
    handle = configured.temporal.get_workflow_handle(configured.workflow_ids[0])
    ended = (await handle.describe()).run_id
    await handle.terminate("an operator stopped it")

    await ensure_channel_writebacks(configured.temporal, configured.settings)

    description = await configured.temporal.get_workflow_handle(configured.workflow_ids[0]).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING and description.run_id != ended


async def test_no_configured_writeback_starts_nothing(temporal_env: WorkflowEnvironment,
                                                     sandbox: RunningSandbox) -> None:
    assert await ensure_channel_writebacks(temporal_env.client, worker_settings(sandbox)) == []


async def test_a_writeback_that_cannot_start_names_its_entry_in_the_setting(sandbox: RunningSandbox) -> None:
    settings = worker_settings(sandbox, shopify_writebacks=[ChannelWritebackConfig(channel="shop_unreached")])
    nowhere = await Client.connect(f"127.0.0.1:{free_port()}", data_converter=pydantic_data_converter, lazy=True)

    with pytest.raises(ChannelWritebackStartError,
                       match=r"OMNIROUTE_SHOPIFY_WRITEBACKS\[0\] \(channel 'shop_unreached'\)"):
        await ensure_channel_writebacks(nowhere, settings)
