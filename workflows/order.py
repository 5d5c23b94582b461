"""OrderWorkflow: one order from intake to the last delivery, with its shipments held inside.

Lifecycle: record → order rules (local; a hold waits for an operator's release update or a cancel)
→ allocate (cost-optimal plan + reserve, local) → confirm → per shipment: rate → buy label →
released to the warehouse → picked/packed/shipped (signals) → commit stock → delivered. A cancel
update or a failed step runs the compensations in reverse: void labels, release reservations,
tell the customer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
        StockAllocated,
        VoidLabel,
    )
    from models.notify import Notification, NotificationKind
    from models.order import CancelOrder, CancelResult, OrderStatus, OrderView, PlaceOrder, ReleaseHold
    from models.rules import RuleOutcome
    from models.shipment import (
        InvalidTransition,
        ShipmentEvent,
        ShipmentState,
        ShipmentView,
        next_state,
    )
    from workflows import ids
    from workflows.order_state import (
        OrderState,
        ShipmentRuntime,
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

A = TypeVar("A")
R = TypeVar("R")


@workflow.defn(name=ids.ORDER_WORKFLOW)
class OrderWorkflow:
    @workflow.init
    def __init__(self, order: PlaceOrder) -> None:
        self._state = OrderState(order=order, created_at=workflow.now())
        self._lock = asyncio.Lock()
        self._local_lock = asyncio.Lock()
        self._background: list[asyncio.Task[None]] = []
        self._indexed = ""

    @workflow.run
    async def run(self, order: PlaceOrder) -> OrderView:
        # Asked before anything else: after a local activity the rest of the code may run in a later
        # workflow task than the one that holds the marker, and a replay would then answer False.
        rules_at_intake = workflow.patched(RULES_AT_INTAKE)
        await self._local(RecordActivities.record_order, order_record(self._state, workflow.info().workflow_id))
        if rules_at_intake:
            await self._apply_rules()
        if self._state.held:
            await workflow.wait_condition(lambda: self._state.hold_released or not open_lines(self._state))
        await self._allocate()
        try:
            await self._fulfil_all()
        except (ActivityError, asyncio.CancelledError) as err:
            await self._compensate_all("order failed" if isinstance(err, ActivityError) else "order cancelled")
            if isinstance(err, asyncio.CancelledError):
                raise
            self._state.failure = _describe(err)
            await self._update_status()
            self._notify(NotificationKind.ORDER_FAILED, {"reason": self._state.failure})
            await self._drain()
            raise ApplicationError(f"order {order.order_id} failed: {self._state.failure}", type="OrderFailed") from err
        await self._drain()
        return order_view(self._state)

    # -- messages ---------------------------------------------------------------------------------

    @workflow.query(name=ids.STATUS_QUERY)
    def status(self) -> OrderView:
        return order_view(self._state)

    @workflow.signal(name=ids.SHIPMENT_EVENT_SIGNAL)
    def shipment_event(self, event: ShipmentEvent) -> None:
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
        when = event.occurred_at or workflow.now()
        if shipment.left and shipment.view.shipped_at is None:
            shipment.view.shipped_at = when
        if shipment.view.state is ShipmentState.DELIVERED:
            shipment.view.delivered_at = when
        self._state.events.append(f"{event.shipment_id} {event.type.value}")

    @workflow.update(name=ids.RELEASE_HOLD_UPDATE)
    async def release_hold(self, request: ReleaseHold) -> OrderView:
        """An operator lets a held order go on; answers once it is planned."""
        self._state.hold_released = True
        self._state.events.append(f"hold released by {request.released_by}: {request.reason}")
        await workflow.wait_condition(lambda: self._state.allocated and self._state.status is not OrderStatus.HELD)
        return order_view(self._state)

    @release_hold.validator
    def _validate_release(self, request: ReleaseHold) -> None:
        check_releasable(self._state)

    @workflow.update(name=ids.CANCEL_UPDATE)
    async def cancel(self, request: CancelOrder) -> CancelResult:
        # A held order can be cancelled while it waits; any other waits until it is planned.
        await workflow.wait_condition(
            lambda: self._state.allocated or (self._state.held and not self._state.hold_released))
        async with self._lock:
            line_nos = cancellable_lines(self._state, request.line_nos) if not self._state.status.is_final else []
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
            await workflow.wait_condition(lambda: all(s.view.state is ShipmentState.CANCELLED for s in whole))
            await self._save_shipments([s for s, _ in partial])
            await self._update_status()
            kind = (NotificationKind.ORDER_CANCELLED if self._state.status is OrderStatus.CANCELLED
                    else NotificationKind.LINES_CANCELLED)
            self._notify(kind, {"lines": ", ".join(map(str, line_nos)), "reason": request.reason})
            self._state.events.append(f"cancelled lines {line_nos}: {request.reason}")
            return CancelResult(cancelled_line_nos=line_nos, cancelled_shipment_ids=[s.view.shipment_id for s in whole],
                                status=self._state.status)

    @cancel.validator
    def _validate_cancel(self, request: CancelOrder) -> None:
        cancellable_lines(self._state, request.line_nos)

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
        order = self._state.order
        lines = open_lines(self._state)
        if not lines:  # every line was cancelled while the order was held
            self._state.allocated = True
            await self._update_status()
            return
        allocation: StockAllocated = await self._local(InventoryActivities.allocate, AllocateStock(
            order_id=order.order_id, ship_to=order.ship_to, lines=lines, rules=self._state.rules,
            service_level=order.service_level, deliver_by=order.promised_delivery,
        ))
        self._state.decision = allocation.plan.decision
        for sid, planned in zip(allocation.shipment_ids, allocation.plan.shipments, strict=True):
            keys = dict(zip([line.sku for line in planned.lines], allocation.reservation_keys[sid], strict=True))
            self._state.shipments[sid] = ShipmentRuntime(
                view=ShipmentView(shipment_id=sid, node_id=planned.node_id, lines=planned.lines,
                                  state=ShipmentState.PENDING),
                reservation_keys=keys, planned=planned,
            )
        for line in allocation.plan.unfillable:
            self._state.cancel_quantity(line.line_no, line.quantity, line.reason)
        self._state.events.extend(allocation.plan.explanation)
        self._state.allocated = True
        await self._save_shipments(list(self._state.shipments.values()))
        await self._update_status()
        facts = {"shipments": str(len(self._state.shipments))}
        if allocation.plan.unfillable:
            facts["cancelled"] = "; ".join(f"{u.sku} x{u.quantity}: {u.reason}" for u in allocation.plan.unfillable)
        kind = NotificationKind.ORDER_CONFIRMED if self._state.shipments else NotificationKind.ORDER_CANCELLED
        self._notify(kind, facts)

    async def _fulfil_all(self) -> None:
        """Run every shipment. If one fails, or the workflow is cancelled, the others stop at their
        next safe point (an in-flight label purchase is never abandoned, so its label can be voided)
        and undo themselves before the error goes on."""
        tasks = [asyncio.create_task(self._fulfil(s)) for s in self._state.shipments.values()]
        if not tasks:
            return
        try:
            done, pending = await workflow.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        except asyncio.CancelledError:
            await self._stop_shipments(tasks)
            raise
        failed = next((t for t in done if t.exception() is not None), None)
        if failed is not None:
            await self._stop_shipments(list(pending))
            raise failed.exception()  # type: ignore[misc]

    async def _stop_shipments(self, tasks: list[asyncio.Task[None]]) -> None:
        for shipment in self._state.shipments.values():
            if not shipment.left:
                shipment.cancel_requested = True
        unfinished = [t for t in tasks if not t.done()]
        if unfinished:
            await workflow.wait(unfinished, return_when=asyncio.ALL_COMPLETED)

    async def _fulfil(self, shipment: ShipmentRuntime) -> None:
        order, sid = self._state.order, shipment.view.shipment_id
        if not shipment.cancel_requested:
            rated = await workflow.execute_activity_method(CarrierActivities.rate_shipment, RateShipment(
                reference=sid, node_id=shipment.view.node_id, customer=order.ship_to,
                units=sum(line.quantity for line in shipment.view.lines), service_level=order.service_level,
                **_priced(shipment),
            ), summary=f"rate {sid}", **CARRIER)
        if not shipment.cancel_requested:
            shipment.label = await workflow.execute_activity_method(
                CarrierActivities.buy_label,
                BuyLabel(reference=sid, carrier_shipment_id=rated.carrier_shipment_id, rate_id=rated.rate_id),
                activity_id=f"buy-label-{sid}", summary=f"buy label {sid}", **CARRIER)
            view = shipment.view
            view.carrier, view.service = shipment.label.carrier, shipment.label.service
            view.tracking_number, view.label_cost = shipment.label.tracking_number, shipment.label.cost
            view.state = ShipmentState.RELEASED
            await self._save_shipments([shipment])
            await self._update_status()
        while True:
            seen = shipment.view.state
            if shipment.cancel_requested and not shipment.left:
                await self._compensate(shipment, "cancelled")
                return
            if shipment.left and not shipment.committed:
                keys = list(shipment.reservation_keys.values())
                await self._local(InventoryActivities.commit, CommitStock(keys=keys))
                shipment.committed = True
                self._notify(NotificationKind.SHIPPED, {"tracking_number": shipment.view.tracking_number or "",
                                                        "carrier": shipment.view.carrier or "", "shipment": sid})
            if seen is ShipmentState.DELIVERED:
                self._notify(NotificationKind.DELIVERED, {"shipment": sid})
            await self._save_shipments([shipment])
            await self._update_status()
            if seen is ShipmentState.DELIVERED:
                return
            await self._next_event(shipment, seen)

    @staticmethod
    async def _next_event(shipment: ShipmentRuntime, seen: ShipmentState) -> None:
        await workflow.wait_condition(lambda: shipment.view.state != seen or shipment.cancel_requested)

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

    async def _compensate_all(self, reason: str) -> None:
        for shipment in reversed(list(self._state.shipments.values())):
            if not shipment.left and shipment.view.state is not ShipmentState.CANCELLED:
                await self._compensate(shipment, reason)
                for line in shipment.view.lines:
                    self._state.cancel_quantity(line.line_no, line.quantity, reason)

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

    def _notify(self, kind: NotificationKind, facts: dict[str, str]) -> None:
        """Send in the background: a slow or failed e-mail never holds up or fails the order."""
        customer = self._state.order.customer
        note = Notification(kind=kind, to_email=str(customer.email), to_name=customer.name,
                            reference=self._state.order.order_id, facts=facts)

        async def send() -> None:
            try:
                await self._local(NotifyActivities.notify, note, NOTIFY)
            except ActivityError as err:
                self._state.events.append(f"notification {kind.value} failed: {_describe(err)}")

        self._background.append(asyncio.create_task(send()))

    async def _drain(self) -> None:
        await workflow.wait_condition(lambda: all(t.done() for t in self._background))
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _local(self, fn: Callable[[Any, A], R], arg: A, policy: dict[str, Any] = LOCAL_DB) -> R:
        """Run a local activity, one at a time per order. Shipments run concurrently, and two local
        activities in flight together can resolve in one activation live but in two on replay (when a
        slow one outlives a workflow-task heartbeat), which reorders the commands that follow them."""
        async with self._local_lock:
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
