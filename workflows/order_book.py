"""The order's bookkeeping: the read model, the search attributes and the customer's messages.

Nothing here changes the order's course; the workflow and its steps call it after they change the
state. Every call issues commands, so only the order's runner calls it.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.records import RecordActivities
    from models.notify import NotificationKind
    from models.order import OrderStatus
    from models.records import OrderStatusChange
    from models.shipment import TrackingException
    from workflows import search_attributes as search
    from workflows.notices import notice_to, send_notice
    from workflows.order_state import (
        OrderState,
        ShipmentRuntime,
        current_hold,
        derive_status,
        order_record,
        shipment_records,
    )
    from workflows.policies import local

# Orders from before a carrier exception open on a shipment was indexed (TrackingException).
TRACKING_EXCEPTION_INDEXED = "tracking-exception-indexed"

class OrderBook:
    def __init__(self, state: OrderState) -> None:
        self._state = state

    async def record_order(self) -> None:
        await local(RecordActivities.record_order, order_record(self._state, workflow.info().workflow_id))

    async def update_status(self) -> None:
        """Derive the status; keep the search attributes (status, shipments, tracking) and the DB in step."""
        state = self._state
        status = derive_status(state)
        shipments = list(state.shipments.values())
        order = state.order
        attributes: list[SearchAttributeUpdate[Any]] = [
            search.ORDER_STATUS.value_set(status.value),
            search.CHANNEL.value_set(order.channel),
            search.ORDER_ID.value_set(order.order_id),
            search.ORDER_TOTAL.value_set(order.total.amount),
            search.SHIPMENT_IDS.value_set([s.view.shipment_id for s in shipments]),
            search.NODES.value_set(sorted({s.view.node_id for s in shipments})),
            search.TRACKING_NUMBERS.value_set([s.view.tracking_number for s in shipments if s.view.tracking_number]),
        ]
        # Only a reroute moves a shipment to another node under the same id (Nodes follows it then).
        snapshot = repr([(s.view.shipment_id, s.view.node_id, s.view.tracking_number) for s in shipments]
                        + [status.value])
        if snapshot != state.indexed:
            workflow.upsert_search_attributes(attributes)
            state.indexed = snapshot
        self._index_exceptions(shipments)
        waiting = sorted({order.lines[line_no - 1].sku for line_no in state.backordered})
        if status is not state.status or waiting != state.backorders_recorded:
            state.status = status
            change = OrderStatusChange(order_id=order.order_id, status=status,
                                       backordered_skus=waiting if waiting != state.backorders_recorded else None,
                                       hold_reason=current_hold(state) if status is OrderStatus.HELD else None)
            state.backorders_recorded = waiting
            await local(RecordActivities.set_order_status, change)

    def _index_exceptions(self, shipments: list[ShipmentRuntime]) -> None:
        """TrackingException: a carrier exception open on a shipment (a failed attempt, a parcel returned or
        held at the carrier; with several, the first in TrackingException's order), so that operators find
        it; unset once none is open. Only an order that meets an exception issues the command (and its
        patch marker)."""
        state = self._state
        open_now = {s.view.exception for s in shipments if s.view.exception is not None}
        shown = next((kind.value for kind in TrackingException if kind in open_now), None)
        if shown == state.exception_indexed or not workflow.patched(TRACKING_EXCEPTION_INDEXED):
            return
        key = search.TRACKING_EXCEPTION
        workflow.upsert_search_attributes([key.value_set(shown) if shown else key.value_unset()])
        state.exception_indexed = shown

    async def save_shipments(self, shipments: list[ShipmentRuntime]) -> None:
        """Record the shipments the order still owns; a released one is its fulfilment's to record."""
        owned = [s for s in shipments if not s.started]
        if owned:
            await local(RecordActivities.record_shipments, shipment_records(self._state, owned))

    async def notify(self, kind: NotificationKind, facts: dict[str, str]) -> None:
        """A failed e-mail is recorded on the order; it never fails the order."""
        note = notice_to(self._state.order.customer, kind, self._state.order.order_id, facts)
        if (outcome := await send_notice(note)) is not None:
            self._state.events.append(f"notification {kind.value} {outcome}")

