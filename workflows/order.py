"""OrderWorkflow: one order from intake to the last delivery, with its shipments held inside.

Lifecycle: record → order rules (local; a hold waits for an operator's release update or a cancel)
→ allocate (cost-optimal plan + reserve, local) → confirm → per shipment: rate → buy label →
released to the warehouse → picked/packed/shipped (signals) → commit stock → delivered. A cancel
update or a failed step runs the compensations in reverse: void labels, release reservations,
tell the customer.

One runner: signals, updates and carrier results are queued (`workflows.order_inbox`) and the run
coroutine handles them one at a time, so that it alone issues commands. Shipments still progress
concurrently (their carrier calls run side by side); only their bookkeeping is serial. The steps it
runs (planning, backorders, release waves, carrier calls, compensation) are in `order_steps`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.inventory import InventoryActivities
    from activities.records import RecordActivities
    from models import names
    from models.commands import CommitStock, ReleaseStock, WavePlan
    from models.notify import NotificationKind
    from models.order import CancelOrder, CancelResult, OrderStatus, OrderView, PlaceOrder, ReleaseHold
    from models.shipment import (
        InvalidTransition,
        Label,
        ShipmentEvent,
        ShipmentState,
        next_state,
    )
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
        cancellable_lines,
        check_releasable,
        open_lines,
        order_record,
        order_view,
        split_cancel,
    )
    from workflows.order_steps import OrderSteps, describe

# Orders started before the intake rules existed replay without the rules step.
RULES_AT_INTAKE = "rules-at-intake"


@workflow.defn(name=names.ORDER_WORKFLOW)
class OrderWorkflow(OrderSteps):
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
        self._backorders_recorded: list[str] = []  # the SKUs on backorder the read model last heard of

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
            await self._update_status()  # the read model and search attributes say cancelled too
            raise
        if self._error is not None:
            await self._wind_down("order failed")
            self._state.failure = describe(self._error)
            await self._update_status()
            await self._notify(NotificationKind.ORDER_FAILED, {"reason": self._state.failure})
            await self._drain()
            raise ApplicationError(f"order {order.order_id} failed: {self._state.failure}",
                                   type="OrderFailed") from self._error
        await self._drain()
        return order_view(self._state)

    # -- messages: each is queued for the runner ---------------------------------------------------

    @workflow.query(name=names.STATUS_QUERY)
    def status(self) -> OrderView:
        return order_view(self._state)

    @workflow.signal(name=names.SHIPMENT_EVENT_UPDATE)
    def shipment_event(self, event: ShipmentEvent) -> None:
        self._inbox.append(WarehouseEvent(event=event, received_at=workflow.now()))

    @workflow.signal(name=names.RETRY_BACKORDERS_SIGNAL)
    def retry_backorders(self) -> None:
        """Stock has come in for a backordered SKU (the backorder sweep): plan the waiting units now."""
        self._inbox.append(BackorderRetry())

    @workflow.signal(name=names.WAVE_PLAN_SIGNAL)
    def wave_plan(self, plan: WavePlan) -> None:
        self._inbox.append(WaveOffer(plan=plan))

    @workflow.update(name=names.RELEASE_HOLD_UPDATE)
    async def release_hold(self, request: ReleaseHold) -> OrderView:
        """An operator lets a held order go on; answers once it is planned."""
        answer: asyncio.Future[OrderView] = asyncio.get_running_loop().create_future()
        self._inbox.append(ReleaseRequest(request=request, answer=answer))
        return await answer

    @release_hold.validator
    def _validate_release(self, request: ReleaseHold) -> None:
        check_releasable(self._state)

    @workflow.update(name=names.CANCEL_UPDATE)
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
