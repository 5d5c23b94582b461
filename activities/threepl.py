"""3PL activities: place and cancel a shipment's order at the 3PL (`ThreePLOrderActivities`), and the
inventory pull (`ThreePLInventoryActivities`).

The order activities build the 3PL's order from the shipment (our shipment id as its `reference_id`,
so a retried create finds the order it made), and classify what comes back: a refusal (4xx) is a
non-retryable ApplicationError("ProviderRejected"), a 429 an ApplicationError("RateLimited") that asks
Temporal to retry after the 3PL's `x-retry-after`, anything else propagates for the retry policy.

Inventory pull: page through a ShipBob-format 3PL's levels and apply them as counts to its node.

Each page is one all-or-nothing feed batch (`InventoryFeeds.apply_inventory_feed`), so a failure mid-pull
leaves whole pages applied and none half-applied. Every count carries the pull's start time as its
`as_of`: a SKU whose position moved after the pull started (an order committed, a receipt landed)
is refused by the store as stale, counted, and left as it is rather than overwritten by a count
that cannot have seen that movement. The activity heartbeats after every page with its progress
(the next cursor URL, the counters, the `as_of`), so a retry resumes at the page after the last one
applied instead of starting over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import INVALID_DATA, classified_errors
from integrations.http import RateLimitedError
from integrations.threepl.shipbob import ShipBobClient, ShipBobInventoryLevel
from integrations.threepl.shipbob_orders import (
    NewShipBobOrder,
    ShipBobAddress,
    ShipBobProduct,
    ShipBobRecipient,
)
from models.allocation import InventoryFeedItem
from models.costs import ServiceLevel
from models.network import ProviderSettings
from models.threepl import (
    CancelThreePLOrder,
    PlaceThreePLOrder,
    PullResult,
    PullThreePLInventory,
    ThreePLCancelAnswer,
    ThreePLOrderPlaced,
)
from store.ports import InventoryFeeds, NetworkReader, StaleCountError

RATE_LIMITED = "RateLimited"
# ShipBob's `shipping_method` is the name of a ship option in the merchant's account; these are the
# names a default ShipBob account has for our service levels.
SHIPPING_METHODS = {ServiceLevel.STANDARD: "Standard", ServiceLevel.TWO_DAY: "2-Day",
                    ServiceLevel.NEXT_DAY: "Overnight"}
ShipBobClients = Callable[[ProviderSettings | None], ShipBobClient]


class ThreePLOrderActivities:
    """A shipment's order at its 3PL. `clients(provider)` gives the client for a node's provider
    settings (None: the ShipBob account configured in settings)."""

    def __init__(self, clients: ShipBobClients) -> None:
        self._clients = clients

    @activity.defn
    def place_order(self, request: PlaceThreePLOrder) -> ThreePLOrderPlaced:
        """Create the shipment's order at the 3PL, or find the one an earlier attempt made. Raises
        ProviderRejected (the 3PL refused it: an unknown SKU, a bad address) or RateLimited."""
        order = NewShipBobOrder(
            reference_id=request.shipment_id, order_number=request.order_id,
            shipping_method=SHIPPING_METHODS[request.service_level],
            recipient=ShipBobRecipient(
                name=request.ship_to.name, email=str(request.customer.email), phone_number=request.ship_to.phone,
                address=ShipBobAddress(address1=request.ship_to.line1, address2=request.ship_to.line2,
                                       city=request.ship_to.city, state=request.ship_to.region or None,
                                       country=request.ship_to.country, zip_code=request.ship_to.postal_code)),
            products=[ShipBobProduct(reference_id=line.sku, name=line.sku, quantity=line.quantity,
                                     external_line_id=str(line.line_no)) for line in request.lines],
            tags=[{"name": "omniroute_order", "value": request.order_id}])
        with classified_errors(), _rate_limited():
            placed, created = self._clients(request.provider).create_order(order)
        activity.logger.info("3PL order %s for %s (%s)", placed.id, request.shipment_id,
                             "created" if created else "found from an earlier attempt")
        return ThreePLOrderPlaced(provider_order_id=placed.id, created=created, status=placed.status)

    @activity.defn
    def cancel_order(self, request: CancelThreePLOrder) -> ThreePLCancelAnswer:
        """Ask the 3PL to cancel the shipment's order: its answer (refused once it has shipped)."""
        with classified_errors(), _rate_limited():
            answer = self._clients(request.provider).cancel_order(request.provider_order_id)
        return ThreePLCancelAnswer(cancelled=answer.cancelled, reason=answer.refusal)


class PullProgress(PullResult):
    """The heartbeat details: the result so far and where the next page is (None once done)."""

    next: str | None = None
    done: bool = False


class ThreePLInventoryActivities:
    """The 3PL pull, with its client, the network and the ledger's feed injected.

    Failures: an unknown node or a feed the store refuses → ApplicationError("InvalidData"), and a
    3PL refusal (bad token, 4xx) → ApplicationError("ProviderRejected"), both non-retryable; a 429
    → ApplicationError("RateLimited") that asks Temporal to retry after the 3PL's `x-retry-after`;
    outages and database errors propagate for the retry policy.
    """

    def __init__(self, client: ShipBobClient, network: NetworkReader, feeds: InventoryFeeds) -> None:
        self._client = client
        self._network = network
        self._feeds = feeds

    @activity.defn
    def pull_inventory(self, request: PullThreePLInventory) -> PullResult:
        """Page through the 3PL's levels, applying each page as counts; resumes from the last heartbeat."""
        progress = _resumed_progress() or PullProgress(items=0, pages=0, applied=0, rejected_stale=0,
                                                       as_of=datetime.now(UTC))
        if progress.done:
            return _result(progress)
        with classified_errors():
            if self._network.get_node(request.node_id) is None:
                raise ApplicationError(f"unknown node {request.node_id!r}: add the 3PL's node to the network",
                                       type=INVALID_DATA, non_retryable=True)
            try:
                pages = self._client.inventory_pages(page_size=request.page_size, start=progress.next)
                for page in pages:
                    counts, skipped = _counts(page.items, request, progress.as_of)
                    applied, stale = self._apply(counts)
                    progress = progress.model_copy(update={
                        "items": progress.items + len(page.items), "pages": progress.pages + 1,
                        "applied": progress.applied + applied, "rejected_stale": progress.rejected_stale + stale,
                        "skipped": progress.skipped + skipped, "next": page.next, "done": page.next is None,
                    })
                    activity.heartbeat(progress.model_dump(mode="json"))
            except RateLimitedError as err:
                raise ApplicationError(str(err), type=RATE_LIMITED, next_retry_delay=_delay(err)) from err
        activity.logger.info("3PL pull for %s: %d levels on %d pages, %d applied, %d stale, %d skipped",
                             request.node_id, progress.items, progress.pages, progress.applied,
                             progress.rejected_stale, progress.skipped)
        return _result(progress)

    def _apply(self, counts: list[InventoryFeedItem]) -> tuple[int, int]:
        """Apply one page in one transaction; a stale count is dropped and the rest tried again."""
        pending, stale = list(counts), 0
        while pending:
            try:
                self._feeds.apply_inventory_feed(pending)
                return len(pending), stale
            except StaleCountError as err:
                refused = pending.pop(err.index)
                stale += 1
                activity.logger.warning("3PL count for %s at %s refused: %s", refused.sku, refused.node_id,
                                        err.message)
        return 0, stale


def _counts(levels: list[ShipBobInventoryLevel], request: PullThreePLInventory,
            as_of: datetime) -> tuple[list[InventoryFeedItem], int]:
    counts: list[InventoryFeedItem] = []
    skipped = 0
    for level in levels:
        try:
            counts.append(InventoryFeedItem(
                node_id=request.node_id, sku=level.sku or "", on_hand=level.total_on_hand_quantity,
                source=request.source, reason=f"3PL count (inventory {level.inventory_id})", as_of=as_of))
        except ValidationError:  # no SKU, a SKU we cannot hold, or a negative total
            skipped += 1
            activity.logger.warning("3PL level %s skipped: sku %r, on hand %s", level.inventory_id, level.sku,
                                    level.total_on_hand_quantity)
    return counts, skipped


@contextmanager
def _rate_limited() -> Iterator[None]:
    try:
        yield
    except RateLimitedError as err:
        raise ApplicationError(str(err), type=RATE_LIMITED, next_retry_delay=_delay(err)) from err


def _resumed_progress() -> PullProgress | None:
    details = activity.info().heartbeat_details
    if not details:
        return None
    try:
        return PullProgress.model_validate(details[0])
    except ValidationError:
        return None


def _result(progress: PullProgress) -> PullResult:
    return PullResult.model_validate(progress.model_dump(include=set(PullResult.model_fields)))


def _delay(err: RateLimitedError) -> timedelta | None:
    return None if err.retry_after is None else timedelta(seconds=err.retry_after)
