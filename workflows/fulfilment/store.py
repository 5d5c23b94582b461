"""A store's fulfilment: ship-from-store, BOPIS (buy online, pick up in store) and curbside.

The shipment is released to the store at once (its list shows it). The store accepts within
`sla.accept_minutes` and picks within `sla.pick_minutes`, both counted in its business hours
(sourcing.business_hours; a store without hours counts every minute); a reject, a timeout or a pick
of nothing hands the shipment back, a partial short pick hands back the shortfall (the shared
protocol). Then:

- ship-from-store: the label is bought once accepted (rated and bought as a DC's is), and the
  store's packed/shipped events and the carrier's move it on to delivered;
- BOPIS: `ready_for_pickup` (within the pick SLA) tells the customer, with a pickup code made in
  the workflow; the store never sees the code: the customer shows it and the store posts it with
  `collected`, which is refused (409 naming pickup_code, nothing moves) when it does not match. After
  `MAX_WRONG_PICKUP_CODES` wrong codes the pickup is locked: every `collected` is refused (409 saying
  so) and the customer is told to contact the store, until an operator unlocks it (`unlock_pickup`). Not
  collected within `sla.pickup_days` (or `sla.pickup_minutes`) → cancelled: stock released (it is back
  on the shelf), customer told;
- curbside: as BOPIS, and the customer's `arrived` (with a parking spot) is published on the
  shipment (`curbside_spot`, in the store's list and the order's view) and the customer hears that
  the store knows.

A cancel asked of the store is a recall: before the store has picked (or while a pickup waits on
the shelf) it is cancelled at once and the store's list shows it cancelled; once picked, the store
confirms with `cancelled` (or it has shipped).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.records import RecordActivities
    from models import names
    from models.fulfilment import (
        EVENT_REFUSED,
        FulfilmentOutcome,
        FulfilShipment,
        OutcomeKind,
        PickupUnlocked,
        ShipmentEventApplied,
        UnlockPickup,
    )
    from models.network import Node, NodeSla
    from models.notify import NotificationKind
    from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
    from sourcing.business_hours import add_working_minutes
    from workflows.fulfilment.protocol import Applied, FulfilmentProtocol
    from workflows.policies import local

# When a store's SLA leaves one unset: an hour of its opening hours to accept, four to pick (or to
# have a pickup ready), a week for the customer to collect.
DEFAULT_ACCEPT_MINUTES = 60
DEFAULT_PICK_MINUTES = 240
DEFAULT_PICKUP_DAYS = 7
PICKUP_CODE_DIGITS = 6
# Wrong pickup codes one shipment takes before its pickup is locked (an operator unlocks it).
MAX_WRONG_PICKUP_CODES = 5
# From this patch on, a locked pickup tells the customer to contact the store.
PICKUP_CODE_ATTEMPTS = "pickup-code-attempts"

_E = ShipmentEventType
_COMMON = frozenset({_E.ACCEPTED, _E.REJECTED, _E.PICKED, _E.SHORT_PICKED, _E.PACKED, _E.CANCELLED})
SHIP_FROM_STORE_EVENTS = _COMMON | {_E.SHIPPED, _E.IN_TRANSIT, _E.OUT_FOR_DELIVERY, _E.DELIVERED, _E.EXCEPTION}
PICKUP_EVENTS = _COMMON | {_E.READY_FOR_PICKUP, _E.COLLECTED}
CURBSIDE_EVENTS = PICKUP_EVENTS | {_E.ARRIVED}

# States from which on the store has done the work of each step (a later event may skip one).
_ACCEPTED = {ShipmentState.ACCEPTED, ShipmentState.PICKED, ShipmentState.PACKED, ShipmentState.READY_FOR_PICKUP,
             ShipmentState.SHIPPED, ShipmentState.IN_TRANSIT, ShipmentState.OUT_FOR_DELIVERY,
             ShipmentState.DELIVERED, ShipmentState.COLLECTED}
_PICKED = _ACCEPTED - {ShipmentState.ACCEPTED}


# The shared protocol's update handler, as a plain function of the workflow and the event: the store
# redeclares the update to count wrong pickup codes (a validator may not change state).
_shared_handler = cast(Callable[[FulfilmentProtocol, ShipmentEvent], ShipmentEventApplied],
                       FulfilmentProtocol.shipment_event)


def accepts(request: FulfilShipment) -> frozenset[ShipmentEventType]:
    """The events a store's shipment takes: by its mode."""
    if request.curbside:
        return CURBSIDE_EVENTS
    return PICKUP_EVENTS if request.pickup else SHIP_FROM_STORE_EVENTS


@workflow.defn(name=names.STORE_FULFILMENT_WORKFLOW)
class StoreFulfilmentWorkflow(FulfilmentProtocol):
    """Input FulfilShipment (`pickup`, `curbside` choose the mode), result FulfilmentOutcome: delivered
    (collected, for a pickup), cancelled (the order's cancel, a recall the store confirmed, or a pickup
    never collected), or handed back (rejected, not accepted or not picked within the SLA, picked none).
    Fails with `FulfilmentFailed` when a carrier call fails for good, after voiding and releasing."""

    ACCEPTS = SHIP_FROM_STORE_EVENTS

    @workflow.init
    def __init__(self, request: FulfilShipment) -> None:
        super().__init__(request)
        self.ACCEPTS = accepts(request)
        self._state.view.pickup = request.pickup
        # Made here, deterministically; only the customer's notice carries it (never a log or the view).
        self._pickup_code = "".join(str(workflow.random().randint(0, 9)) for _ in range(PICKUP_CODE_DIGITS))
        self._wrong_codes = 0  # wrong pickup codes since the last unlock: MAX_WRONG_PICKUP_CODES locks it

    @property
    def _pickup_locked(self) -> bool:
        return self._wrong_codes >= MAX_WRONG_PICKUP_CODES

    @workflow.update(name=names.SHIPMENT_EVENT_UPDATE)
    def shipment_event(self, event: ShipmentEvent) -> ShipmentEventApplied:  # type: ignore[override]
        """The shared handler, redeclared to carry the store's pickup code check. A wrong code is
        counted here (a validator may not change state) and refused; the one that reaches
        MAX_WRONG_PICKUP_CODES locks the pickup and has the customer told."""
        if self._is_new_collection(event) and not hmac.compare_digest((event.pickup_code or "").strip(),
                                                                      self._pickup_code):
            self._wrong_codes += 1
            sid = self._state.view.shipment_id
            left = MAX_WRONG_PICKUP_CODES - self._wrong_codes
            if left > 0:
                raise self._refusal(f"pickup_code: not the code of shipment {sid} ({left} more tries before the "
                                    "pickup is locked)")
            self._note(f"{sid}: pickup locked after {MAX_WRONG_PICKUP_CODES} wrong codes")
            self._inbox.append(self._tell_customer_locked)
            raise self._refusal(self._locked_message())
        return _shared_handler(self, event)

    @shipment_event.validator
    def _validate_store_event(self, event: ShipmentEvent) -> None:
        self._validate_event(event)
        if self._is_new_collection(event) and self._pickup_locked:
            raise self._refusal(self._locked_message())

    @workflow.update(name=names.UNLOCK_PICKUP_UPDATE)
    def unlock_pickup(self, request: UnlockPickup) -> PickupUnlocked:
        """An operator lets the customer try codes again: the count of wrong codes starts over."""
        wrong, self._wrong_codes = self._wrong_codes, 0
        self._note(f"{self._state.view.shipment_id}: pickup unlocked by {request.actor}: {request.reason}")
        return PickupUnlocked(shipment_id=self._state.view.shipment_id, order_id=self._state.request.order_id,
                              wrong_codes=wrong, state=self._state.view.state)

    @unlock_pickup.validator
    def _validate_unlock(self, request: UnlockPickup) -> None:
        sid = self._state.view.shipment_id
        if not self._state.request.pickup:
            raise ApplicationError(f"shipment {sid} is not a pickup", type="NotLocked", non_retryable=True)
        if not self._pickup_locked:
            raise ApplicationError(f"the pickup of shipment {sid} is not locked ({self._wrong_codes} wrong codes)",
                                   type="NotLocked", non_retryable=True)

    def _is_new_collection(self, event: ShipmentEvent) -> bool:
        """A `collected` event this shipment has not applied (a replay of an applied one is answered as such)."""
        return event.type is ShipmentEventType.COLLECTED and event.event_id not in self._state.seen_event_ids

    def _locked_message(self) -> str:
        return (f"pickup_code: the pickup of shipment {self._state.view.shipment_id} is locked after "
                f"{MAX_WRONG_PICKUP_CODES} wrong codes; the customer must contact the store "
                "(an operator can unlock it)")

    def _refusal(self, message: str) -> ApplicationError:
        return ApplicationError(message, self._state.view.state.value, type=EVENT_REFUSED, non_retryable=True)

    async def _tell_customer_locked(self) -> None:
        if workflow.patched(PICKUP_CODE_ATTEMPTS):
            await self._notify(NotificationKind.PICKUP_LOCKED, {
                "shipment": self._state.view.shipment_id,
                "what to do": "too many wrong pickup codes were tried: please contact the store to collect"})

    @workflow.run
    async def run(self, request: FulfilShipment) -> FulfilmentOutcome:
        node: Node = await local(RecordActivities.get_node, request.shipment.node_id)
        return await self._fulfil(self._serve(node, node.sla or NodeSla()))

    async def _serve(self, node: Node, sla: NodeSla) -> FulfilmentOutcome | None:
        """Release to the store (unless the order cancelled first), accept, pick, then ship or wait for
        the customer. An outcome when the store handed the shipment back or a pickup expired; None when
        it ended otherwise (delivered, collected, or a cancel for `run` to undo)."""
        if self._state.cancel is not None:
            return None
        await self._release()
        hours, sid = sla.business_hours, self._state.view.shipment_id
        accept_minutes = sla.accept_minutes or DEFAULT_ACCEPT_MINUTES
        accept_by = add_working_minutes(hours, workflow.now(), accept_minutes)
        if not await self._until(lambda: self._state.view.state in _ACCEPTED, accept_by, "store-accept-sla"):
            return await self._timed_out(
                f"{node.node_id} did not accept {sid} within {accept_minutes} business minutes")
        if (ended := await self._stopped()) is not None or self._state.cancel is not None:
            return ended
        # A store that shipped at once labelled it.
        if not self._state.request.pickup and not self._state.left and (label := await self._buy_label()):
            await self._publish(self._state.published, f"{sid} label {label.tracking_number}")
        pick_minutes = sla.pick_minutes or DEFAULT_PICK_MINUTES
        pick_by = add_working_minutes(hours, workflow.now(), pick_minutes)
        done = _PICKED - {ShipmentState.PICKED, ShipmentState.PACKED} if self._state.request.pickup else _PICKED
        if not await self._until(lambda: self._state.view.state in done, pick_by, "store-pick-sla"):
            step = "ready for pickup" if self._state.request.pickup else "picked"
            return await self._timed_out(f"{node.node_id} had not {step} {sid} within {pick_minutes} business minutes")
        if (ended := await self._stopped()) is not None or self._state.cancel is not None:
            return ended
        if self._state.request.pickup:
            return await self._wait_for_customer(node, sla)
        return await self._follow()

    async def _wait_for_customer(self, node: Node, sla: NodeSla) -> FulfilmentOutcome | None:
        """Tell the customer (with the code) and wait the pickup window (`sla.pickup_minutes`, else
        `sla.pickup_days`) for the collection; then cancel it. The same timer either way: only its
        duration differs."""
        window = sla.pickup_window(DEFAULT_PICKUP_DAYS)
        until = workflow.now() + window
        await self._notify(NotificationKind.READY_FOR_PICKUP, {
            "shipment": self._state.view.shipment_id, "store": node.name, "pickup_code": self._pickup_code,
            "collect_by": f"{until:%Y-%m-%d %H:%M} UTC" if sla.pickup_minutes is not None else f"{until:%Y-%m-%d}"})
        if await self._until(lambda: self._state.view.state is ShipmentState.COLLECTED, until, "pickup-window"):
            while self._open():
                await self._handle_next()
            return await self._stopped()
        reason = (f"not collected within {sla.pickup_minutes} minutes" if sla.pickup_minutes is not None
                  else f"not collected within {window.days} days")
        await self._compensate(reason)
        await self._notify(NotificationKind.PICKUP_EXPIRED, {"shipment": self._state.view.shipment_id,
                                                             "store": node.name, "reason": reason})
        return self._outcome(OutcomeKind.CANCELLED, reason)

    async def _until(self, done: Callable[[], bool], deadline: datetime, summary: str) -> bool:
        """Act on the store's events until `done` holds or the shipment stops (True), or the deadline
        passes first (False)."""
        state = self._state
        while not done() and state.cancel is None and state.handed_back is None and not state.final:
            if self._inbox:
                await self._inbox.popleft()()
                continue
            wait = deadline - workflow.now()
            if wait <= timedelta(0):
                return False
            try:
                await workflow.wait_condition(lambda: bool(self._inbox), timeout=wait, timeout_summary=summary)
            except TimeoutError:
                if not self._inbox:
                    return False
        return True

    async def _timed_out(self, reason: str) -> FulfilmentOutcome | None:
        """An SLA ran out: hand the shipment back, unless the order is waiting for the store to confirm
        a cancel (then it is cancelled: nobody wants it re-sourced)."""
        state = self._state
        if state.cancel_asked is not None:
            state.cancel = state.cancel_asked
            self._note(f"{reason}; taken as the store's yes to the cancel asked")
            return None
        return await self._hand_back(reason)

    async def _stopped(self) -> FulfilmentOutcome | None:
        """Act on what is queued; the hand-back outcome if the store gave the shipment back."""
        while self._inbox:
            await self._inbox.popleft()()
        return await self._end_if_handed_back()

    async def _on_event(self, item: Applied) -> None:
        await super()._on_event(item)
        if item.event.type is ShipmentEventType.ARRIVED:
            self._state.view.curbside_spot = item.event.spot
            await self._publish(self._state.published, f"{self._state.view.shipment_id}: the customer is at "
                                f"curbside spot {item.event.spot}")
            await self._notify(NotificationKind.CURBSIDE_ARRIVAL, {
                "shipment": self._state.view.shipment_id, "spot": item.event.spot or ""})

    async def _request_cancel(self, reason: str) -> bool | None:
        """A recall: the store has not picked it yet, or it waits on the pickup shelf → cancelled now
        (its list shows it); being picked or packed → the store confirms with `cancelled`."""
        state = self._state.view.state
        if state not in _PICKED or state is ShipmentState.READY_FOR_PICKUP:
            return True
        return None

    async def _request_partial_cancel(self, skus: set[str], reason: str) -> bool:
        """Before the store has picked, its list shows the shorter shipment at once; once picked, it is
        asked to cancel the whole shipment and the rest is re-sourced."""
        return self._state.view.state not in _PICKED

    async def _release(self) -> None:
        """The store's list shows the shipment from now on."""
        view = self._state.view
        view.state = ShipmentState.RELEASED
        mode = "curbside" if self._state.request.curbside else "pickup" if self._state.request.pickup else "ship"
        await self._publish(ShipmentState.RELEASED, f"{view.shipment_id} released to {view.node_id} ({mode})")

    def _label_unwanted(self) -> bool:
        """No label once rated: the order cancelled, or the store handed the shipment back, meanwhile."""
        return self._state.cancel is not None or self._state.handed_back is not None
