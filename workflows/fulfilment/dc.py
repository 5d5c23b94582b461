"""A DC's fulfilment: the label is rate-shopped and bought once, the shipment is handed to the
node's WMS as its `hand_off` says, and the node's events (accepted, picked/packed/shipped, a reject or
short pick) and the carrier's (in_transit/delivered) move it on. Stock is committed when it leaves;
the customer hears when it ships and arrives.

Hand-off (docs/fulfilment-dc.md): a `webhook` node is sent a signed `shipment.released` (Standard
Webhooks), retried with backoff for up to `RELEASE_BUDGET`; it counts as released once delivered. A
WMS unreachable for that long, or answering 410, gets the shipment handed back (the order plans it
elsewhere): an unreachable WMS never fails the order. A `pull` node (the default) reads its released
shipments from the gateway and acknowledges them (an `accepted` event). A cancel once the node has
the shipment asks it: a webhook node by a signed `shipment.cancel_requested` whose answer decides, a
pull node by `cancel_requested` in the pull API (it answers with a `cancelled` event, or ships).

Ends with `delivered`, `cancelled` when the order asked before it left (label voided, stock
released), or `handed_back`. A carrier call that fails for good compensates what was done and fails
the workflow, so the order fails too (the order's compensations run for its other shipments).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.handoff import WEBHOOK_GONE, HandOffActivities
    from activities.records import RecordActivities
    from models import names
    from models.fulfilment import FulfilmentOutcome, FulfilShipment
    from models.handoff import (
        CANCEL_REQUESTED_MESSAGE,
        RELEASED_MESSAGE,
        ReleasedShipment,
        SendWebhook,
        WebhookDelivered,
    )
    from models.network import HandOff, HandOffKind, Node
    from models.shipment import ShipmentEventType, ShipmentState
    from workflows.fulfilment.protocol import FulfilmentProtocol
    from workflows.policies import describe, local

# Recorded DC histories release straight to the app DB; from this patch on, the node's hand_off decides.
HAND_OFF_PATCH = "dc-hand-off"
# How long an unreachable WMS is retried before the shipment is handed back: Standard Webhooks senders
# retry for about three days (PROVIDERS.md §6), with waits growing to an hour.
RELEASE_BUDGET = timedelta(days=3)
WEBHOOK_RELEASE: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "schedule_to_close_timeout": RELEASE_BUDGET,
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                                maximum_interval=timedelta(hours=1), non_retryable_error_types=[WEBHOOK_GONE]),
}
# A cancel request is asked once: no answer means the WMS answers later, by an event.
WEBHOOK_CANCEL: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(maximum_attempts=2),
}


@workflow.defn(name=names.DC_FULFILMENT_WORKFLOW)
class DcFulfilmentWorkflow(FulfilmentProtocol):
    """Input FulfilShipment, result FulfilmentOutcome (delivered, cancelled, or handed back when the WMS
    rejects the shipment, picks none of it, or cannot be reached for RELEASE_BUDGET; a partial short
    pick hands its shortfall back through the progress and goes on). Fails with `FulfilmentFailed`
    when a carrier call fails for good, after voiding and releasing."""

    ACCEPTS = frozenset({
        ShipmentEventType.ACCEPTED, ShipmentEventType.REJECTED, ShipmentEventType.PICKED,
        ShipmentEventType.SHORT_PICKED, ShipmentEventType.PACKED, ShipmentEventType.SHIPPED,
        ShipmentEventType.IN_TRANSIT, ShipmentEventType.OUT_FOR_DELIVERY, ShipmentEventType.DELIVERED,
        ShipmentEventType.EXCEPTION, ShipmentEventType.CANCELLED})

    @workflow.init
    def __init__(self, request: FulfilShipment) -> None:
        super().__init__(request)
        # None in histories from before HAND_OFF_PATCH (released to the app DB, a cancel taken at once).
        self._hand_off: HandOff | None = None

    @workflow.run
    async def run(self, request: FulfilShipment) -> FulfilmentOutcome:
        return await self._fulfil(self._serve())

    async def _serve(self) -> FulfilmentOutcome | None:
        """The label, then the release (unless the order cancelled meanwhile), then the node's events."""
        await self._buy_label()
        if self._state.cancel is not None:
            return None
        if (undelivered := await self._release()) is not None:
            return undelivered
        return await self._follow()

    async def _release(self) -> FulfilmentOutcome | None:
        """Hand the shipment to the node as its `hand_off` says; it is `released` once the node has it.
        The outcome when the WMS could not be reached (handed back); None otherwise, also when the
        order cancelled while the release was being delivered (the run then undoes it)."""
        view = self._state.view
        if workflow.patched(HAND_OFF_PATCH):
            self._hand_off = await self._read_hand_off()
            if self._hand_off.kind is HandOffKind.WEBHOOK:
                undelivered = await self._deliver_release()
                if undelivered is not None or self._state.cancel is not None:
                    return undelivered
        view.state = ShipmentState.RELEASED
        how = "pulled by the node" if self._hand_off is None or self._hand_off.kind is HandOffKind.PULL \
            else "sent to the node's WMS"
        await self._publish(ShipmentState.RELEASED,
                            f"{view.shipment_id} released ({how}): label {view.tracking_number}")
        return None

    async def _read_hand_off(self) -> HandOff:
        """The node's hand-off as configured now; a node no longer known is treated as pulling."""
        node_id = self._state.view.node_id
        try:
            node: Node = await local(RecordActivities.get_node, node_id)
        except ActivityError as err:
            self._note(f"node {node_id} unreadable ({describe(err)}): the shipment waits to be pulled")
            return HandOff(kind=HandOffKind.PULL)
        return node.hand_off or HandOff(kind=HandOffKind.PULL)

    async def _deliver_release(self) -> FulfilmentOutcome | None:
        """Post `shipment.released`, retried durably; a cancel from the order meanwhile stops trying
        (the node never had it). The WMS unreachable for RELEASE_BUDGET, or gone (410): handed back."""
        sid, node_id = self._state.view.shipment_id, self._state.view.node_id
        sending = workflow.start_activity_method(
            HandOffActivities.deliver_release, self._webhook(RELEASED_MESSAGE), summary=f"release {sid} to {node_id}",
            **WEBHOOK_RELEASE)
        await workflow.wait_condition(lambda: sending.done() or self._state.cancel is not None)
        if not sending.done():
            sending.cancel()
        try:
            await sending
        except ActivityError as err:
            if self._state.cancel is not None:
                return None
            return await self._hand_back(f"the WMS of {node_id} did not take the shipment: {describe(err)}")
        return None

    async def _request_cancel(self, reason: str) -> bool | None:
        """A webhook node is sent a signed `shipment.cancel_requested`; its answer decides (no answer:
        it answers later, by event). A pull node has the shipment once it acknowledged it: until then
        the cancel is taken at once (the shipment leaves its pull list, a late ack is refused); after,
        it sees `cancel_requested` in the pull API and answers later (a `cancelled` event, or ships)."""
        if self._hand_off is None:  # a history from before the node was asked
            return True
        if self._hand_off.kind is not HandOffKind.WEBHOOK:
            return True if self._state.view.state is ShipmentState.RELEASED else None
        sid = self._state.view.shipment_id
        try:
            delivered: WebhookDelivered = await workflow.execute_activity_method(
                HandOffActivities.ask_to_cancel, self._webhook(CANCEL_REQUESTED_MESSAGE, cancel_requested=True),
                summary=f"ask {self._state.view.node_id} to cancel {sid}", **WEBHOOK_CANCEL)
        except ActivityError as err:
            self._note(f"{sid}: cancel request not answered ({describe(err)})")
            return None
        return delivered.answer.decision

    async def _request_partial_cancel(self, skus: set[str], reason: str) -> bool:
        """A pull node that has not acknowledged the shipment reads it without those lines; a WMS that
        has it cannot drop lines (it is asked to cancel the whole shipment, the rest is re-sourced)."""
        if self._hand_off is None or self._hand_off.kind is not HandOffKind.WEBHOOK:
            return self._state.view.state is ShipmentState.RELEASED
        return False

    def _webhook(self, message_type: str, *, cancel_requested: bool = False) -> SendWebhook:
        state, view, hand_off = self._state, self._state.view, self._hand_off
        if hand_off is None or hand_off.url is None or hand_off.secret_ref is None:  # HandOff validates this
            raise ApplicationError("a webhook hand_off needs url and secret_ref", type="InvalidData",
                                   non_retryable=True)
        data = ReleasedShipment(
            shipment_id=view.shipment_id, order_id=state.request.order_id, node_id=view.node_id,
            state=ShipmentState.RELEASED if view.state is ShipmentState.PENDING else view.state,
            lines=view.lines, ship_to=state.request.ship_to, carrier=view.carrier, service=view.service,
            tracking_number=view.tracking_number, label_url=view.label_url, label_format=view.label_format,
            cancel_requested=cancel_requested)
        return SendWebhook(url=hand_off.url, secret_ref=hand_off.secret_ref,
                           message_id=f"msg_{view.shipment_id}_{message_type.replace('.', '_')}",
                           type=message_type, data=data)
