"""The order's reroute step: an operator moves a shipment that is not yet released to another node.

The order's runner takes it in turn like every other step, so nothing else (a release, a wave's plan,
a cancel) runs while it does; it checks the request again first, since a release that began between
the request's validation and its turn owns the shipment from then on.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.inventory import InventoryActivities
    from models.reroute import REROUTE_REFUSED, ReplanShipment, RerouteShipment, ShipmentReplanned, ShipmentRerouted
    from workflows.order_book import OrderBook
    from workflows.order_state import OrderState, check_reroutable
    from workflows.policies import describe, local


async def reroute(state: OrderState, book: OrderBook, request: RerouteShipment) -> ShipmentRerouted:
    """Re-plan the shipment from the requested node, move its reservations (one transaction), and
    record the move on the shipment, the decision, the events and the read model. Raises a
    `RerouteRefused` ApplicationError naming why when it cannot, with nothing changed."""
    try:
        shipment = check_reroutable(state, request)
    except ValueError as err:
        raise _refused(str(err)) from None
    order, sid = state.order, request.shipment_id
    number = state.reroutes.get(sid, 0) + 1
    from_node = shipment.view.node_id
    delivery_before = shipment.planned.delivery_date if shipment.planned else None
    try:
        replanned: ShipmentReplanned = await local(InventoryActivities.reroute, ReplanShipment(
            order_id=order.order_id, shipment_id=sid, from_node_id=from_node, node_id=request.node_id,
            lines=shipment.view.lines, release_keys=list(shipment.reservation_keys.values()), reroute_no=number,
            ship_to=state.ship_to, currency=order.currency, service_level=order.service_level,
            deliver_by=order.promised_delivery, rules=state.rules, decision=state.decision,
            delivery_before=delivery_before, actor=request.actor, reason=request.reason))
    except ActivityError as err:
        # Whether the stock moved is unknown: the next reroute numbers its keys past this one's.
        state.reroutes[sid] = number
        state.events.append(f"{sid}: reroute to {request.node_id} by {request.actor} failed: {describe(err)}")
        raise _refused(f"the reroute could not be completed: {describe(err)}") from err
    if not replanned.ok or replanned.planned is None:
        raise _refused(f"cannot reroute {sid} to {request.node_id}: {replanned.reason}")
    state.reroutes[sid] = number
    shipment.view.node_id = request.node_id
    shipment.planned = replanned.planned
    shipment.reservation_keys = dict(replanned.reservation_keys)
    if replanned.decision is not None:
        state.decision = replanned.decision
    state.events.append(replanned.explanation)
    await book.save_shipments([shipment])
    await book.update_status()
    return ShipmentRerouted(
        order_id=order.order_id, shipment=shipment.view.model_copy(deep=True), from_node_id=from_node,
        to_node_id=request.node_id,
        currency=state.decision.currency if state.decision is not None else order.currency,
        cost_before_cents=replanned.cost_before_cents, cost_after_cents=replanned.cost_after_cents,
        delivery_before=delivery_before, delivery_after=replanned.delivery_after, explanation=replanned.explanation)


def _refused(reason: str) -> ApplicationError:
    return ApplicationError(reason, type=REROUTE_REFUSED, non_retryable=True)
