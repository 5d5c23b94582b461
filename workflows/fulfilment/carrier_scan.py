"""A carrier's scan that overtakes the node's `shipped` (pure rules for the fulfilment's handler and
validator).

A label we bought (a DC's, a ship-from-store's) has a tracker. When its first scan (in_transit,
out_for_delivery, delivered or an exception) reaches a shipment the node has not reported shipped yet
(released, accepted, picked or packed), the carrier has the parcel: the fulfilment records `shipped`
first, at the scan's time and with the label's tracking number, then applies the scan. The node's own
accepted/picked/packed/shipped that arrives later is answered as done (`carrier_first`), never as a
refusal, and moves nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState

if TYPE_CHECKING:
    from workflows.fulfilment.protocol import FulfilmentState

# From this patch on, a carrier's scan before the node's `shipped` records `shipped` first (before, a scan
# skipped straight to its own state and an exception was refused).
CARRIER_SCAN_SHIPS = "carrier-scan-ships"

CARRIER_SCANS = frozenset({
    ShipmentEventType.IN_TRANSIT, ShipmentEventType.OUT_FOR_DELIVERY, ShipmentEventType.DELIVERED,
    ShipmentEventType.EXCEPTION})
# What the node reports on the way to handing the parcel over: done once the carrier has scanned it.
NODE_STEPS = frozenset({
    ShipmentEventType.ACCEPTED, ShipmentEventType.PICKED, ShipmentEventType.PACKED, ShipmentEventType.SHIPPED})
_AT_THE_NODE = frozenset({ShipmentState.RELEASED, ShipmentState.ACCEPTED, ShipmentState.PICKED, ShipmentState.PACKED})


def scan_ships(state: FulfilmentState, event: ShipmentEvent) -> bool:
    """The event is a carrier's scan of a shipment we labelled that its node has (released to it) but
    has not reported shipped: the scan proves the carrier has it."""
    return (event.type in CARRIER_SCANS and state.label is not None and not state.label_voided
            and state.view.state in _AT_THE_NODE)


def done_by_carrier(state: FulfilmentState, event: ShipmentEvent) -> bool:
    """The node reports a step the carrier's earlier scan has already taken the shipment past."""
    return state.carrier_scanned_first and event.type in NODE_STEPS


def shipped_from_scan(state: FulfilmentState, scan: ShipmentEvent, now: datetime) -> ShipmentEvent:
    """The `shipped` the scan stands for: at the scan's time (`now` when it has none), with the label's
    carrier and tracking number."""
    view = state.view
    return ShipmentEvent(
        shipment_id=view.shipment_id, type=ShipmentEventType.SHIPPED, occurred_at=scan.occurred_at or now,
        carrier=view.carrier, tracking_number=view.tracking_number,
        reason=f"the carrier's {scan.type.value} scan came before the node reported shipped")
