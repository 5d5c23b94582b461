"""A DC's fulfilment: the label is rate-shopped and bought once, the shipment is released to the
node's WMS, and the node's picked/packed/shipped events (and the carrier's in_transit/delivered)
move it on. Stock is committed when it leaves; the customer hears when it ships and arrives.

Ends with `delivered`, or `cancelled` when the order asked before it left (label voided, stock
released). A carrier call that fails for good compensates what was done and fails the workflow,
so the order fails too (the order's compensations run for its other shipments).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from models import names
    from models.commands import BuyLabel, RateShipment, ShipmentRated
    from models.fulfilment import FulfilmentOutcome, FulfilShipment, OutcomeKind
    from models.shipment import Label, ShipmentEventType, ShipmentState
    from workflows.fulfilment.protocol import FulfilmentProtocol
    from workflows.policies import CARRIER, describe


@workflow.defn(name=names.DC_FULFILMENT_WORKFLOW)
class DcFulfilmentWorkflow(FulfilmentProtocol):
    """Input FulfilShipment, result FulfilmentOutcome (delivered, cancelled, or handed back when the WMS
    rejects the shipment or picks none of it; a partial short pick hands its shortfall back through
    the progress and goes on). Fails with
    `FulfilmentFailed` when a carrier call fails for good, after voiding and releasing."""

    ACCEPTS = frozenset({
        ShipmentEventType.ACCEPTED, ShipmentEventType.REJECTED, ShipmentEventType.PICKED,
        ShipmentEventType.SHORT_PICKED, ShipmentEventType.PACKED, ShipmentEventType.SHIPPED,
        ShipmentEventType.IN_TRANSIT, ShipmentEventType.OUT_FOR_DELIVERY, ShipmentEventType.DELIVERED,
        ShipmentEventType.EXCEPTION, ShipmentEventType.CANCELLED})

    @workflow.init
    def __init__(self, request: FulfilShipment) -> None:
        super().__init__(request)

    @workflow.run
    async def run(self, request: FulfilShipment) -> FulfilmentOutcome:
        try:
            await self._buy_label()
            if self._state.cancel is None:
                await self._release()
                while self._open():
                    await self._handle_next()
                if (handed_back := await self._end_if_handed_back()) is not None:
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    return handed_back
            if self._state.cancel is not None and not self._state.left:
                await self._compensate(self._state.cancel.reason)
        except ActivityError as err:
            await self._compensate(f"fulfilment failed: {describe(err)}")
            raise ApplicationError(describe(err), type="FulfilmentFailed", non_retryable=True) from err
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._state.view.state is ShipmentState.CANCELLED:
            return self._outcome(OutcomeKind.CANCELLED, self._state.cancel.reason if self._state.cancel else None)
        return self._outcome(OutcomeKind.DELIVERED)

    async def _buy_label(self) -> None:
        """Rate, then buy unless the order cancelled meanwhile (a label being bought is waited for,
        so that it can be voided)."""
        request, sid = self._state.request, self._state.request.shipment.shipment_id
        rated: ShipmentRated = await workflow.execute_activity_method(
            CarrierActivities.rate_shipment, RateShipment(
                reference=sid, node_id=request.shipment.node_id, customer=request.ship_to,
                units=sum(line.quantity for line in request.shipment.lines), service_level=request.service_level,
                **self._priced()),
            summary=f"rate {sid}", **CARRIER)
        if self._state.cancel is not None:
            return
        label: Label = await workflow.execute_activity_method(
            CarrierActivities.buy_label,
            BuyLabel(reference=sid, carrier_shipment_id=rated.carrier_shipment_id, rate_id=rated.rate_id),
            activity_id=f"buy-label-{sid}", summary=f"buy label {sid}", **CARRIER)
        self._take_label(label)

    async def _release(self) -> None:
        """Hand the shipment to the node: today the node's WMS reads released shipments from the app DB."""
        view = self._state.view
        view.state = ShipmentState.RELEASED
        await self._publish(ShipmentState.RELEASED, f"{view.shipment_id} released: label {view.tracking_number}")

    def _priced(self) -> dict[str, object]:
        """The carrier service and weight sourcing priced the shipment with, for the label to match."""
        planned = self._state.request.planned
        if planned is None or planned.carrier is None:
            return {}
        return {"carrier": planned.carrier, "carrier_service": planned.carrier_service,
                "weight_oz": round(planned.weight_lb * 16, 1) if planned.weight_lb else None}

