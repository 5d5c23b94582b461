"""What every node kind's fulfilment shares: its state, the node's events as an update with a
validator (a kind adds its own check through `_refuse_event`), the order's cancel request, progress
reports to the order, the label (rated, then bought), the stock and label compensations, and the end
of a run (`_fulfil`: follow the node's events, undo a cancel, the outcome). Each kind's module (dc.py
first) writes its own `run` on top: the steps that differ by node kind.

One runner, as in the order: the update and signal handlers change state and queue an item; only
the kind's `run` coroutine issues commands, one item at a time, so a replay issues the same commands
whatever grouping of local-activity results it sees.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import NoReturn

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.exceptions import CancelledError as TemporalCancelledError

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.inventory import InventoryActivities
    from activities.records import RecordActivities
    from models import names
    from models.commands import BuyLabel, CommitStock, RateShipment, ReleaseStock, ShipmentRated, ShortPick, VoidLabel
    from models.fulfilment import (
        EVENT_REFUSED,
        CancelFulfilment,
        FulfilmentOutcome,
        FulfilmentProgress,
        FulfilShipment,
        OutcomeKind,
        ShipmentEventApplied,
    )
    from models.notify import NotificationKind
    from models.records import ShipmentRecord
    from models.shipment import (
        InvalidTransition,
        Label,
        ShipmentEvent,
        ShipmentEventType,
        ShipmentLine,
        ShipmentState,
        ShipmentView,
        has_left_the_building,
        is_final,
        next_state,
    )
    from workflows.fulfilment.carrier_scan import CARRIER_SCAN_SHIPS, done_by_carrier, scan_ships, shipped_from_scan
    from workflows.notices import notice_to, send_notice
    from workflows.policies import CARRIER, COMPENSATION, describe, local

# From this patch on, a partial cancel of a shipment the node has asks the node (before, its lines were
# dropped here at once, whatever the node was doing).
PARTIAL_CANCEL_ASKS_NODE = "partial-cancel-asks-node"


class FulfilmentState(BaseModel):
    """Everything a fulfilment knows; continue-as-new could hand it on as it is."""

    request: FulfilShipment
    view: ShipmentView = Field(description="the truth the node's events are checked against")
    published: ShipmentState = Field(default=ShipmentState.PENDING, description=(
        "the state whose effects are done (stock committed, customer told): what the order and the read "
        "model are shown; events applied since then are still being acted on"))
    label: Label | None = None
    label_voided: bool = False
    committed: bool = False
    cancel: CancelFulfilment | None = Field(default=None, description=(
        "a whole-shipment cancel decided: taken before the node had the shipment, or the node said yes"))
    cancel_asked: CancelFulfilment | None = Field(default=None, description=(
        "a whole-shipment cancel the node has been asked for (its answer decides; a shipped event first wins); "
        "with `skus`, asked because the order cancelled those SKUs and the node cannot cancel part of a "
        "shipment: the other lines are re-sourced once it agrees"))
    handed_back: str | None = Field(default=None, description="why the node gave the whole shipment back")
    handback_lines: list[ShipmentLine] = Field(default_factory=list, description=(
        "what it gave back when nothing of the shipment is left to hand back (a short pick of everything)"))
    seen_event_ids: list[str] = Field(default_factory=list)
    carrier_scanned_first: bool = Field(default=False, description=(
        "the carrier scanned the shipment before its node reported it shipped (carrier_scan.py)"))
    notes: list[str] = Field(default_factory=list)

    @property
    def left(self) -> bool:
        return has_left_the_building(self.view.state)

    @property
    def final(self) -> bool:
        return is_final(self.view.state)

    @property
    def handed_over(self) -> bool:
        """The node has the shipment (released to it): a cancel is now a request to the node."""
        return self.view.state is not ShipmentState.PENDING


class Applied(BaseModel):
    """A node event the update handler applied, queued for the runner's effects."""

    event: ShipmentEvent
    from_state: ShipmentState
    to_state: ShipmentState


def refuse(state: FulfilmentState, event: ShipmentEvent, accepts: frozenset[ShipmentEventType]) -> str | None:
    """Why the event cannot apply now (None: it can, or it is a replay); `accepts` are the event types
    the node kind's protocol takes."""
    sid = state.view.shipment_id
    if event.shipment_id != sid:
        return f"event for {event.shipment_id} sent to shipment {sid}"
    if event.event_id and event.event_id in state.seen_event_ids:
        return None
    if event.type not in accepts:
        return f"shipment {sid} does not take {event.type.value} events"
    if state.handed_back is not None:
        return f"shipment {sid} was handed back ({state.handed_back}); cannot apply {event.type.value}"
    if done_by_carrier(state, event):  # answered as done
        return None
    if event.type is ShipmentEventType.CANCELLED and (state.cancel_asked is None or state.cancel is not None):
        return f"shipment {sid}: no cancel is waiting for the node's answer; cannot apply cancelled"
    if event.type is ShipmentEventType.SHORT_PICKED and (why := _short_pick_refused(state.view, event)):
        return f"shipment {sid}: {why}"
    if state.cancel is not None and not state.left:
        return f"shipment {sid} is being cancelled; cannot apply {event.type.value}"
    try:  # a scan before the node's shipped applies on top of the shipped it stands for
        next_state(ShipmentState.SHIPPED if scan_ships(state, event) else state.view.state, event.type)
    except InvalidTransition:
        return f"shipment {sid} is {state.view.state.value}; cannot apply {event.type.value}"
    return None


def _short_pick_refused(view: ShipmentView, event: ShipmentEvent) -> str | None:
    """A short pick must name only the shipment's SKUs, at most their quantities, and be short somewhere."""
    quantities = {line.sku: line.quantity for line in view.lines}
    for picked in event.lines or []:
        if picked.sku not in quantities:
            return f"lines: {picked.sku} is not on the shipment"
        if picked.quantity_picked > quantities[picked.sku]:
            return (f"lines: {picked.quantity_picked} of {picked.sku} picked but the shipment holds "
                    f"{quantities[picked.sku]}")
    if all(picked.quantity_picked == quantities[picked.sku] for picked in event.lines or []):
        return "lines: nothing is short; send picked"
    return None


class FulfilmentProtocol:
    """The shared half of a fulfilment workflow; a node kind's workflow subclasses it and defines `run`."""

    # The event types this kind's protocol takes.
    ACCEPTS: frozenset[ShipmentEventType] = frozenset({
        ShipmentEventType.PICKED, ShipmentEventType.PACKED, ShipmentEventType.SHIPPED,
        ShipmentEventType.IN_TRANSIT, ShipmentEventType.DELIVERED})

    def __init__(self, request: FulfilShipment) -> None:
        self._state = FulfilmentState(request=request, view=request.shipment.model_copy(deep=True))
        self._inbox: deque[Callable[[], Awaitable[None]]] = deque()

    # -- messages ------------------------------------------------------------------------------------

    @workflow.query(name=names.STATUS_QUERY)
    def status(self) -> ShipmentView:
        return self._state.view

    @workflow.update(name=names.SHIPMENT_EVENT_UPDATE)
    def shipment_event(self, event: ShipmentEvent) -> ShipmentEventApplied:
        """A node's event: moves the shipment on (states may be skipped, never gone back). An event id
        applied before is answered as a replay, and so is a node's step the carrier's scan overtook
        (`carrier_first`); a carrier's scan before the node's shipped records `shipped` first
        (carrier_scan.py). The validator refuses an event that cannot apply."""
        state = self._state
        current = state.view.state
        answer = ShipmentEventApplied(shipment_id=state.view.shipment_id, order_id=state.request.order_id,
                                      type=event.type, from_state=current, to_state=current, replay=True)
        if event.event_id and event.event_id in state.seen_event_ids:
            return answer
        if event.event_id:
            state.seen_event_ids.append(event.event_id)
        if done_by_carrier(state, event):
            return answer.model_copy(update={"carrier_first": True})
        if scan_ships(state, event):
            state.carrier_scanned_first = True
            if workflow.patched(CARRIER_SCAN_SHIPS):
                current = self._shipped_by_scan(event)
        target = next_state(current, event.type)
        if event.type is ShipmentEventType.REJECTED:  # the run undoes it and hands the lines back
            state.handed_back = f"rejected by {state.view.node_id}: {event.reason}"
        elif event.type is ShipmentEventType.CANCELLED:  # the node's yes: the run undoes it
            state.cancel = state.cancel_asked
        else:
            state.view.state = target
        when = event.occurred_at or workflow.now()
        if state.left and state.view.shipped_at is None:
            state.view.shipped_at = when
            state.view.carrier = state.view.carrier or event.carrier
            state.view.tracking_number = state.view.tracking_number or event.tracking_number
        if target in (ShipmentState.DELIVERED, ShipmentState.COLLECTED):
            state.view.delivered_at = when
        applied = Applied(event=event, from_state=current, to_state=target)
        self._inbox.append(lambda: self._on_event(applied))
        return answer.model_copy(update={"to_state": target, "replay": False})

    def _shipped_by_scan(self, scan: ShipmentEvent) -> ShipmentState:
        """The carrier has the parcel the node has not reported shipped: `shipped` is applied first (its
        effects queued before the scan's), at the scan's time; the state the scan then applies to."""
        view = self._state.view
        shipped = shipped_from_scan(self._state, scan, workflow.now())
        applied = Applied(event=shipped, from_state=view.state, to_state=ShipmentState.SHIPPED)
        view.state, view.shipped_at = ShipmentState.SHIPPED, shipped.occurred_at
        self._inbox.append(lambda: self._on_event(applied))
        return ShipmentState.SHIPPED

    @shipment_event.validator
    def _validate_event(self, event: ShipmentEvent) -> None:
        reason = refuse(self._state, event, self.ACCEPTS) or self._refuse_event(event)
        if reason is not None:
            raise ApplicationError(reason, self._state.view.state.value, type=EVENT_REFUSED, non_retryable=True)

    def _refuse_event(self, event: ShipmentEvent) -> str | None:
        """The kind's own check of an event the shared rules (`refuse`) let through: why it cannot
        apply (naming the field), or None. Read-only: a validator changes nothing."""
        return None

    @workflow.signal(name=names.CANCEL_FULFILMENT_SIGNAL)
    def cancel_fulfilment(self, request: CancelFulfilment) -> None:
        """The order asks to cancel the shipment (skus None) or drop some SKUs. A whole cancel before
        the node has the shipment is taken at once: events are refused from then on, and a run waiting
        on a carrier call sees it when the call returns. Once the node has it, the node is asked
        (`_request_cancel`) and its answer decides; its events still apply meanwhile."""
        state = self._state
        if request.skus is None and state.cancel is None and not state.left and not state.handed_over:
            state.cancel = request
        self._inbox.append(lambda: self._on_cancel(request))

    # -- the run -------------------------------------------------------------------------------------

    async def _fulfil(self, serving: Awaitable[FulfilmentOutcome | None]) -> FulfilmentOutcome:
        """A kind's run: `_settle(serving)`, where an activity that fails for good (a carrier or a 3PL
        call, the app DB past its budget) undoes what has not left and fails the workflow."""
        try:
            return await self._settle(serving)
        except ActivityError as err:
            await self._failed(err)

    async def _settle(self, serving: Awaitable[FulfilmentOutcome | None]) -> FulfilmentOutcome:
        """Await the kind's steps (`serving`: an outcome when they ended it, such as a hand-back; None
        when the shipment was delivered, or cancelled before it left); undo a cancel taken before it
        left; end once every handler has finished, delivered or cancelled."""
        state = self._state
        ended = await serving
        if ended is None:
            if state.cancel is not None and not state.left:
                await self._compensate(state.cancel.reason)
            if state.view.state is ShipmentState.CANCELLED:
                ended = self._outcome(OutcomeKind.CANCELLED, state.cancel.reason if state.cancel else None)
            else:
                ended = self._outcome(OutcomeKind.DELIVERED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ended

    async def _failed(self, err: ActivityError) -> NoReturn:
        """Undo what has not left, then fail the workflow with `FulfilmentFailed`."""
        await self._compensate(f"fulfilment failed: {describe(err)}")
        raise ApplicationError(describe(err), type="FulfilmentFailed", non_retryable=True) from err

    async def _follow(self) -> FulfilmentOutcome | None:
        """Act on the node's (and the carrier's) events until the shipment is done, cancelled or handed
        back; the hand-back outcome, if it came to that."""
        while self._open():
            await self._handle_next()
        return await self._end_if_handed_back()

    async def _buy_label(self) -> Label | None:
        """Rate (with the service and weight sourcing priced, `_priced`), then buy unless the shipment
        stopped meanwhile (`_label_unwanted`): a label being bought is waited for, so that it can be
        voided. The label, or None when none was bought."""
        request, sid = self._state.request, self._state.view.shipment_id
        rated: ShipmentRated = await workflow.execute_activity_method(
            CarrierActivities.rate_shipment, RateShipment(
                reference=sid, node_id=request.shipment.node_id, customer=request.ship_to,
                units=sum(line.quantity for line in self._state.view.lines), service_level=request.service_level,
                **self._priced()),
            summary=f"rate {sid}", **CARRIER)
        if self._label_unwanted():
            return None
        label: Label = await workflow.execute_activity_method(
            CarrierActivities.buy_label,
            BuyLabel(reference=sid, carrier_shipment_id=rated.carrier_shipment_id, rate_id=rated.rate_id),
            activity_id=f"buy-label-{sid}", summary=f"buy label {sid}", **CARRIER)
        self._take_label(label)
        return label

    def _label_unwanted(self) -> bool:
        """No label once rated: the order cancelled meanwhile."""
        return self._state.cancel is not None

    def _priced(self) -> dict[str, object]:
        """The carrier service and weight sourcing priced the shipment with, for the label to match."""
        planned = self._state.request.planned
        if planned is None or planned.carrier is None:
            return {}
        return {"carrier": planned.carrier, "carrier_service": planned.carrier_service,
                "weight_oz": round(planned.weight_lb * 16, 1) if planned.weight_lb else None}

    # -- what the runner does ------------------------------------------------------------------------

    def _open(self) -> bool:
        """More to do: a queued item, or a shipment that is neither done, cancelled nor handed back."""
        state = self._state
        return bool(self._inbox) or (state.cancel is None and state.handed_back is None and not state.final)

    async def _handle_next(self) -> None:
        await workflow.wait_condition(lambda: bool(self._inbox))
        await self._inbox.popleft()()

    async def _on_event(self, item: Applied) -> None:
        """The effects of one applied event: stock committed and the customer told when it leaves,
        the customer told on delivery and on a carrier's exception, a short pick's shortfall written off
        and handed back, the read model and the order kept in step. A reject and a node's yes to a
        cancel are the run's to act on (it undoes what has not left)."""
        state, sid, event = self._state, self._state.view.shipment_id, item.event
        self._note(f"{sid} {event.type.value}")
        if event.type in (ShipmentEventType.REJECTED, ShipmentEventType.CANCELLED):
            return
        if event.type is ShipmentEventType.SHORT_PICKED:
            await self._short_picked(event)
            return
        if has_left_the_building(item.to_state) and not state.committed:
            await local(InventoryActivities.commit,
                              CommitStock(keys=list(state.request.reservation_keys.values())))
            state.committed = True
            if item.to_state is not ShipmentState.COLLECTED:
                await self._notify(NotificationKind.SHIPPED, {
                    "tracking_number": state.view.tracking_number or "", "carrier": state.view.carrier or "",
                    "shipment": sid})
        if event.type is ShipmentEventType.EXCEPTION and event.exception is not None:
            state.view.exception = event.exception
            await self._notify(NotificationKind.DELIVERY_EXCEPTION, {
                "shipment": sid, "exception": event.exception.value.replace("_", " "),
                "tracking_number": state.view.tracking_number or "", "carrier": state.view.carrier or ""})
        if item.to_state is ShipmentState.DELIVERED:
            state.view.exception = None
            await self._notify(NotificationKind.DELIVERED, {"shipment": sid})
        await self._publish(item.to_state, f"{sid} {event.type.value}"
                            + (f" ({event.exception.value})" if event.exception else "")
                            + (f" ({event.reason})" if event.reason and event.type is ShipmentEventType.SHIPPED
                               else ""))

    async def _short_picked(self, event: ShipmentEvent) -> None:
        """The node found fewer units than reserved: the shortfall's reservations shrink and the node's
        on_hand drops by it (its count was wrong), and the shortfall goes back to the order to plan
        again elsewhere. Nothing picked at all: the whole shipment is handed back."""
        state, sid = self._state, self._state.view.shipment_id
        picked = {line.sku: line.quantity_picked for line in event.lines or []}
        keys = state.request.reservation_keys
        short_lines: list[ShipmentLine] = []
        kept: list[ShipmentLine] = []
        short: dict[str, int] = {}
        for line in state.view.lines:
            got = min(picked.get(line.sku, line.quantity), line.quantity)
            if got < line.quantity:
                short_lines.append(line.model_copy(update={"quantity": line.quantity - got}))
                if line.sku in keys:
                    short[keys[line.sku]] = line.quantity - got
            if got > 0:
                kept.append(line.model_copy(update={"quantity": got}))
        units = ", ".join(f"{line.sku} x{line.quantity}" for line in short_lines)
        reason = f"short-picked at {state.view.node_id}: {units}"
        await local(InventoryActivities.short_pick, ShortPick(short=short, reason=reason))
        still_held = {line.sku for line in kept}
        for line in short_lines:
            if line.sku not in still_held:
                keys.pop(line.sku, None)
        state.view.lines = kept
        if not kept:
            state.handed_back, state.handback_lines = reason, short_lines
            return
        await self._publish(ShipmentState.PICKED, f"{sid} {reason}", handed_back=short_lines, reason=reason)

    async def _on_cancel(self, request: CancelFulfilment) -> None:
        """Drop some SKUs from a shipment that has not left, or ask the node to cancel the whole of it;
        a cancel that comes too late is reported as refused. A whole cancel taken before the node had
        the shipment needs nothing here: the run compensates once it sees it."""
        state, sid = self._state, self._state.view.shipment_id
        if request.skus is None:
            if state.cancel is request:
                return
            if state.left or state.final or state.handed_back is not None:
                if not state.final:
                    await self._report(f"{sid}: cancel refused, the shipment is {state.view.state.value}")
                return
            if state.cancel_asked is not None and state.cancel_asked.skus is not None:
                # The node is asked for the whole shipment for a partial cancel: now nothing is re-sourced.
                state.cancel_asked.skus = None
                if state.cancel is not None:
                    state.cancel.skus = None
                return
            if state.cancel is None and state.cancel_asked is None:
                await self._ask_node_to_cancel(request)
            return
        skus = set(request.skus)
        if state.cancel is not None or state.handed_back is not None:  # the whole shipment is going
            return
        if state.left or state.final:
            if not state.final:
                await self._report(f"{sid}: cancel of {', '.join(sorted(skus))} refused, the shipment is "
                                   f"{state.view.state.value}")
            return
        if state.handed_over and workflow.patched(PARTIAL_CANCEL_ASKS_NODE):
            if state.cancel_asked is not None:  # the node is already asked for the whole shipment
                if state.cancel_asked.skus is not None:
                    state.cancel_asked.skus = sorted(set(state.cancel_asked.skus) | skus)
                return
            if not await self._request_partial_cancel(skus, request.reason):
                if state.cancel is not None or state.left or state.final:  # an event answered meanwhile
                    return
                await self._ask_node_to_cancel(request)
                return
        held = state.request.reservation_keys
        keys = [held.pop(sku) for sku in sorted(skus) if sku in held]
        state.view.lines = [line for line in state.view.lines if line.sku not in skus]
        await local(InventoryActivities.release, ReleaseStock(keys=keys, reason=request.reason))
        await self._publish(state.published, f"{sid}: {', '.join(sorted(skus))} cancelled ({request.reason})")

    async def _ask_node_to_cancel(self, request: CancelFulfilment) -> None:
        """Ask the node, which has the shipment, to cancel it. Yes: the run undoes it. No (it shipped):
        its shipped event decides. No answer yet: the shipment shows `cancel_requested` (the order's
        cancel answers that it was asked) until the node sends `cancelled` or ships."""
        state, sid = self._state, self._state.view.shipment_id
        state.cancel_asked = request
        answer = await self._request_cancel(request.reason)
        if state.cancel is not None or state.left or state.final:  # the node answered by an event meanwhile
            return
        if answer is True:
            state.cancel = request
        elif answer is False:
            self._note(f"{sid}: {state.view.node_id} refused the cancel: it has shipped")
        else:
            state.view.cancel_requested = True
            await self._publish(state.published, f"{sid}: cancel asked of {state.view.node_id}")

    async def _request_cancel(self, reason: str) -> bool | None:
        """Ask the node to cancel the shipment it has: True it did, False it refused (it shipped), None
        it answers later (a `cancelled` event, or it ships). A kind whose node can be asked overrides
        this; by default the node is taken to agree at once."""
        return True

    async def _request_partial_cancel(self, skus: set[str], reason: str) -> bool:
        """Ask the node to drop `skus` from the shipment it has: True it did at once (the lines are then
        dropped here), False it cannot cancel part of a shipment. Then the node is asked to cancel the
        whole shipment (`_ask_node_to_cancel`, its answer decides as for a whole cancel) and, once it
        has, the lines that were not to be cancelled go back to the order to be planned again
        (`FulfilmentOutcome.resource`). By default a node cannot; a kind whose node can overrides this."""
        return False

    async def _end_if_handed_back(self) -> FulfilmentOutcome | None:
        """The outcome when the node gave the whole shipment back (rejected it, picked none of it)."""
        if self._state.handed_back is None:
            return None
        return await self._hand_back(self._state.handed_back)

    async def _compensate(self, reason: str) -> None:
        """Undo what has not left: void the label, release the stock. Errors propagate."""
        state = self._state
        if state.label is not None and not state.label_voided:
            await workflow.execute_activity_method(
                CarrierActivities.void_label, VoidLabel(carrier_shipment_id=state.label.carrier_shipment_id),
                summary=f"void label {state.view.shipment_id}", **COMPENSATION)
            state.label_voided = True
        await local(InventoryActivities.release,
                          ReleaseStock(keys=list(state.request.reservation_keys.values()), reason=reason))
        state.view.state = ShipmentState.CANCELLED
        state.published = ShipmentState.CANCELLED
        await self._record()

    async def _hand_back(self, reason: str) -> FulfilmentOutcome:
        """The node gave the whole shipment back (rejected it, let its SLA run out): undo what has not left
        (label voided, stock released) and end `handed_back` with every line, for the order to re-source
        without this node."""
        lines = list(self._state.view.lines) or list(self._state.handback_lines)
        self._state.handed_back = reason
        await self._compensate(reason)
        return self._outcome(OutcomeKind.HANDED_BACK, reason).model_copy(update={"handed_back": lines})

    def _outcome(self, kind: OutcomeKind, reason: str | None = None) -> FulfilmentOutcome:
        """How the fulfilment ended; a cancel taken for some lines only sends the others back."""
        state = self._state
        resource: list[ShipmentLine] = []
        if kind is OutcomeKind.CANCELLED and state.cancel is not None and state.cancel.skus is not None:
            cancelled = set(state.cancel.skus)
            resource = [line for line in state.view.lines if line.sku not in cancelled]
        return FulfilmentOutcome(kind=kind, shipment=state.view, label=state.label, reason=reason,
                                 seen_event_ids=list(state.seen_event_ids), resource=resource,
                                 carrier_scanned_first=state.carrier_scanned_first)

    async def _publish(self, to: ShipmentState, note: str, *, handed_back: list[ShipmentLine] | None = None,
                       reason: str | None = None) -> None:
        """The effects of moving to `to` are done: record it, and tell the order unless the outcome
        will (a delivered shipment ends the workflow); `handed_back` lines go back to the order now."""
        self._state.published = to
        await self._record()
        if not is_final(to):
            await self._report(note, handed_back=handed_back, reason=reason)

    def _shown(self) -> ShipmentView:
        """The view as far as its effects are done (see FulfilmentState.published)."""
        return self._state.view.model_copy(update={"state": self._state.published})

    async def _report(self, note: str, *, handed_back: list[ShipmentLine] | None = None,
                      reason: str | None = None) -> None:
        """Tell the order; an order that has already closed (it failed and left this shipment to finish
        on its own) no longer listens, and that is fine."""
        parent = workflow.get_external_workflow_handle(self._state.request.order_workflow_id)
        try:
            await parent.signal(names.FULFILMENT_PROGRESS_SIGNAL,
                                FulfilmentProgress(shipment=self._shown(), note=note,
                                                   handed_back=handed_back or [], reason=reason))
        except FailureError as err:  # the signal could not be delivered
            if isinstance(err, TemporalCancelledError):
                raise
            self._note(f"the order no longer takes progress: {err}")

    async def _record(self) -> None:
        state, view = self._state, self._shown()
        await local(RecordActivities.record_shipments, [ShipmentRecord(
            shipment_id=view.shipment_id, order_id=state.request.order_id, node_id=view.node_id,
            lines=view.lines, state=view.state, carrier=view.carrier, service=view.service,
            tracking_number=view.tracking_number,
            carrier_shipment_id=state.label.carrier_shipment_id if state.label else None,
            label_cost=view.label_cost.amount if view.label_cost else None, currency=state.request.currency,
            shipped_at=view.shipped_at, delivered_at=view.delivered_at, label_url=view.label_url,
            label_format=view.label_format, exception=view.exception, pickup=view.pickup,
            cancel_requested=view.cancel_requested,
        )])

    async def _notify(self, kind: NotificationKind, facts: dict[str, str]) -> None:
        """A failed e-mail is noted; it never fails the shipment."""
        note = notice_to(self._state.request.customer, kind, self._state.request.order_id, facts)
        if (outcome := await send_notice(note)) is not None:
            self._note(f"notification {kind.value} {outcome}")

    def _note(self, text: str) -> None:
        self._state.notes.append(text)

    def _take_label(self, label: Label) -> None:
        view = self._state.view
        self._state.label = label
        view.carrier, view.service = label.carrier, label.service
        view.tracking_number, view.label_cost = label.tracking_number, label.cost
        view.label_url, view.label_format = label.label_url, label.label_format
