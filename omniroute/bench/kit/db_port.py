"""The simulated warehouse's reader over the app DB's read model.

A warehouse learns that a shipment is released from the WMS hand-off, not by asking the order
workflow over and over; reading the read model stands in for that hand-off, so the benchmark's
polling costs the worker and the Temporal server nothing and the figure is Omniroute's own.
"""

from __future__ import annotations

import asyncio

from omniroute.demo.api import GatewayError, OrderSnapshot
from store import Store


class DbOrderReader:
    """Reads an order's status and shipments from the read model the order workflow keeps."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def order(self, order_id: str) -> OrderSnapshot:
        return await asyncio.to_thread(self._read, order_id)

    def _read(self, order_id: str) -> OrderSnapshot:
        order = self._store.get_order(order_id)
        if order is None:
            # Started but not yet recorded by its first local activity: the caller asks again later.
            raise GatewayError("READ", order_id, 503, f"order {order_id} is not in the read model yet")
        shipments = [{
            "shipment_id": s.shipment_id, "node_id": s.node_id, "state": s.state.value,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in s.lines],
            "label_cost": {"amount": s.label_cost, "currency": s.currency} if s.label_cost is not None else None,
        } for s in self._store.shipments_for_order(order_id)]
        return OrderSnapshot.from_json({"order_id": order_id, "status": order.status.value, "shipments": shipments})
