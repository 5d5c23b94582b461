"""OrderWorkflow: one order from intake to the last delivery, with its shipments held inside.

Lifecycle: record → order rules (local; a hold waits for an operator's release update or a cancel)
→ allocate (cost-optimal plan + reserve, local) → confirm → per shipment: rate → buy label →
released to the warehouse → picked/packed/shipped (signals) → commit stock → delivered. A cancel
update or a failed step runs the compensations in reverse: void labels, release reservations,
tell the customer.

One runner: signals, updates and carrier results are queued (`workflows.order_inbox`) and the run
coroutine handles them one at a time, so that it alone issues commands. Shipments still progress
concurrently (their carrier calls run side by side); only their bookkeeping is serial.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.inventory import InventoryActivities
    from activities.notify import NotifyActivities
    from activities.records import OrderStatusChange, RecordActivities
    from activities.sourcing import SourcingActivities
    from models.commands import (
        AllocateStock,
        BuyLabel,
        CommitStock,
        RateShipment,
        ReleaseStock,
        ShipmentRated,
        StockAllocated,
        SwapReservations,
        SwapResult,
        VoidLabel,
        WavePlan,
    )
    from models.notify import Notification, NotificationKind
    from models.order import CancelOrder, CancelResult, OrderStatus, OrderView, PlaceOrder, ReleaseHold
    from models.rules import RuleOutcome
    from models.shipment import (
        InvalidTransition,
        Label,
        ShipmentEvent,
        ShipmentLine,
        ShipmentState,
        ShipmentView,
        next_state,
    )
    from workflows import ids
    from workflows.order_inbox import (
        BackorderRetry,
        CancelRequest,
        CarrierDone,
        CarrierStep,
        InboxItem,
        PendingCancel,
        ReleaseDue,
        ReleaseRequest,
        WarehouseEvent,
        WaveOffer,
    )
    from workflows.order_state import (
        OrderState,
        ShipmentRuntime,
        backordered_lines,
        cancellable_lines,
        check_releasable,
        derive_status,
        open_lines,
        order_record,
        order_view,
        shipment_records,
        split_cancel,
    )
    from workflows.policies import CARRIER, COMPENSATION, LOCAL_DB, NOTIFY

# Orders started before the intake rules existed replay without the rules step.
RULES_AT_INTAKE = "rules-at-intake"
# Under the `backorder` policy, units no node can ship are planned again this often, and cancelled
# when they are still waiting after BACKORDER_MAX_WAIT.
BACKORDER_RETRY_EVERY = timedelta(hours=1)
BACKORDER_MAX_WAIT = timedelta(days=14)

A = TypeVar("A")
R = TypeVar("R")


@workflow.defn(name=ids.ORDER_WORKFLOW)
class OrderWorkflow:
    @workflow.init
    def __init__(self, order: PlaceOrder) -> None:
        self._state = OrderState(order=order, created_at=workflow.now())
        self._inbox: deque[InboxItem] = deque()
        self._in_flight: set[str] = set()  # shipments with a carrier call running
        self._cancels: list[PendingCancel] = []
        self._releases: list[asyncio.Future[OrderView]] = []
        self._stopping = False  # the order failed or was cancelled: shipments wind down
        self._error: ActivityError | None = None
        self._indexed = ""

    @workflow.run
    async def run(self, order: PlaceOrder) -> OrderView:
        # Asked before anything else: after a local activity the rest of the code may run in a later
        # workflow task than the one that holds the marker, and a replay would then answer False.
        rules_at_intake = workflow.patched(RULES_AT_INTAKE)
        await self._local(RecordActivities.record_order, order_record(self._state, workflow.info().workflow_id))
        if rules_at_intake:
            await self._apply_rules()
        while self._state.held and not self._state.hold_released and open_lines(self._state):
            await self._handle(await self._next())
        await self._allocate()
        for answer in self._releases:
            answer.set_result(order_view(self._state))
        self._releases.clear()
        try:
            if self._state.release_at is None:
                self._release()
            while not (self._settled() and not self._inbox):
                await self._handle(await self._next())
        except asyncio.CancelledError:
            await self._wind_down("order cancelled")
            raise
        if self._error is not None:
            await self._wind_down("order failed")
            self._state.failure = _describe(self._error)
            await self._update_status()
            await self._notify(NotificationKind.ORDER_FAILED, {"reason": self._state.failure})
            await self._drain()
            raise ApplicationError(f"order {order.order_id} failed: {self._state.failure}",
                                   type="OrderFailed") from self._error
        await self._drain()
        return order_view(self._state)

    # -- messages: each is queued for the runner ---------------------------------------------------

    @workflow.query(name=ids.STATUS_QUERY)
    def status(self) -> OrderView:
        return order_view(self._state)

    @workflow.signal(name=ids.SHIPMENT_EVENT_SIGNAL)
    def shipment_event(self, event: ShipmentEvent) -> None:
        self._inbox.append(WarehouseEvent(event=event, received_at=workflow.now()))

    @workflow.signal(name=ids.WAVE_PLAN_SIGNAL)
    def wave_plan(self, plan: WavePlan) -> None:
        self._inbox.append(WaveOffer(plan=plan))

    @workflow.update(name=ids.RELEASE_HOLD_UPDATE)
    async def release_hold(self, request: ReleaseHold) -> OrderView:
        """An operator lets a held order go on; answers once it is planned."""
        answer: asyncio.Future[OrderView] = asyncio.get_running_loop().create_future()
        self._inbox.append(ReleaseRequest(request=request, answer=answer))
        return await answer

    @release_hold.validator
    def _validate_release(self, request: ReleaseHold) -> None:
        check_releasable(self._state)

    @workflow.update(name=ids.CANCEL_UPDATE)
    async def cancel(self, request: CancelOrder) -> CancelResult:
        """Cancel lines (all by default); answers once the shipments they empty are undone."""
        answer: asyncio.Future[CancelResult] = asyncio.get_running_loop().create_future()
        self._inbox.append(CancelRequest(request=request, answer=answer))
        return await answer

    @cancel.validator
    def _validate_cancel(self, request: CancelOrder) -> None:
        cancellable_lines(self._state, request.line_nos)

    # -- the runner ---------------------------------------------------------------------------------

    async def _next(self) -> InboxItem:
        """The next message, or the runner's own timer item when its time comes first."""
        due = self._due()
        if due is None:
            await workflow.wait_condition(lambda: bool(self._inbox))
            return self._inbox.popleft()
        at, item = due
        wait = at - workflow.now()
        if not self._inbox and wait > timedelta(0):
            try:
                await workflow.wait_condition(lambda: bool(self._inbox), timeout=wait)
            except TimeoutError:
                return item
        return self._inbox.popleft() if self._inbox else item

    def _due(self) -> tuple[datetime, InboxItem] | None:
        """The runner's next timer: the end of a release-wave hold, or the next backorder retry."""
        if self._stopping:
            return None
        if self._state.release_at is not None:
            return self._state.release_at, ReleaseDue()
        if self._state.backordered and self._state.backorder_retry_at is not None:
            return self._state.backorder_retry_at, BackorderRetry()
        return None

    def _settled(self) -> bool:
        """Nothing more will happen to the shipments: every one is delivered or cancelled (or, once
        the order is stopping, no carrier call is still running)."""
        if self._in_flight:
            return False
        if self._stopping:
            return True
        return not self._cancels and not self._state.backordered and all(
            s.view.state in (ShipmentState.DELIVERED, ShipmentState.CANCELLED) for s in self._state.shipments.values())

    async def _handle(self, item: InboxItem) -> None:
        if isinstance(item, WarehouseEvent):
            await self._on_warehouse_event(item)
        elif isinstance(item, CarrierDone):
            await self._on_carrier_done(item)
        elif isinstance(item, CancelRequest):
            await self._on_cancel(item)
        elif isinstance(item, BackorderRetry):
            await self._retry_backorders()
        elif isinstance(item, ReleaseDue):
            self._release()
        elif isinstance(item, WaveOffer):
            await self._on_wave(item.plan)
        else:
            self._on_release(item)
        await self._answer_cancels()

    async def _wind_down(self, reason: str) -> None:
        """Stop every shipment that has not left at its next safe point (a label purchase in flight is
        waited for, so that its label can be voided), then undo them in reverse order."""
        self._stopping = True
        for shipment in self._state.shipments.values():
            if not shipment.left:
                shipment.cancel_requested = True
        while self._in_flight:
            await self._handle(await self._next())
        for shipment in reversed(list(self._state.shipments.values())):
            if not shipment.left and shipment.view.state is not ShipmentState.CANCELLED:
                await self._compensate(shipment, reason)
                for line in shipment.view.lines:
                    self._state.cancel_quantity(line.line_no, line.quantity, reason)
        self._cancel_backorders(reason)
        await self._answer_cancels()

    # -- steps ------------------------------------------------------------------------------------

    async def _apply_rules(self) -> None:
        outcome: RuleOutcome = await self._local(SourcingActivities.evaluate_rules, self._state.order)
        self._state.rules = outcome
        self._state.events.extend(str(fired) for fired in outcome.fired)
        if outcome.holds:
            self._state.held = True
            self._state.events.append("held for review: " + "; ".join(outcome.holds))
            await self._update_status()

    async def _allocate(self) -> None:
        lines = open_lines(self._state)
        if not lines:  # every line was cancelled while the order was held
            self._state.allocated = True
            await self._update_status()
            return
        allocation = await self._plan(lines)
        self._state.release_at = allocation.release_at
        if allocation.release_at is not None:
            self._state.events.append(f"shipments wait for a release wave until {allocation.release_at:%H:%M} UTC")
        self._state.allocated = True
        await self._save_shipments(list(self._state.shipments.values()))
        await self._update_status()
        facts = {"shipments": str(len(self._state.shipments))}
        unfillable = "; ".join(f"{u.sku} x{u.quantity}: {u.reason}" for u in allocation.plan.unfillable)
        if unfillable:
            facts["backordered" if self._state.backordered else "cancelled"] = unfillable
        if self._state.shipments:
            kind = NotificationKind.ORDER_CONFIRMED
        else:
            kind = NotificationKind.BACKORDERED if self._state.backordered else NotificationKind.ORDER_CANCELLED
        await self._notify(kind, facts)

    async def _plan(self, lines: list[ShipmentLine]) -> StockAllocated:
        """Plan and reserve `lines` as new shipments; units no node can ship now are backordered or
        cancelled by the order's backorder policy (cancel unless a rule said backorder)."""
        order = self._state.order
        allocation: StockAllocated = await self._local(InventoryActivities.allocate, AllocateStock(
            order_id=order.order_id, ship_to=order.ship_to, lines=lines, rules=self._state.rules,
            service_level=order.service_level, deliver_by=order.promised_delivery,
            first_shipment_no=len(self._state.shipments) + 1,
        ))
        self._state.decision = allocation.plan.decision
        for sid, planned in zip(allocation.shipment_ids, allocation.plan.shipments, strict=True):
            keys = dict(zip([line.sku for line in planned.lines], allocation.reservation_keys[sid], strict=True))
            self._state.shipments[sid] = ShipmentRuntime(
                view=ShipmentView(shipment_id=sid, node_id=planned.node_id, lines=planned.lines,
                                  state=ShipmentState.PENDING),
                reservation_keys=keys, planned=planned,
            )
        backorder = self._state.rules is not None and self._state.rules.backorder_policy == "backorder"
        for line in allocation.plan.unfillable:
            if backorder:
                self._state.backordered[line.line_no] = self._state.backordered.get(line.line_no, 0) + line.quantity
                self._state.events.append(f"line {line.line_no} ({line.sku}): {line.quantity} backordered")
            else:
                self._state.cancel_quantity(line.line_no, line.quantity, line.reason)
        if self._state.backordered and self._state.backordered_since is None:
            self._state.backordered_since = workflow.now()
        if self._state.backordered:
            self._state.backorder_retry_at = workflow.now() + BACKORDER_RETRY_EVERY
        self._state.events.extend(allocation.plan.explanation)
        return allocation

    async def _retry_backorders(self) -> None:
        """Plan the backordered units again; cancel them once they have waited BACKORDER_MAX_WAIT."""
        since = self._state.backordered_since or workflow.now()
        if workflow.now() - since >= BACKORDER_MAX_WAIT:
            line_nos = sorted(self._state.backordered)
            self._cancel_backorders(f"backorder not filled within {BACKORDER_MAX_WAIT.days} days")
            await self._update_status()
            kind = (NotificationKind.ORDER_CANCELLED if self._state.status is OrderStatus.CANCELLED
                    else NotificationKind.LINES_CANCELLED)
            await self._notify(kind, {"lines": ", ".join(map(str, line_nos)), "reason": "backorder not filled"})
            return
        lines = backordered_lines(self._state)
        self._state.backordered.clear()
        before = set(self._state.shipments)
        await self._plan(lines)
        if not self._state.backordered:
            self._state.backordered_since = None
        fresh = [s for sid, s in self._state.shipments.items() if sid not in before]
        if not fresh:
            return
        await self._save_shipments(fresh)
        await self._update_status()
        await self._notify(NotificationKind.ORDER_CONFIRMED, {
            "shipments": str(len(fresh)), "backorder": "now planned" if not self._state.backordered else "in part"})
        for shipment in fresh:
            self._start_rate(shipment)

    def _cancel_backorders(self, reason: str) -> None:
        for line_no, quantity in sorted(self._state.backordered.items()):
            self._state.cancel_quantity(line_no, quantity, reason)
        self._state.backordered.clear()
        self._state.backordered_since = None

    def _release(self) -> None:
        """Start buying labels for every shipment still waiting (the hold, if any, is over)."""
        self._state.release_at = None
        for shipment in self._state.shipments.values():
            waiting = shipment.view.state is ShipmentState.PENDING and shipment.label is None
            if waiting and not shipment.cancel_requested and shipment.view.shipment_id not in self._in_flight:
                self._start_rate(shipment)

    async def _on_wave(self, offer: WavePlan) -> None:
        """Take a release wave's plan if the shipments still wait: swap the reservations (all or
        nothing), replace the waiting shipments by the new ones, and release them now."""
        if self._state.release_at is None:
            self._state.events.append(f"{offer.wave_id}: arrived after release; the plan stands")
            return
        old = [s for s in self._state.shipments.values()
               if s.view.state is ShipmentState.PENDING and not s.cancel_requested]
        swapped: SwapResult = await self._local(InventoryActivities.swap, SwapReservations(
            order_id=self._state.order.order_id, release_keys=[k for s in old for k in s.reservation_keys.values()],
            plan=offer.plan, first_shipment_no=len(self._state.shipments) + 1, rules=self._state.rules,
            reason=f"re-planned in {offer.wave_id}"))
        if not swapped.ok:
            self._state.events.append(f"{offer.wave_id}: plan not taken ({swapped.reason}); the plan stands")
            return
        for shipment in old:
            shipment.view.state = ShipmentState.CANCELLED
            self._state.events.append(f"{shipment.view.shipment_id} replaced in {offer.wave_id}")
        fresh = []
        for sid, planned in zip(swapped.shipment_ids, offer.plan.shipments, strict=True):
            keys = dict(zip([line.sku for line in planned.lines], swapped.reservation_keys[sid], strict=True))
            runtime = ShipmentRuntime(view=ShipmentView(shipment_id=sid, node_id=planned.node_id, lines=planned.lines,
                                                        state=ShipmentState.PENDING),
                                      reservation_keys=keys, planned=planned)
            self._state.shipments[sid] = runtime
            fresh.append(runtime)
        self._state.decision = offer.plan.decision
        self._state.events.append(f"{offer.wave_id}: re-planned, the wave saves {offer.saving_cents / 100:.2f}")
        self._state.events.extend(offer.plan.explanation)
        await self._save_shipments(old + fresh)
        await self._update_status()
        self._release()

    def _start_rate(self, shipment: ShipmentRuntime) -> None:
        order, sid = self._state.order, shipment.view.shipment_id
        task = workflow.start_activity_method(CarrierActivities.rate_shipment, RateShipment(
            reference=sid, node_id=shipment.view.node_id, customer=order.ship_to,
            units=sum(line.quantity for line in shipment.view.lines), service_level=order.service_level,
            **_priced(shipment),
        ), summary=f"rate {sid}", **CARRIER)
        self._track(sid, CarrierStep.RATE, task)

    def _start_label(self, shipment: ShipmentRuntime, rated: ShipmentRated) -> None:
        sid = shipment.view.shipment_id
        task = workflow.start_activity_method(
            CarrierActivities.buy_label,
            BuyLabel(reference=sid, carrier_shipment_id=rated.carrier_shipment_id, rate_id=rated.rate_id),
            activity_id=f"buy-label-{sid}", summary=f"buy label {sid}", **CARRIER)
        self._track(sid, CarrierStep.LABEL, task)

    def _track(self, sid: str, step: CarrierStep, task: asyncio.Task[Any]) -> None:
        self._in_flight.add(sid)
        task.add_done_callback(lambda done: self._inbox.append(CarrierDone(shipment_id=sid, step=step, task=done)))

    async def _on_carrier_done(self, item: CarrierDone) -> None:
        shipment = self._state.shipments[item.shipment_id]
        self._in_flight.discard(item.shipment_id)
        error = item.task.exception()
        if error is not None:
            if self._error is None and isinstance(error, ActivityError):
                self._error = error
            self._stopping = True
            for other in self._state.shipments.values():
                if not other.left:
                    other.cancel_requested = True
            if not isinstance(error, ActivityError):
                raise error
            return
        if item.step is CarrierStep.RATE:
            if not shipment.cancel_requested:
                self._start_label(shipment, item.task.result())
            elif not self._stopping:
                await self._compensate(shipment, "cancelled")
            return
        label: Label = item.task.result()
        shipment.label = label
        view = shipment.view
        view.carrier, view.service = label.carrier, label.service
        view.tracking_number, view.label_cost = label.tracking_number, label.cost
        if shipment.cancel_requested:
            if not self._stopping:
                await self._compensate(shipment, "cancelled")
            return
        view.state = ShipmentState.RELEASED
        await self._save_shipments([shipment])
        await self._update_status()

    async def _on_warehouse_event(self, item: WarehouseEvent) -> None:
        event = item.event
        shipment = self._state.shipments.get(event.shipment_id)
        if shipment is None:
            self._state.events.append(f"ignored {event.type.value}: unknown shipment {event.shipment_id}")
            return
        if event.event_id and event.event_id in shipment.seen_event_ids:
            return
        if shipment.cancel_requested:
            self._state.events.append(f"ignored {event.type.value} for {event.shipment_id}: cancellation in progress")
            return
        try:
            shipment.view.state = next_state(shipment.view.state, event.type)
        except InvalidTransition as err:
            self._state.events.append(f"ignored {event.type.value} for {event.shipment_id}: {err}")
            return
        if event.event_id:
            shipment.seen_event_ids.append(event.event_id)
        when = event.occurred_at or item.received_at
        if shipment.left and shipment.view.shipped_at is None:
            shipment.view.shipped_at = when
        if shipment.view.state is ShipmentState.DELIVERED:
            shipment.view.delivered_at = when
        self._state.events.append(f"{event.shipment_id} {event.type.value}")
        sid = shipment.view.shipment_id
        if shipment.left and not shipment.committed:
            await self._local(InventoryActivities.commit, CommitStock(keys=list(shipment.reservation_keys.values())))
            shipment.committed = True
            await self._notify(NotificationKind.SHIPPED, {"tracking_number": shipment.view.tracking_number or "",
                                                          "carrier": shipment.view.carrier or "", "shipment": sid})
        if shipment.view.state is ShipmentState.DELIVERED:
            await self._notify(NotificationKind.DELIVERED, {"shipment": sid})
        await self._save_shipments([shipment])
        await self._update_status()

    def _on_release(self, item: ReleaseRequest) -> None:
        if self._state.held and not self._state.hold_released:
            self._state.hold_released = True
            request = item.request
            self._state.events.append(f"hold released by {request.released_by}: {request.reason}")
        if self._state.allocated:
            item.answer.set_result(order_view(self._state))
        else:
            self._releases.append(item.answer)

    async def _on_cancel(self, item: CancelRequest) -> None:
        request = item.request
        try:
            line_nos = cancellable_lines(self._state, request.line_nos)
        except ValueError as err:  # the lines shipped between the request and its turn
            item.answer.set_exception(ApplicationError(str(err), type="NotCancellable", non_retryable=True))
            return
        whole, partial = split_cancel(self._state, line_nos)
        for shipment in whole:
            shipment.cancel_requested = True
        for shipment, skus in partial:
            keys = [shipment.reservation_keys.pop(sku) for sku in sorted(skus)]
            shipment.view.lines = [line for line in shipment.view.lines if line.sku not in skus]
            await self._local(InventoryActivities.release, ReleaseStock(keys=keys, reason=request.reason))
        for line_no in line_nos:
            open_qty = self._state.order.lines[line_no - 1].quantity - self._state.quantity_cancelled(line_no)
            shipped = sum(line.quantity for s, line in self._state.parts(line_no) if s.left)
            self._state.cancel_quantity(line_no, open_qty - shipped, request.reason)
            self._state.backordered.pop(line_no, None)
        if not self._state.backordered:
            self._state.backordered_since = None
        self._cancels.append(PendingCancel(request=item, line_nos=line_nos, whole=whole,
                                           partial=[s for s, _ in partial]))
        for shipment in whole:
            if shipment.view.shipment_id not in self._in_flight:
                await self._compensate(shipment, "cancelled")

    async def _answer_cancels(self) -> None:
        """Answer, in the order they came, the cancels whose shipments are all undone."""
        while self._cancels and all(s.view.state is ShipmentState.CANCELLED for s in self._cancels[0].whole):
            pending = self._cancels.pop(0)
            request = pending.request.request
            await self._save_shipments(pending.partial)
            await self._update_status()
            kind = (NotificationKind.ORDER_CANCELLED if self._state.status is OrderStatus.CANCELLED
                    else NotificationKind.LINES_CANCELLED)
            await self._notify(kind, {"lines": ", ".join(map(str, pending.line_nos)), "reason": request.reason})
            self._state.events.append(f"cancelled lines {pending.line_nos}: {request.reason}")
            pending.request.answer.set_result(CancelResult(
                cancelled_line_nos=pending.line_nos, cancelled_shipment_ids=[s.view.shipment_id for s in pending.whole],
                status=self._state.status))

    async def _compensate(self, shipment: ShipmentRuntime, reason: str) -> None:
        """Undo a shipment that has not left: void its label, release its stock. Errors propagate."""
        if shipment.label is not None and not shipment.label_voided:
            await workflow.execute_activity_method(
                CarrierActivities.void_label, VoidLabel(carrier_shipment_id=shipment.label.carrier_shipment_id),
                summary=f"void label {shipment.view.shipment_id}", **COMPENSATION)
            shipment.label_voided = True
        await self._local(InventoryActivities.release,
                          ReleaseStock(keys=list(shipment.reservation_keys.values()), reason=reason))
        shipment.view.state = ShipmentState.CANCELLED
        await self._save_shipments([shipment])

    # -- helpers ----------------------------------------------------------------------------------

    async def _update_status(self) -> None:
        """Derive the status; keep the search attributes (status, shipments, tracking) and the DB in step."""
        status = derive_status(self._state)
        shipments = list(self._state.shipments.values())
        order = self._state.order
        attributes: list[SearchAttributeUpdate[Any]] = [
            ids.ORDER_STATUS.value_set(status.value),
            ids.CHANNEL.value_set(order.channel),
            ids.ORDER_ID.value_set(order.order_id),
            ids.ORDER_TOTAL.value_set(order.total.amount),
            ids.SHIPMENT_IDS.value_set([s.view.shipment_id for s in shipments]),
            ids.NODES.value_set(sorted({s.view.node_id for s in shipments})),
            ids.TRACKING_NUMBERS.value_set([s.view.tracking_number for s in shipments if s.view.tracking_number]),
        ]
        snapshot = repr([(s.view.shipment_id, s.view.tracking_number) for s in shipments] + [status.value])
        if snapshot != self._indexed:
            workflow.upsert_search_attributes(attributes)
            self._indexed = snapshot
        if status is not self._state.status:
            self._state.status = status
            change = OrderStatusChange(order_id=order.order_id, status=status)
            await self._local(RecordActivities.set_order_status, change)

    async def _save_shipments(self, shipments: list[ShipmentRuntime]) -> None:
        if shipments:
            await self._local(RecordActivities.record_shipments, shipment_records(self._state, shipments))

    async def _notify(self, kind: NotificationKind, facts: dict[str, str]) -> None:
        """A failed e-mail is recorded on the order; it never fails the order."""
        customer = self._state.order.customer
        note = Notification(kind=kind, to_email=str(customer.email), to_name=customer.name,
                            reference=self._state.order.order_id, facts=facts)
        try:
            await self._local(NotifyActivities.notify, note, NOTIFY)
        except ActivityError as err:
            self._state.events.append(f"notification {kind.value} failed: {_describe(err)}")

    async def _drain(self) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)

    @staticmethod
    async def _local(fn: Callable[[Any, A], R], arg: A, policy: dict[str, Any] = LOCAL_DB) -> R:
        return await workflow.execute_local_activity_method(fn, arg, **policy)


def _priced(shipment: ShipmentRuntime) -> dict[str, Any]:
    """The carrier service and weight sourcing priced the shipment with, for the label to match."""
    planned = shipment.planned
    if planned is None or planned.carrier is None:
        return {}
    return {"carrier": planned.carrier, "carrier_service": planned.carrier_service,
            "weight_oz": round(planned.weight_lb * 16, 1) if planned.weight_lb else None}


def _describe(err: BaseException) -> str:
    cause = err.__cause__ or err
    return str(cause) or type(cause).__name__
