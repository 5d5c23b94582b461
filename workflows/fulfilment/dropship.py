"""A dropship vendor's fulfilment: a purchase order out, the vendor's accept or reject within its SLA,
then its ship notice (it buys its own label) and the carrier's tracking.

The shipment is released (recorded as handed to the vendor) and its PO sent, signed, with durable
retries. The vendor must answer within `sla.accept_minutes` (DEFAULT_ACCEPT_MINUTES when the node sets
none): an `accepted`, or a `shipped` straight away. A reject hands the whole shipment back; so does
silence, after the PO is cancelled at the vendor (a vendor that answers that it has shipped after all
is waited for instead). After `shipped` (carrier and tracking number from the vendor) stock is
committed and the customer told; in_transit, out_for_delivery and delivered follow. A cancel the order
asks once the vendor has the PO is a PO cancel: the vendor's answer decides.

Ends `delivered`, `cancelled`, or `handed_back` (rejected, silent, or the PO could not be delivered:
the order re-sources without this vendor). Fails with `FulfilmentFailed` only when the node cannot be
read.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.dropship import DropshipActivities
    from activities.records import RecordActivities
    from models import names
    from models.dropship import CancelPurchaseOrder, PurchaseOrderSent, SendPurchaseOrder
    from models.fulfilment import FulfilmentOutcome, FulfilShipment
    from models.network import Node, ProviderSettings
    from models.shipment import ShipmentEventType, ShipmentState
    from workflows.fulfilment.protocol import FulfilmentProtocol
    from workflows.policies import describe, local

# A vendor that sets no accept SLA has a day to acknowledge a PO: the usual window for a PO
# acknowledgement (EDI 855) in dropship agreements.
DEFAULT_ACCEPT_MINUTES = 24 * 60

# Sending a PO: retried with backoff while the vendor is unreachable, for at most an hour; then the
# shipment is handed back. A refusal (bad signature, conflicting PO, 4xx) hands it back at once.
PURCHASE_ORDER: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "schedule_to_close_timeout": timedelta(hours=1),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                maximum_interval=timedelta(minutes=2),
                                non_retryable_error_types=["ProviderRejected", "InvalidData"]),
}
# A PO cancel: a shorter budget, since the order's cancel waits on it; undelivered, the vendor is
# taken to answer later (its ship notice or a `cancelled` event).
PO_CANCEL: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "schedule_to_close_timeout": timedelta(minutes=10),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                maximum_interval=timedelta(minutes=1),
                                non_retryable_error_types=["ProviderRejected", "InvalidData"]),
}


@workflow.defn(name=names.DROPSHIP_FULFILMENT_WORKFLOW)
class DropshipFulfilmentWorkflow(FulfilmentProtocol):
    """Input FulfilShipment, result FulfilmentOutcome (delivered, cancelled, or handed back when the
    vendor rejects the PO, stays silent past its accept SLA, or cannot be sent it)."""

    ACCEPTS = frozenset({
        ShipmentEventType.ACCEPTED, ShipmentEventType.REJECTED, ShipmentEventType.SHIPPED,
        ShipmentEventType.IN_TRANSIT, ShipmentEventType.OUT_FOR_DELIVERY, ShipmentEventType.DELIVERED,
        ShipmentEventType.EXCEPTION, ShipmentEventType.CANCELLED})

    @workflow.init
    def __init__(self, request: FulfilShipment) -> None:
        super().__init__(request)
        self._provider: ProviderSettings | None = None
        self._accept_minutes = DEFAULT_ACCEPT_MINUTES

    @workflow.run
    async def run(self, request: FulfilShipment) -> FulfilmentOutcome:
        try:
            node: Node = await local(RecordActivities.get_node, request.shipment.node_id)
        except ActivityError as err:
            await self._failed(err)
        self._provider = node.provider
        if node.sla is not None and node.sla.accept_minutes is not None:
            self._accept_minutes = node.sla.accept_minutes
        # Only the node's read fails the workflow; the steps after it settle without `_fulfil`'s catch.
        return await self._settle(self._serve())

    async def _serve(self) -> FulfilmentOutcome | None:
        """Release and send the PO (unless the order cancelled first; handed back when it cannot be
        delivered), then follow the vendor."""
        if self._state.cancel is not None:
            return None
        await self._release()
        if (undelivered := await self._send_purchase_order()) is not None:
            return await self._hand_back(undelivered)
        return await self._follow_vendor()

    async def _release(self) -> None:
        """The vendor gets the shipment: from now on its events apply and a cancel is asked of it."""
        view = self._state.view
        view.state = ShipmentState.RELEASED
        await self._publish(ShipmentState.RELEASED, f"{view.shipment_id} released: purchase order to {view.node_id}")

    async def _send_purchase_order(self) -> str | None:
        """Send the PO; None when the vendor has it, else why it could not be delivered."""
        state, sid = self._state, self._state.view.shipment_id
        planned = state.request.planned
        try:
            sent: PurchaseOrderSent = await workflow.execute_activity_method(
                DropshipActivities.send_purchase_order, SendPurchaseOrder(
                    po_number=sid, order_id=state.request.order_id, node_id=state.view.node_id,
                    provider=self._vendor(), lines=list(state.view.lines), ship_to=state.request.ship_to,
                    service_level=state.request.service_level, currency=state.request.currency,
                    carrier=planned.carrier if planned else None,
                    carrier_service=planned.carrier_service if planned else None,
                    promised_by=planned.delivery_date if planned else None, issued_at=workflow.now()),
                activity_id=f"purchase-order-{sid}", summary=f"purchase order {sid}", **PURCHASE_ORDER)
        except ActivityError as err:
            return f"purchase order to {state.view.node_id} not delivered: {describe(err)}"
        self._note(f"{sid} purchase order sent" + (f" ({sent.vendor_reference})" if sent.vendor_reference else ""))
        return None

    async def _follow_vendor(self) -> FulfilmentOutcome | None:
        """Apply the vendor's and the carrier's events until the shipment is done, cancelled or handed
        back; the accept SLA runs until the vendor answers. The hand-back outcome, if it came to that."""
        deadline = workflow.now() + timedelta(minutes=self._accept_minutes)
        sla_running = True
        while self._open():
            if sla_running and not self._answered():
                remaining = deadline - workflow.now()
                if remaining <= timedelta(0):
                    sla_running = False
                    if await self._give_up_on_silence():
                        break
                    continue
                try:
                    await workflow.wait_condition(lambda: bool(self._inbox), timeout=remaining,
                                                  timeout_summary="vendor accept SLA")
                except TimeoutError:
                    continue
            await self._handle_next()
        return await self._end_if_handed_back()

    def _answered(self) -> bool:
        state = self._state
        return (state.view.state is not ShipmentState.RELEASED or state.cancel is not None
                or state.handed_back is not None)

    async def _give_up_on_silence(self) -> bool:
        """The vendor let its accept SLA run out: cancel the PO at the vendor, then hand the shipment back
        (or, when the order had asked to cancel it, end cancelled). A vendor that answers it has shipped
        is believed: its ship notice is waited for. True when the run should stop following the vendor."""
        state = self._state
        reason = f"no answer from {state.view.node_id} within {self._accept_minutes} min"
        answer = await self._request_cancel(reason)
        if answer is False or self._answered():
            return False
        if state.cancel_asked is not None:
            state.cancel = state.cancel_asked
        else:
            state.handed_back = reason
        return True

    async def _request_cancel(self, reason: str) -> bool | None:
        """The PO cancel: True cancelled, False refused (it shipped), None pending or undelivered."""
        sid = self._state.view.shipment_id
        try:
            answer = await workflow.execute_activity_method(
                DropshipActivities.cancel_purchase_order, CancelPurchaseOrder(
                    po_number=sid, node_id=self._state.view.node_id, provider=self._vendor(), reason=reason,
                    issued_at=workflow.now()),
                summary=f"cancel purchase order {sid}", **PO_CANCEL)
        except ActivityError as err:
            self._note(f"{sid}: purchase order cancel not delivered: {describe(err)}")
            return None
        return answer.answer.decision

    def _vendor(self) -> ProviderSettings:
        if self._provider is None:
            raise ApplicationError(f"node {self._state.view.node_id} has no provider settings",
                                   type="FulfilmentFailed", non_retryable=True)
        return self._provider
