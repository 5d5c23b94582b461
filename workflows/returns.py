"""ReturnWorkflow: one RMA from request to refund.

Lifecycle: check against the order (delivered, not yet returned, inside the window) → choose the
return node → buy a return label → notify → wait for `received` (the `return_event` update) or for the
label to expire → restock at the receiving node → record the refund → notify.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.inventory import InventoryActivities
    from activities.records import RecordActivities
    from models import names
    from models.commands import (
        BuyLabel,
        Direction,
        LoadReturnContext,
        RateShipment,
        RestockItem,
        RestockReturn,
        ReturnContext,
        VoidLabel,
    )
    from models.fulfilment import EVENT_REFUSED
    from models.money import Money
    from models.notify import NotificationKind
    from models.records import ReturnRecord
    from models.returns import (
        ReturnEvent,
        ReturnEventApplied,
        ReturnStatus,
        ReturnView,
        StartReturn,
        receipt_refusal,
    )
    from workflows import search_attributes as search
    from workflows.notices import notice_to, send_notice
    from workflows.policies import CARRIER, COMPENSATION, local



@workflow.defn(name=names.RETURN_WORKFLOW)
class ReturnWorkflow:
    @workflow.init
    def __init__(self, request: StartReturn) -> None:
        self._request = request
        self._created_at = workflow.now()
        self._view = ReturnView(rma=request.rma, order_id=request.order_id,
                                workflow_id=names.return_workflow_id(request.rma), status=ReturnStatus.REQUESTED,
                                lines=request.lines, reason=request.reason)
        self._received: ReturnEvent | None = None
        self._context: ReturnContext | None = None

    @workflow.run
    async def run(self, request: StartReturn) -> ReturnView:
        context = self._context = await local(RecordActivities.load_return_context, LoadReturnContext(
            rma=request.rma, order_id=request.order_id, lines=request.lines))
        await self._set_status(ReturnStatus.REQUESTED)
        if context.rejection is not None or context.order is None or context.return_node_id is None:
            self._view.rejection = context.rejection or "no node accepts returns"
            await self._set_status(ReturnStatus.REJECTED)
            await self._notify(NotificationKind.RETURN_REJECTED, {"reason": self._view.rejection})
            return self._view
        self._view.return_node_id = context.return_node_id
        self._view.refund = context.refund
        rated = await workflow.execute_activity_method(CarrierActivities.rate_shipment, RateShipment(
            reference=f"rma-{request.rma}", node_id=context.return_node_id, customer=context.order.ship_to,
            units=sum(line.quantity for line in request.lines), direction=Direction.RETURN,
        ), summary="rate return label", **CARRIER)
        label = self._view.label = await workflow.execute_activity_method(
            CarrierActivities.buy_label,
            BuyLabel(reference=f"rma-{request.rma}", carrier_shipment_id=rated.carrier_shipment_id,
                     rate_id=rated.rate_id),
            activity_id=f"buy-return-label-{request.rma}", summary="buy return label", **CARRIER)
        await self._set_status(ReturnStatus.AWAITING_RECEIPT)
        await self._notify(NotificationKind.RETURN_LABEL, {"tracking_number": label.tracking_number,
                                                          "label_url": label.label_url or "", "ship_to_node":
                                                          context.return_node_id})
        try:
            await workflow.wait_condition(lambda: self._received is not None,
                                          timeout=timedelta(days=context.label_expiry_days),
                                          timeout_summary="return label expiry")
        except TimeoutError:
            # Expired from now on: a receipt arriving while the label is voided is refused, not accepted.
            self._view.status = ReturnStatus.EXPIRED
            await workflow.execute_activity_method(
                CarrierActivities.void_label, VoidLabel(carrier_shipment_id=label.carrier_shipment_id),
                summary="void unused return label", **COMPENSATION)
            await self._set_status(ReturnStatus.EXPIRED)
            return self._view
        assert self._received is not None
        node_id = self._received.node_id or context.return_node_id
        self._view.received_at = workflow.now()
        self._view.received_event_id = self._received.event_id
        await self._set_status(ReturnStatus.RECEIVED)
        await local(InventoryActivities.restock_return, RestockReturn(rma=request.rma, items=[
            RestockItem(node_id=node_id, sku=line.sku, quantity=line.quantity, key=f"rma-{request.rma}:{line.sku}")
            for line in request.lines]))
        await self._set_status(ReturnStatus.COMPLETED)
        refund = context.refund
        await self._notify(NotificationKind.REFUND_ISSUED, {} if refund else {"refund": "0"},
                           amounts={"refund": refund} if refund else None)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view

    @workflow.query(name=names.STATUS_QUERY)
    def status(self) -> ReturnView:
        return self._view

    @workflow.update(name=names.RETURN_EVENT_UPDATE)
    def return_event(self, event: ReturnEvent) -> ReturnEventApplied:
        """The parcel arrived: the run goes on to restock and refund. An event id already applied is
        answered as `replay` (nothing moves). A return that cannot take the receipt raises
        ApplicationError(type=EVENT_REFUSED, details=(status,)): the validator refuses before
        anything is written; this re-check covers two receipts accepted in one workflow task."""
        if self._is_replay(event):
            return self._replayed(event)
        self._refuse_unless_awaiting_receipt()
        self._received = event
        return ReturnEventApplied(rma=self._request.rma, type=event.type,
                                  from_status=ReturnStatus.AWAITING_RECEIPT, to_status=ReturnStatus.RECEIVED)

    @return_event.validator
    def _validate_return_event(self, event: ReturnEvent) -> None:
        if not self._is_replay(event):
            self._refuse_unless_awaiting_receipt()

    @workflow.signal(name=names.RETURN_EVENT_UPDATE)
    def _return_event_signal(self, event: ReturnEvent) -> None:
        """The receipt as it came before it was an update: kept so that histories holding this signal
        (returns still open when the update shipped) replay and finish."""
        if self._received is None and self._view.status is ReturnStatus.AWAITING_RECEIPT:
            self._received = event

    def _receipt_status(self) -> ReturnStatus:
        """The status as a receipt sees it: received as soon as one is taken, before the run records it."""
        if self._received is not None and self._view.status is ReturnStatus.AWAITING_RECEIPT:
            return ReturnStatus.RECEIVED
        return self._view.status

    def _is_replay(self, event: ReturnEvent) -> bool:
        return (event.event_id is not None and self._received is not None
                and self._received.event_id == event.event_id)

    def _replayed(self, event: ReturnEvent) -> ReturnEventApplied:
        current = self._receipt_status()
        return ReturnEventApplied(rma=self._request.rma, type=event.type, from_status=current, to_status=current,
                                  replay=True)

    def _refuse_unless_awaiting_receipt(self) -> None:
        current = self._receipt_status()
        if current is not ReturnStatus.AWAITING_RECEIPT:
            raise ApplicationError(receipt_refusal(self._request.rma, current), current.value, type=EVENT_REFUSED,
                                   non_retryable=True)

    async def _set_status(self, status: ReturnStatus) -> None:
        self._view.status = status
        workflow.upsert_search_attributes([search.RETURN_STATUS.value_set(status.value),
                                           search.ORDER_ID.value_set(self._request.order_id)])
        label = self._view.label
        await local(RecordActivities.record_return, ReturnRecord(
            rma=self._request.rma, order_id=self._request.order_id, status=status, lines=self._request.lines,
            reason=self._request.reason, return_node_id=self._view.return_node_id,
            tracking_number=label.tracking_number if label else None,
            refund_amount=self._view.refund.amount if self._view.refund else None,
            currency=self._view.refund.currency if self._view.refund else None,
            created_at=self._created_at, received_at=self._view.received_at,
        ))

    async def _notify(self, kind: NotificationKind, facts: dict[str, str],
                      amounts: dict[str, Money] | None = None) -> None:
        order = self._context.order if self._context else None
        if order is None:
            return
        note = notice_to(order.customer, kind, self._request.rma, facts, amounts)
        if (outcome := await send_notice(note)) is not None:
            workflow.logger.warning("notification %s for %s %s", kind.value, self._request.rma, outcome)

