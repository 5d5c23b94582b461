"""Channel sync activities: compute a channel's levels from the ledger, push them to the channel (Shopify's
GraphQL `inventorySetQuantities`)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import classified_errors
from integrations.channels.shopify_graphql import MAX_QUANTITIES_PER_MUTATION, InventoryQuantity, ShopifyGraphQLClient
from integrations.http import RateLimitedError
from models.channel_sync import ChannelLevelsRequest, Level, MovedSkus, MovedSkusRequest, PushLevels, PushResult
from models.inventory import InventoryPosition
from sourcing.allocation import channel_availability
from store.ports import ChannelStock

RATE_LIMITED = "ChannelRateLimited"


class ChannelSyncActivities:
    """`channel_levels` reads the DB only (run it local); `push_levels` calls the channel (run it regular)."""

    def __init__(self, stock: ChannelStock, shopify: ShopifyGraphQLClient) -> None:
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
        """Set the levels at the channel with `inventorySetQuantities`, in mutations of at most
        MAX_QUANTITIES_PER_MUTATION, heartbeating how many are done.

        A retry resumes after the last mutation the heartbeat recorded. Each mutation's idempotency key
        is made from this activity's run and id (the same on every attempt, new for every push), so a
        mutation whose answer was lost is not applied twice, and setting a level is absolute anyway.
        The cost-based throttle is waited out inside the client; when the bucket stays short, raises a
        retryable ApplicationError ChannelRateLimited whose next retry waits what Shopify's restore rate
        needs. A refusal (bad token, a userError naming the field) raises ProviderRejected, non-retryable.
        """
        info = activity.info()
        done = int(info.heartbeat_details[0]) if info.heartbeat_details else 0
        key = f"{info.workflow_run_id}:{info.activity_id}"
        quantities = [InventoryQuantity(inventory_item_id=level.inventory_item_id, location_id=level.location_id,
                                        quantity=level.available) for level in request.levels]
        with classified_errors():
            for start in range(done, len(quantities), MAX_QUANTITIES_PER_MUTATION):
                batch = quantities[start:start + MAX_QUANTITIES_PER_MUTATION]
                try:
                    self._shopify.set_inventory_quantities(batch, idempotency_key=f"{key}:{start}")
                except RateLimitedError as err:
                    raise ApplicationError(
                        f"channel throttled after {start} of {len(quantities)} levels: {err}",
                        type=RATE_LIMITED, next_retry_delay=_delay(err.retry_after),
                    ) from err
                activity.heartbeat(start + len(batch))
        return PushResult(pushed=len(request.levels))


def _delay(retry_after: float | None) -> timedelta | None:
    return None if retry_after is None else timedelta(seconds=max(retry_after, 0.1))
