"""Channel inventory syncs that a deployment configures (OMNIROUTE_CHANNEL_SYNCS), started with the workers.

Every worker calls ensure_channel_syncs at start-up. Each configured channel's
ChannelInventorySyncWorkflow is started under the id the channel SDK uses (`channel-sync-{channel}`)
unless a run with that id is already going, which Temporal decides atomically (conflict policy
USE_EXISTING): N workers starting together make one run per channel. A running sync keeps the
configuration it was started with; a changed entry takes effect once that run is terminated and a
worker starts again. A sync that has ended (terminated, failed) is started anew.
"""

from __future__ import annotations

import logging

from temporalio.client import Client

from omniroute.client import OmnirouteClient
from omniroute.config.settings import Settings

log = logging.getLogger("omniroute.channel_syncs")

SETTING = "OMNIROUTE_CHANNEL_SYNCS"


class ChannelSyncStartError(RuntimeError):
    """A configured channel's sync could not be started; the message names the setting's entry."""

    def __init__(self, index: int, channel: str, cause: Exception) -> None:
        super().__init__(f"{SETTING}[{index}] (channel {channel!r}): its inventory sync could not be started: {cause}")
        self.index = index
        self.channel = channel


async def ensure_channel_syncs(client: Client, settings: Settings) -> list[str]:
    """Start the sync of every channel in `settings.channel_syncs` that is not running yet, on the
    worker's task queue; the workflow ids, in the setting's order (none when nothing is configured).
    Raises ChannelSyncStartError for the first entry Temporal would not start."""
    sdk = OmnirouteClient(client, task_queue=settings.task_queue)
    workflow_ids = []
    for index, config in enumerate(settings.channel_syncs):
        try:
            workflow_ids.append(await sdk.start_channel_sync(config))
        except Exception as err:  # unreachable, unknown namespace, refused: the operator needs the entry
            raise ChannelSyncStartError(index, config.channel, err) from err
        log.info("inventory sync of channel %s runs as %s", config.channel, workflow_ids[-1])
    return workflow_ids
