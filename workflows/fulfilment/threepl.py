"""A 3PL's fulfilment (ShipBob): the shipment is placed as an order through the 3PL's order API, and the
3PL's webhooks (turned into shipment events by the gateway) move it: shipped with the 3PL's carrier
and tracking (the 3PL buys the label; we buy none), then delivered. Stock is committed when it ships;
the customer hears when it ships, with tracking, and when it arrives.

A cancel once the order is placed is asked of the 3PL through its cancel API: it cancels (stock
released, outcome cancelled) or refuses because the order shipped (the shipped webhook decides). A 3PL
that refuses the order outright (an unknown SKU, an address it will not ship to) or cancels it on its
own (a `rejected` event) hands the shipment back for the order to plan elsewhere.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.records import RecordActivities
    from activities.threepl import ThreePLOrderActivities
    from models import names
    from models.fulfilment import FulfilmentOutcome, FulfilShipment
    from models.network import Node
    from models.shipment import ShipmentEventType, ShipmentState
    from models.threepl import CancelThreePLOrder, PlaceThreePLOrder, ThreePLCancelAnswer, ThreePLOrderPlaced
    from workflows.fulfilment.protocol import FulfilmentProtocol
    from workflows.policies import describe, local

# Calls to the 3PL's order API: retried with backoff (a 429 waits what the 3PL asked), a refusal is final.
THREE_PL_API: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                maximum_interval=timedelta(minutes=1), maximum_attempts=10,
                                non_retryable_error_types=["ProviderRejected", "InvalidData"]),
}
PROVIDER_REJECTED = "ProviderRejected"


@workflow.defn(name=names.THREE_PL_FULFILMENT_WORKFLOW)
class ThreePLFulfilmentWorkflow(FulfilmentProtocol):
    """Input FulfilShipment, result FulfilmentOutcome: delivered; cancelled (the 3PL agreed to a cancel,
    or the order cancelled before the 3PL had it); handed back (the 3PL refused the order or cancelled it
    on its own). Fails with `FulfilmentFailed` when the 3PL cannot be reached for good, after releasing
    the stock."""

    ACCEPTS = frozenset({
        ShipmentEventType.SHIPPED, ShipmentEventType.IN_TRANSIT, ShipmentEventType.OUT_FOR_DELIVERY,
        ShipmentEventType.DELIVERED, ShipmentEventType.EXCEPTION, ShipmentEventType.CANCELLED,
        ShipmentEventType.REJECTED})

    @workflow.init
    def __init__(self, request: FulfilShipment) -> None:
        super().__init__(request)
        self._node: Node | None = None
        self._placed: ThreePLOrderPlaced | None = None

    @workflow.run
    async def run(self, request: FulfilShipment) -> FulfilmentOutcome:
        return await self._fulfil(self._serve())

    async def _serve(self) -> FulfilmentOutcome | None:
        """Place the order with the 3PL (handed back if it refuses it), then follow its webhooks."""
        self._node = await local(RecordActivities.get_node, self._state.request.shipment.node_id)
        if (refused := await self._place_order()) is not None:
            return await self._hand_back(refused)
        return await self._follow()

    async def _place_order(self) -> str | None:
        """Hand the shipment to the 3PL as an order (unless the order cancelled first). From the moment
        it is sent the 3PL may have it, so a cancel from then on is asked of the 3PL. Answers why the
        3PL refused the order, or None."""
        state, request = self._state, self._state.request
        if state.cancel is not None:
            return None
        view = state.view
        view.state = ShipmentState.RELEASED
        provider = self._node.provider if self._node is not None else None
        try:
            self._placed = await workflow.execute_activity_method(
                ThreePLOrderActivities.place_order, PlaceThreePLOrder(
                    shipment_id=view.shipment_id, order_id=request.order_id, node_id=view.node_id, lines=view.lines,
                    ship_to=request.ship_to, customer=request.customer, service_level=request.service_level,
                    provider=provider),
                activity_id=f"3pl-order-{view.shipment_id}", summary=f"3PL order {view.shipment_id}", **THREE_PL_API)
        except ActivityError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.type == PROVIDER_REJECTED:
                return f"{view.node_id} refused the order: {describe(err)}"
            raise
        await self._publish(ShipmentState.RELEASED,
                            f"{view.shipment_id} placed with {view.node_id} as order {self._placed.provider_order_id}")
        return None

    async def _request_cancel(self, reason: str) -> bool | None:
        """Ask the 3PL to cancel its order: True it did, False it refused (it has shipped, or will: its
        webhooks decide), None when it could not be asked (its answer comes as a webhook, or it ships)."""
        if self._placed is None:  # the 3PL never took an order for it
            return True
        try:
            answer: ThreePLCancelAnswer = await workflow.execute_activity_method(
                ThreePLOrderActivities.cancel_order, CancelThreePLOrder(
                    shipment_id=self._state.view.shipment_id, provider_order_id=self._placed.provider_order_id,
                    provider=self._node.provider if self._node is not None else None),
                summary=f"cancel 3PL order {self._placed.provider_order_id}", **THREE_PL_API)
        except ActivityError as err:
            self._note(f"the 3PL could not be asked to cancel: {describe(err)}")
            return None
        if not answer.cancelled:
            self._note(f"{self._state.view.node_id} refused the cancel: {answer.reason}")
        return answer.cancelled
