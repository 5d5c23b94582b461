"""Shopify write-backs that a deployment configures (OMNIROUTE_SHOPIFY_WRITEBACKS), started with the workers.

Every worker calls ensure_channel_writebacks at start-up, as it does ensure_channel_syncs: each
configured channel's ChannelWritebackWorkflow is started under `channel-writeback-{channel}` unless a
run with that id is already going (conflict policy USE_EXISTING), so N workers make one run per channel.
A running write-back keeps the configuration it was started with; a changed entry takes effect once that
run is terminated and a worker starts again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from integrations.channels.shopify_graphql import ShopifyGraphQLClient
from integrations.channels.shops import ShopifyShops
from models.channel_writeback import ChannelWritebackConfig, ChannelWritebackRun, channel_writeback_workflow_id
from omniroute.config.settings import Settings
from workflows.channel_writeback import ChannelWritebackWorkflow

log = logging.getLogger("omniroute.channel_writebacks")

SETTING = "OMNIROUTE_SHOPIFY_WRITEBACKS"


class ChannelWritebackStartError(RuntimeError):
    """A configured channel's write-back could not be started; the message names the setting's entry."""

    def __init__(self, index: int, channel: str, cause: Exception) -> None:
        super().__init__(f"{SETTING}[{index}] (channel {channel!r}): its write-back could not be started: {cause}")
        self.index = index
        self.channel = channel


def shop_resolver(settings: Settings, shops: ShopifyShops) -> Callable[[str], ShopifyGraphQLClient]:
    """The GraphQL client of a channel's shop: its configured URL and token, else the deployment's."""
    configs = {config.channel: config for config in settings.shopify_writebacks}

    def shop_for(channel: str) -> ShopifyGraphQLClient:
        config = configs.get(channel) or ChannelWritebackConfig(channel=channel)
        return shops.client(*settings.shopify_shop(config))

    return shop_for


def notify_customer(settings: Settings) -> Callable[[str], bool]:
    configs = {config.channel: config.notify_customer for config in settings.shopify_writebacks}
    return lambda channel: configs.get(channel, False)


async def start_channel_writeback(client: Client, config: ChannelWritebackConfig, task_queue: str) -> str:
    """Start the channel's write-back unless it runs; its workflow id."""
    workflow_id = channel_writeback_workflow_id(config.channel)
    await client.start_workflow(ChannelWritebackWorkflow.run, ChannelWritebackRun(config=config), id=workflow_id,
                                task_queue=task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                                static_summary=f"Shopify write-back of channel {config.channel}")
    return workflow_id


async def ensure_channel_writebacks(client: Client, settings: Settings) -> list[str]:
    """Start the write-back of every channel in `settings.shopify_writebacks` that is not running yet, on
    the worker's task queue; the workflow ids, in the setting's order. Raises ChannelWritebackStartError
    for the first entry Temporal would not start."""
    workflow_ids = []
    for index, config in enumerate(settings.shopify_writebacks):
        try:
            workflow_ids.append(await start_channel_writeback(client, config, settings.task_queue))
        except Exception as err:  # unreachable, unknown namespace, refused: the operator needs the entry
            raise ChannelWritebackStartError(index, config.channel, err) from err
        log.info("Shopify write-back of channel %s runs as %s", config.channel, workflow_ids[-1])
    return workflow_ids
