"""The order workflow's steps: planning (with backorders and release waves), carrier calls,
compensation and the read-model bookkeeping. `OrderWorkflow` (workflows/order.py) runs them from
its one runner; they live apart only to keep each module readable.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.inventory import InventoryActivities
    from activities.notify import NotifyActivities
    from activities.records import RecordActivities
    from activities.sourcing import SourcingActivities
    from models.commands import (
        AllocateStock,
        BuyLabel,
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
    from models.order import OrderStatus
    from models.records import OrderStatusChange
    from models.rules import RuleOutcome
    from models.shipment import ShipmentLine, ShipmentState, ShipmentView
    from workflows import search_attributes as search
    from workflows.order_inbox import CarrierDone, CarrierStep, InboxItem
    from workflows.order_state import (
        OrderState,
        ShipmentRuntime,
        backordered_lines,
        derive_status,
        open_lines,
        shipment_records,
    )
    from workflows.policies import CARRIER, COMPENSATION, LOCAL_DB, NOTIFY

# Under the `backorder` policy, units no node can ship are planned again this often, and cancelled
# when they are still waiting after BACKORDER_MAX_WAIT.
BACKORDER_RETRY_EVERY = timedelta(hours=1)
BACKORDER_MAX_WAIT = timedelta(days=14)

A = TypeVar("A")
R = TypeVar("R")


class OrderSteps:
    """State and steps shared by the order workflow; it sets these attributes in its constructor."""

    _state: OrderState
    _inbox: deque[InboxItem]
    _in_flight: set[str]
    _indexed: str
    _stopping: bool
    _backorders_recorded: list[str]

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
        if allocation.hold is not None:
            self._state.release_at = workflow.now() + allocation.hold
            self._state.events.append(f"shipments wait for a release wave until {self._state.release_at:%H:%M} UTC")
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
        if not self._state.backordered:
            return
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
        for line in lines:
            if filled := line.quantity - self._state.backordered.get(line.line_no, 0):
                self._state.filled_from_backorder[line.line_no] = (
                    self._state.filled_from_backorder.get(line.line_no, 0) + filled)
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
        if self._state.release_at is None or self._stopping:
            self._state.events.append(f"{offer.wave_id}: arrived after release; the plan stands")
            return
        old = [s for s in self._state.shipments.values()
               if s.view.state is ShipmentState.PENDING and not s.cancel_requested]
        if _units(line for s in old for line in s.view.lines) != _units(
                line for s in offer.plan.shipments for line in s.lines):
            self._state.events.append(f"{offer.wave_id}: the order changed since the wave planned it; the plan stands")
            return
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

    async def _update_status(self) -> None:
        """Derive the status; keep the search attributes (status, shipments, tracking) and the DB in step."""
        status = derive_status(self._state)
        shipments = list(self._state.shipments.values())
        order = self._state.order
        attributes: list[SearchAttributeUpdate[Any]] = [
            search.ORDER_STATUS.value_set(status.value),
            search.CHANNEL.value_set(order.channel),
            search.ORDER_ID.value_set(order.order_id),
            search.ORDER_TOTAL.value_set(order.total.amount),
            search.SHIPMENT_IDS.value_set([s.view.shipment_id for s in shipments]),
            search.NODES.value_set(sorted({s.view.node_id for s in shipments})),
            search.TRACKING_NUMBERS.value_set([s.view.tracking_number for s in shipments if s.view.tracking_number]),
        ]
        snapshot = repr([(s.view.shipment_id, s.view.tracking_number) for s in shipments] + [status.value])
        if snapshot != self._indexed:
            workflow.upsert_search_attributes(attributes)
            self._indexed = snapshot
        waiting = sorted({order.lines[line_no - 1].sku for line_no in self._state.backordered})
        if status is not self._state.status or waiting != self._backorders_recorded:
            self._state.status = status
            change = OrderStatusChange(order_id=order.order_id, status=status,
                                       backordered_skus=waiting if waiting != self._backorders_recorded else None)
            self._backorders_recorded = waiting
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
            self._state.events.append(f"notification {kind.value} failed: {describe(err)}")

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


def _units(lines: Iterable[ShipmentLine]) -> dict[tuple[int, str], int]:
    out: dict[tuple[int, str], int] = {}
    for line in lines:
        out[(line.line_no, line.sku)] = out.get((line.line_no, line.sku), 0) + line.quantity
    return out


def describe(err: BaseException) -> str:
    cause = err.__cause__ or err
    return str(cause) or type(cause).__name__
