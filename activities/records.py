"""Read-model activities: what the app DB knows about orders, shipments and returns. DB-only: run local."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.commands import LoadReturnContext, ReturnContext
from models.network import Node
from models.records import OrderRecord, OrderStatusChange, ReturnRecord, ShipmentRecord
from models.returns import ReturnPolicy
from sourcing.returns import check_return
from store.ports import NetworkReader, OrderRecords


def utc_now() -> datetime:
    return datetime.now(UTC)


class RecordActivities:
    """Writes and reads the order read model; the return check is sourcing's (`sourcing.returns`)."""

    def __init__(self, orders: OrderRecords, network: NetworkReader, policy: ReturnPolicy, *,
                 clock: Callable[[], datetime] = utc_now) -> None:
        """`clock` gives the time a return is checked at: the wall clock, or a fixed instant in tests."""
        self._orders = orders
        self._network = network
        self._policy = policy
        self._clock = clock

    @activity.defn
    def record_order(self, order: OrderRecord) -> bool:
        """Insert the order if new; False if it was already recorded (a replayed or retried start)."""
        return self._orders.record_order(order)

    @activity.defn
    def set_order_status(self, change: OrderStatusChange) -> None:
        self._orders.set_order_status(change.order_id, change.status, change.hold_reason)
        if change.backordered_skus is not None:
            self._orders.set_order_backorders(change.order_id, change.backordered_skus)

    @activity.defn
    def record_shipments(self, shipments: list[ShipmentRecord]) -> None:
        for shipment in shipments:
            self._orders.record_shipment(shipment)

    @activity.defn
    def get_node(self, node_id: str) -> Node:
        """The node as it is configured now (kind, hand-off, SLA, provider): a fulfilment reads it when
        it starts. An unknown node is a non-retryable error naming it."""
        node = self._network.get_node(node_id)
        if node is None:
            raise ApplicationError(f"unknown node_id {node_id!r}", type="UnknownNode", non_retryable=True)
        return node

    @activity.defn
    def record_return(self, record: ReturnRecord) -> None:
        self._orders.record_return(record)

    @activity.defn
    def load_return_context(self, request: LoadReturnContext) -> ReturnContext:
        """Check a return against the order (`sourcing.returns.check_return`): lines delivered and not
        yet returned, inside the window; the nearest node that takes returns; the refund. Never raises
        for a bad request: the reason comes back as `rejection`."""
        order = self._orders.get_order(request.order_id)
        if order is None:
            return check_return(request, None, shipments=[], returned={}, nodes=[], policy=self._policy,
                                now=self._clock())
        return check_return(
            request, order, shipments=self._orders.shipments_for_order(order.order_id),
            returned=self._orders.returned_quantities(order.order_id, exclude_rma=request.rma),
            nodes=self._network.list_nodes(), policy=self._policy, now=self._clock(),
        )
