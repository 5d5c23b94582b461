"""Channel sync activities: compute a channel's levels from the ledger, push them to the channel (Shopify)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import classified_errors
from integrations.channels.shopify import ShopifyClient
from integrations.http import RateLimitedError
from models.channel_sync import ChannelLevelsRequest, Level, MovedSkus, MovedSkusRequest, PushLevels, PushResult
from models.inventory import InventoryPosition
from sourcing.allocation import channel_availability
from store.ports import ChannelStock

RATE_LIMITED = "ChannelRateLimited"


class ChannelSyncActivities:
    """`channel_levels` reads the DB only (run it local); `push_levels` calls the channel (run it regular)."""

    def __init__(self, stock: ChannelStock, shopify: ShopifyClient) -> None:
        self._stock = stock
        self._shopify = shopify

    @activity.defn
    def channel_levels(self, request: ChannelLevelsRequest) -> list[Level]:
        """The channel ATP of each requested, mapped SKU at each mapped node, its rule applied.

        A node the rule hides, an inactive node and a node without a position all give 0, so the
        channel stops selling there. SKUs without an inventory item id are left out. Raises
        ApplicationError InvalidData (non-retryable) for a store refusal.
        """
        skus = [sku for sku in dict.fromkeys(request.skus) if sku in request.items]
        if not skus:
            return []
        with classified_errors():
            rule = self._stock.channel_allocation(request.channel)
            positions, kinds = self._stock.stock(skus)
            # The channel's open reservations count against its share: publish what it may still sell.
            reserved = self._stock.channel_reserved(request.channel, skus) if rule is not None else {}
        own: dict[str, dict[str, int]] = {}
        for (node_id, sku), units in reserved.items():
            own.setdefault(sku, {})[node_id] = units
        by_sku: dict[str, list[InventoryPosition]] = {}
        for position in positions:
            by_sku.setdefault(position.sku, []).append(position)
        levels: list[Level] = []
        for sku in skus:
            seen = channel_availability(sku, by_sku.get(sku, []), kinds, rule, request.channel, own.get(sku))
            atp_at = {node.node_id: node.atp for node in seen.nodes}
            for node_id, location_id in sorted(request.locations.items()):
                levels.append(Level(node_id=node_id, sku=sku, location_id=location_id,
                                    inventory_item_id=request.items[sku], available=atp_at.get(node_id, 0)))
        return levels

    @activity.defn
    def moved_skus(self, request: MovedSkusRequest) -> MovedSkus:
        """The listed SKUs whose stock moved since ledger movement `after` (the ledger is the change
        feed, so nothing that moved stock is missed), and the cursor to continue after."""
        listed = set(request.skus)
        moved, cursor = self._stock.skus_moved_since(request.after)
        return MovedSkus(skus=[sku for sku in moved if sku in listed], cursor=cursor)

    @activity.defn
    def push_levels(self, request: PushLevels) -> PushResult:
        """Set each level at the channel, in order, heartbeating how many are done.

        A retry resumes after the last level the heartbeat recorded (setting a level is absolute, so
        repeating one is harmless). Short throttling is waited out inside the client; when the bucket
        stays full, raises a retryable ApplicationError ChannelRateLimited whose next retry waits the
        channel's Retry-After. A refusal (bad token, unknown location) raises ProviderRejected,
        non-retryable.
        """
        details = activity.info().heartbeat_details
        done = int(details[0]) if details else 0
        with classified_errors():
            for index in range(done, len(request.levels)):
                level = request.levels[index]
                try:
                    self._shopify.set_inventory_level(level.location_id, level.inventory_item_id, level.available)
                except RateLimitedError as err:
                    raise ApplicationError(
                        f"channel throttled after {index} of {len(request.levels)} levels: {err}",
                        type=RATE_LIMITED, next_retry_delay=_delay(err.retry_after),
                    ) from err
                activity.heartbeat(index + 1)
        return PushResult(pushed=len(request.levels))


def _delay(retry_after: float | None) -> timedelta | None:
    return None if retry_after is None else timedelta(seconds=max(retry_after, 0.1))
