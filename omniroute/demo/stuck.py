"""What an unfinished demo order or return is waiting for, in words, from what was last seen of it."""

from __future__ import annotations

import time
from typing import Protocol

from models.order import OrderStatus
from models.returns import ReturnStatus
from models.shipment import ShipmentState
from omniroute.demo.summary import ReturnOutcome
from omniroute.demo.warehouse import TrackedOrder

_SHIPMENT_WAITS = {
    ShipmentState.PENDING: "its label to be bought",
    ShipmentState.RELEASED: "the warehouse to pick it",
    ShipmentState.PICKED: "the warehouse to pack it",
    ShipmentState.PACKED: "the carrier to collect it",
    ShipmentState.SHIPPED: "delivery",
    ShipmentState.IN_TRANSIT: "delivery",
}
_RETURN_WAITS = {
    ReturnStatus.REQUESTED: "its return label",
    ReturnStatus.AWAITING_RECEIPT: "the parcel to reach the return node",
    ReturnStatus.RECEIVED: "restock and refund",
}


class ReceiptLog(Protocol):
    def waiting_since(self, order_id: str, sku: str) -> float | None: ...


def order_waits_for(tracked: TrackedOrder, receipts: ReceiptLog, *, now: float | None = None) -> str:
    """`<status>, waiting for <what>[; <what>...]` and the last error, for one order that is not final."""
    status = tracked.status.value if tracked.status is not None else "never seen"
    waits = _order_waits(tracked, receipts, time.monotonic() if now is None else now)
    line = f"{status}, waiting for {'; '.join(waits)}"
    return f"{line} (last error: {tracked.last_error})" if tracked.last_error else line


def return_waits_for(outcome: ReturnOutcome) -> str:
    status = outcome.status.value if outcome.status is not None else "not opened"
    what = _RETURN_WAITS.get(outcome.status, "its end") if outcome.status is not None else "the RMA to open"
    line = f"{status}, waiting for {what}"
    return f"{line} (last error: {outcome.last_error})" if outcome.last_error else line


def _order_waits(tracked: TrackedOrder, receipts: ReceiptLog, now: float) -> list[str]:
    if tracked.status is None:
        return ["the gateway to answer for it"]
    if tracked.status is OrderStatus.HELD:
        return [f"an operator to release it (held: {'; '.join(tracked.holds) or 'no reason given'})"]
    waits = []
    for sku, units in tracked.backordered:
        sent = receipts.waiting_since(tracked.order_id, sku)
        receipt = (f"a receipt was posted {now - sent:.0f} s ago and the backorder sweep has not planned it"
                   if sent is not None else "no receipt posted yet")
        waits.append(f"stock of {units} x {sku} on backorder ({receipt})")
    for shipment in sorted(tracked.shipments.values(), key=lambda s: s.shipment_id):
        what = _SHIPMENT_WAITS.get(shipment.state)
        if what is None:
            continue
        if shipment.state is ShipmentState.RELEASED and not tracked.ship:
            what = "the customer's cancel to take it"
        waits.append(f"{shipment.shipment_id} at {shipment.node_id or 'its node'}: {what}")
    if not waits:
        waits.append("planning (rules, sourcing and reservation)" if not tracked.shipments
                     else "the order to close")
    return waits
