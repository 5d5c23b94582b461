"""The order's side of its shipments' fulfilments: start one per released shipment, take its
progress and its outcome, ask it to cancel; and undo a shipment that was never released.

A released shipment belongs to its fulfilment workflow (workflows/fulfilment/, id
`shipment-{shipment_id}`), which the node's events address directly. The order keeps a copy of its
view from the progress it reports, and learns how it ended from its result.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import CancelledError as TemporalCancelledError
from temporalio.exceptions import FailureError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.inventory import InventoryActivities
    from models import names
    from models.address import Address
    from models.commands import ReleaseStock
    from models.fulfilment import (
        CancelFulfilment,
        FulfilmentOutcome,
        FulfilmentProgress,
        FulfilShipment,
        OutcomeKind,
    )
    from models.order import PlaceOrder
    from models.shipment import ShipmentState
    from workflows.order_book import OrderBook
    from workflows.order_state import OrderState, ShipmentRuntime
    from workflows.policies import local

Fulfilment = ChildWorkflowHandle[object, FulfilmentOutcome]

# The node kinds with a protocol of their own (NodeKind value -> workflow type); a shipment from any
# other kind, or planned before plans named the kind, runs the DC's.
PROTOCOLS: dict[str, str] = {
    "dc": names.DC_FULFILMENT_WORKFLOW,
    "3pl": names.THREE_PL_FULFILMENT_WORKFLOW,
    "dropship": names.DROPSHIP_FULFILMENT_WORKFLOW,
    "store": names.STORE_FULFILMENT_WORKFLOW,
}
# Orders that started fulfilments before a node's kind chose the protocol replay the DC's for all.
BY_NODE_KIND = "fulfilment-by-node-kind"


class Shipments:
    def __init__(self, state: OrderState, book: OrderBook) -> None:
        self._state = state
        self._book = book
        self.handles: dict[str, Fulfilment] = {}

    def running(self) -> list[ShipmentRuntime]:
        return [s for s in self._state.shipments.values() if s.started and not s.finished]

    async def start(self, shipment: ShipmentRuntime) -> Fulfilment:
        """Hand a planned, reserved shipment to its node's fulfilment. It runs on after the order
        closes only if the order fails after the shipment left (it then finishes on its own)."""
        order, sid = self._state.order, shipment.view.shipment_id
        handle: Fulfilment = await workflow.start_child_workflow(
            protocol_of(shipment),
            FulfilShipment(order_id=order.order_id, order_workflow_id=workflow.info().workflow_id,
                           shipment=shipment.view, reservation_keys=shipment.reservation_keys,
                           planned=shipment.planned, ship_to=_ship_to(self._state, shipment),
                           service_level=order.service_level,
                           customer=order.customer, currency=order.currency, **_pickup_flags(shipment, order)),
            id=names.fulfilment_workflow_id(sid), task_queue=workflow.info().task_queue, result_type=FulfilmentOutcome,
            task_timeout=workflow.info().task_timeout, parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"fulfil {sid} from {shipment.view.node_id}",
        )
        shipment.started = True
        self.handles[sid] = handle
        return handle

    def take_progress(self, progress: FulfilmentProgress) -> ShipmentRuntime | None:
        """The fulfilment's new view; the lines it dropped at the order's request are cancelled (lines
        it handed back are not: the order plans them again)."""
        shipment = self._state.shipments.get(progress.shipment.shipment_id)
        if shipment is None or shipment.finished:
            return None
        kept = {(line.line_no, line.sku): line.quantity for line in progress.shipment.lines}
        for line in progress.handed_back:
            kept[(line.line_no, line.sku)] = kept.get((line.line_no, line.sku), 0) + line.quantity
        for line in shipment.view.lines:
            dropped = line.quantity - kept.get((line.line_no, line.sku), 0)
            if dropped > 0:
                self._state.cancel_quantity(line.line_no, dropped, shipment.cancel_reason or "cancelled")
        shipment.view = progress.shipment
        self._state.events.append(progress.note)
        return shipment

    def take_outcome(self, sid: str, outcome: FulfilmentOutcome) -> None:
        """The fulfilment ended. Cancelled lines are cancelled on the order (but for those the outcome
        sends back to `resource`: a partial cancel the node could only take whole); handed-back lines are for
        the order to plan again (their shipment shows cancelled, its stock released by the node's
        fulfilment)."""
        shipment = self._state.shipments[sid]
        shipment.finished = True
        if outcome.kind is OutcomeKind.CANCELLED and shipment.view.state is not ShipmentState.CANCELLED:
            kept = {(line.line_no, line.sku): line.quantity for line in outcome.resource}
            for line in outcome.shipment.lines:
                quantity = line.quantity - kept.get((line.line_no, line.sku), 0)
                if quantity > 0:
                    self._state.cancel_quantity(line.line_no, quantity, outcome.reason or "cancelled")
        shipment.view = outcome.shipment
        self._state.events.append(f"{sid} {outcome.kind.value}" + (f": {outcome.reason}" if outcome.reason else ""))

    def take_failure(self, sid: str, reason: str) -> None:
        """The fulfilment failed for good; by contract it voided its label and released its stock."""
        shipment = self._state.shipments[sid]
        shipment.finished = True
        if shipment.view.state is not ShipmentState.CANCELLED:
            shipment.view.state = ShipmentState.CANCELLED
            for line in shipment.view.lines:
                self._state.cancel_quantity(line.line_no, line.quantity, reason)
        self._state.events.append(f"{sid} failed: {reason}")

    async def cancel(self, shipment: ShipmentRuntime, reason: str, skus: set[str] | None = None) -> None:
        """Cancel a shipment (or drop `skus` from it). One never released is undone here at once; a
        released one is asked, and answers through its progress or its outcome."""
        shipment.cancel_reason = reason
        if skus is None:
            shipment.cancel_requested = True
        if shipment.started:
            if not shipment.finished:
                request = CancelFulfilment(skus=sorted(skus) if skus is not None else None, reason=reason)
                try:
                    await self.handles[shipment.view.shipment_id].signal(names.CANCEL_FULFILMENT_SIGNAL, request)
                except FailureError as err:  # it ended meanwhile: its outcome, on its way, answers
                    if isinstance(err, TemporalCancelledError):
                        raise
                    self._state.events.append(f"{shipment.view.shipment_id}: cancel not delivered ({err})")
            return
        if skus is None:
            await self.undo_unreleased(shipment, reason)
            return
        keys = [shipment.reservation_keys.pop(sku) for sku in sorted(skus)]
        for line in shipment.view.lines:
            if line.sku in skus:
                self._state.cancel_quantity(line.line_no, line.quantity, reason)
        shipment.view.lines = [line for line in shipment.view.lines if line.sku not in skus]
        await local(InventoryActivities.release, ReleaseStock(keys=keys, reason=reason))
        await self._book.save_shipments([shipment])

    async def undo_unreleased(self, shipment: ShipmentRuntime, reason: str) -> None:
        """Release the stock of a shipment no fulfilment has started, and cancel its lines."""
        await local(InventoryActivities.release,
                    ReleaseStock(keys=list(shipment.reservation_keys.values()), reason=reason))
        shipment.view.state = ShipmentState.CANCELLED
        for line in shipment.view.lines:
            self._state.cancel_quantity(line.line_no, line.quantity, reason)
        await self._book.save_shipments([shipment])


def _ship_to(state: OrderState, shipment: ShipmentRuntime) -> Address:
    """Where the shipment goes: the order's ship-to address, or, for a pickup, its store (a pickup
    order's shipment that is not a pickup was shipped to the customer instead)."""
    if state.order.pickup is not None and not shipment.view.pickup and state.order.ship_to is not None:
        return state.order.ship_to
    return state.ship_to


def _pickup_flags(shipment: ShipmentRuntime, order: PlaceOrder) -> dict[str, bool]:
    """A pickup order's shipments are collected (at the curb, for a curbside order)."""
    if not shipment.view.pickup or order.pickup is None:
        return {}
    return {"pickup": True, "curbside": order.pickup.curbside}


def protocol_of(shipment: ShipmentRuntime) -> str:
    """The fulfilment workflow type for the shipment's node kind (the DC's in histories from before)."""
    kind = shipment.planned.node_kind if shipment.planned is not None else None
    if kind is None or kind == "dc" or kind not in PROTOCOLS or not workflow.patched(BY_NODE_KIND):
        return names.DC_FULFILMENT_WORKFLOW
    return PROTOCOLS[kind]
