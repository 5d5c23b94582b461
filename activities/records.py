"""Read-model activities: what the app DB knows about orders, shipments and returns. DB-only: run local."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from temporalio import activity

from models.commands import LoadReturnContext, ReturnContext
from models.money import Money
from models.network import Capability
from models.order import OrderStatus
from models.records import OrderRecord, ReturnRecord, ShipmentRecord
from models.shipment import ShipmentState
from sourcing.geo import locate
from sourcing.nearest import nearest_node
from store import Store


class ReturnPolicy(BaseModel):
    window_days: int = 30
    label_expiry_days: int = 30


class OrderStatusChange(BaseModel):
    order_id: str
    status: OrderStatus
    backordered_skus: list[str] | None = Field(default=None, description="SKUs waiting for stock (None: unchanged)")


class RecordActivities:
    def __init__(self, store: Store, policy: ReturnPolicy) -> None:
        self._store = store
        self._policy = policy

    @activity.defn
    def record_order(self, order: OrderRecord) -> bool:
        """Insert the order if new; False if it was already recorded (a replayed or retried start)."""
        return self._store.record_order(order)

    @activity.defn
    def set_order_status(self, change: OrderStatusChange) -> None:
        self._store.set_order_status(change.order_id, change.status)
        if change.backordered_skus is not None:
            self._store.set_order_backorders(change.order_id, change.backordered_skus)

    @activity.defn
    def record_shipments(self, shipments: list[ShipmentRecord]) -> None:
        for shipment in shipments:
            self._store.record_shipment(shipment)

    @activity.defn
    def record_return(self, record: ReturnRecord) -> None:
        self._store.record_return(record)

    @activity.defn
    def load_return_context(self, request: LoadReturnContext) -> ReturnContext:
        """Check a return against the order: lines delivered and not yet returned, inside the window;
        choose the nearest node that takes returns; price the refund. Never raises for a bad request:
        the reason comes back as `rejection`."""
        order = self._store.get_order(request.order_id)
        expiry = self._policy.label_expiry_days
        if order is None:
            return ReturnContext(order=None, rejection=f"unknown order {request.order_id}", label_expiry_days=expiry)
        prices = {line.sku: line.unit_price for line in order.lines}
        delivered: dict[str, int] = {}
        delivered_at: dict[str, datetime] = {}
        for shipment in self._store.shipments_for_order(order.order_id):
            if shipment.state is not ShipmentState.DELIVERED:
                continue
            for line in shipment.lines:
                delivered[line.sku] = delivered.get(line.sku, 0) + line.quantity
                when = shipment.delivered_at or datetime.now(UTC)
                delivered_at[line.sku] = max(delivered_at.get(line.sku, when), when)
        returned = self._store.returned_quantities(order.order_id, exclude_rma=request.rma)
        window = timedelta(days=self._policy.window_days)
        now = datetime.now(UTC)
        for asked in request.lines:
            open_qty = delivered.get(asked.sku, 0) - returned.get(asked.sku, 0)
            if asked.quantity > open_qty:
                return ReturnContext(order=order, label_expiry_days=expiry, rejection=(
                    f"{asked.sku}: {asked.quantity} requested, only {max(open_qty, 0)} delivered and not yet returned"
                ))
            if now - delivered_at[asked.sku] > window:
                return ReturnContext(order=order, label_expiry_days=expiry, rejection=(
                    f"{asked.sku}: delivered {delivered_at[asked.sku]:%Y-%m-%d}, outside the "
                    f"{self._policy.window_days}-day return window"
                ))
        refund = Money(amount=sum(prices[r.sku] * r.quantity for r in request.lines), currency=order.currency)
        return ReturnContext(order=order, return_node_id=self._return_node(order), refund=refund,
                             label_expiry_days=expiry, unit_prices=prices)

    def _return_node(self, order: OrderRecord) -> str | None:
        origin = locate(order.ship_to)
        nodes = [(n.node_id, p) for n in self._store.list_nodes()
                 if n.can(Capability.RETURNS) and (p := locate(n)) is not None]
        if origin is None:
            return nodes[0][0] if nodes else None
        return nearest_node(origin, nodes)
