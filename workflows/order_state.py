"""The order workflow's state and the pure rules over it: views, status, what may be cancelled.

Kept apart from the workflow so that the rules are plain functions that unit tests can call, and so
that the whole state (one model, `OrderState`) can be handed on by continue-as-new.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from models.address import Address
from models.names import order_workflow_id
from models.order import HoldReason, LineStatus, OrderLineView, OrderStatus, OrderView, PlaceOrder
from models.plan import PlannedShipment, SourcingDecision
from models.records import OrderRecord, ShipmentRecord
from models.reroute import RerouteShipment
from models.rules import RuleOutcome
from models.shipment import ShipmentLine, ShipmentState, ShipmentView, has_left_the_building, is_delivered


class ShipmentRuntime(BaseModel):
    """A shipment as the order sees it. Until it is released it is the order's alone (waves may
    replace it, a cancel releases its stock here); from then on its fulfilment workflow owns it and
    reports each change (`view`) until its outcome."""

    view: ShipmentView
    reservation_keys: dict[str, str] = Field(default_factory=dict, description="sku -> reservation key")
    planned: PlannedShipment | None = Field(default=None, description="what sourcing priced: carrier, weight")
    started: bool = Field(default=False, description="its fulfilment workflow runs (or ran)")
    finished: bool = Field(default=False, description="its fulfilment workflow has ended")
    cancel_requested: bool = False
    cancel_reason: str | None = None

    @property
    def left(self) -> bool:
        return has_left_the_building(self.view.state)


class CancelledQuantity(BaseModel):
    quantity: int
    reason: str


class OrderState(BaseModel):
    order: PlaceOrder
    created_at: datetime
    status: OrderStatus = OrderStatus.RECEIVED
    allocated: bool = False
    shipments: dict[str, ShipmentRuntime] = Field(default_factory=dict)
    cancelled: dict[int, list[CancelledQuantity]] = Field(default_factory=dict)
    events: list[str] = Field(default_factory=list)
    failure: str | None = None
    rules: RuleOutcome | None = None
    held: bool = False
    hold_released: bool = False
    hold_reason: HoldReason | None = Field(default=None, description=(
        "why the order waits for an operator (with `held`); None with `held` means an intake rule's review"))
    decision: SourcingDecision | None = None
    backordered: dict[int, int] = Field(default_factory=dict, description="line_no -> units waiting for stock")
    backordered_since: datetime | None = None
    backorder_retry_at: datetime | None = None
    filled_from_backorder: dict[int, int] = Field(
        default_factory=dict, description="line_no -> units that waited for stock and have since been planned")
    release_at: datetime | None = Field(default=None, description="shipments wait until then for a release wave")
    excluded_nodes: list[str] = Field(default_factory=list,
                                      description="nodes that handed work back: not planned from again")
    stopping: bool = Field(default=False, description="the order failed or was cancelled: shipments wind down")
    indexed: str = Field(default="", description="what the search attributes last said")
    exception_indexed: str | None = Field(default=None, description=(
        "the carrier exception TrackingException last said was open"))
    backorders_recorded: list[str] = Field(default_factory=list, description="backordered SKUs the read model knows")
    pickup_address: Address | None = Field(default=None, description="a pickup order's store, as an address")
    reroutes: dict[str, int] = Field(default_factory=dict, description="shipment id -> reroutes taken (numbers the "
                                     "new reservation keys); a rerouted order keeps its plan through release waves")

    @property
    def ship_to(self) -> Address:
        """Where the order goes: a pickup order's store (sourcing measures from it), else the ship-to."""
        address = self.pickup_address if self.order.pickup is not None else self.order.ship_to
        if address is None:
            raise ValueError(f"order {self.order.order_id} has no ship_to")
        return address

    def cancel_quantity(self, line_no: int, quantity: int, reason: str) -> None:
        self.cancelled.setdefault(line_no, []).append(CancelledQuantity(quantity=quantity, reason=reason))

    def quantity_cancelled(self, line_no: int) -> int:
        return sum(c.quantity for c in self.cancelled.get(line_no, []))

    def parts(self, line_no: int) -> list[tuple[ShipmentRuntime, ShipmentLine]]:
        return [(s, line) for s in self.shipments.values() if s.view.state is not ShipmentState.CANCELLED
                for line in s.view.lines if line.line_no == line_no]


def current_hold(state: OrderState) -> HoldReason | None:
    """Why the order waits for an operator now, or None."""
    if state.held and not state.hold_released and not state.allocated:
        return state.hold_reason or HoldReason.REVIEW
    return None


def derive_status(state: OrderState) -> OrderStatus:
    if state.failure is not None:
        return OrderStatus.FAILED
    if not state.allocated:
        if not open_lines(state):
            return OrderStatus.CANCELLED
        if state.held and not state.hold_released:
            return OrderStatus.HELD
        return OrderStatus.RECEIVED
    live = [s for s in state.shipments.values() if s.view.state is not ShipmentState.CANCELLED]
    if state.backordered:
        if not live:
            return OrderStatus.BACKORDERED
        return OrderStatus.PARTIALLY_SHIPPED if any(s.left for s in live) else OrderStatus.FULFILLING
    if not live:
        return OrderStatus.CANCELLED
    if all(is_delivered(s.view.state) for s in live):
        return OrderStatus.COMPLETED
    if all(s.left for s in live):
        return OrderStatus.SHIPPED
    if any(s.left for s in live):
        return OrderStatus.PARTIALLY_SHIPPED
    return OrderStatus.FULFILLING


def line_status(state: OrderState, line_no: int, quantity: int) -> LineStatus:
    if state.quantity_cancelled(line_no) >= quantity:
        return LineStatus.CANCELLED
    if state.backordered.get(line_no):
        return LineStatus.BACKORDERED
    parts = state.parts(line_no)
    if not parts:
        return LineStatus.OPEN
    if all(is_delivered(s.view.state) for s, _ in parts):
        return LineStatus.DELIVERED
    if all(s.left for s, _ in parts):
        return LineStatus.SHIPPED
    return LineStatus.ALLOCATED


def order_view(state: OrderState) -> OrderView:
    order = state.order
    lines = []
    for line_no, line in enumerate(order.lines, start=1):
        cancelled = state.cancelled.get(line_no, [])
        lines.append(OrderLineView(
            line_no=line_no, sku=line.sku, quantity=line.quantity, unit_price=line.unit_price,
            status=line_status(state, line_no, line.quantity),
            quantity_cancelled=sum(c.quantity for c in cancelled),
            cancel_reason="; ".join(c.reason for c in cancelled) or None,
            quantity_backordered=state.backordered.get(line_no, 0),
            quantity_filled_from_backorder=state.filled_from_backorder.get(line_no, 0),
        ))
    return OrderView(
        order_id=order.order_id, workflow_id=order_workflow_id(order.order_id), channel=order.channel,
        channel_order_id=order.channel_order_id, status=state.status, currency=order.currency,
        total=order.total, lines=lines, shipments=[s.view for s in state.shipments.values()],
        created_at=state.created_at, failure=state.failure, events=list(state.events),
        holds=list(state.rules.holds) if state.rules is not None else [],
        hold_reason=current_hold(state) if state.status is OrderStatus.HELD else None,
        rules_fired=[str(f) for f in state.rules.fired] if state.rules is not None else [],
        decision=state.decision,
    )


def open_lines(state: OrderState) -> list[ShipmentLine]:
    """What is still to be planned: each line less what was cancelled before allocation (a held order
    may lose lines while it waits)."""
    lines = []
    for line_no, line in enumerate(state.order.lines, start=1):
        quantity = line.quantity - state.quantity_cancelled(line_no)
        if quantity > 0:
            lines.append(ShipmentLine(line_no=line_no, sku=line.sku, quantity=quantity))
    return lines


def backordered_lines(state: OrderState) -> list[ShipmentLine]:
    """The units waiting for stock, one line each, to plan again."""
    return [ShipmentLine(line_no=line_no, sku=state.order.lines[line_no - 1].sku, quantity=quantity)
            for line_no, quantity in sorted(state.backordered.items()) if quantity > 0]


def check_releasable(state: OrderState) -> None:
    """ValueError saying why a release request cannot be taken."""
    if not state.held or state.hold_released:
        raise ValueError(f"order {state.order.order_id} is not on hold")
    if state.status.is_final:
        raise ValueError(f"order {state.order.order_id} is already {state.status.value}")


def check_reroutable(state: OrderState, request: RerouteShipment) -> ShipmentRuntime:
    """The shipment a reroute request would move; ValueError saying why if it can't be moved. Only a
    shipment no fulfilment has started may move: from its release on, the node owns it."""
    order_id, sid = state.order.order_id, request.shipment_id
    if state.status.is_final:
        raise ValueError(f"order {order_id} is already {state.status.value}")
    if state.stopping:
        raise ValueError(f"order {order_id} is winding down (cancelled or failed)")
    if state.held and not state.hold_released:
        raise ValueError(f"order {order_id} is on hold: release it first")
    shipment = state.shipments.get(sid)
    if shipment is None:
        known = ", ".join(state.shipments) or "none yet"
        raise ValueError(f"order {order_id} has no shipment {sid} (its shipments: {known})")
    current = shipment.view.state
    if current is ShipmentState.CANCELLED:
        raise ValueError(f"shipment {sid} is cancelled")
    if shipment.started or current is not ShipmentState.PENDING:
        shown = "released" if current is ShipmentState.PENDING else current.value
        raise ValueError(f"shipment {sid} is {shown}: only a shipment not yet released can be rerouted")
    if shipment.cancel_requested:
        raise ValueError(f"shipment {sid} is being cancelled")
    if shipment.view.node_id == request.node_id:
        raise ValueError(f"shipment {sid} already ships from {request.node_id}")
    return shipment


def cancellable_lines(state: OrderState, line_nos: list[int] | None) -> list[int]:
    """The lines a cancel request would touch; ValueError saying why if it can't be done."""
    if state.status.is_final:
        raise ValueError(f"order {state.order.order_id} is already {state.status.value}")
    count = len(state.order.lines)

    def open_part(line_no: int) -> bool:
        if state.quantity_cancelled(line_no) >= state.order.lines[line_no - 1].quantity:
            return False
        if not state.allocated or state.backordered.get(line_no):
            return True
        return any(not s.left and not s.cancel_requested for s, _ in state.parts(line_no))

    if line_nos is None:
        chosen = [n for n in range(1, count + 1) if open_part(n)]
        if not chosen:
            gone = [s for s in state.shipments.values() if s.left]
            shipped = sorted({line.line_no for s in gone for line in s.view.lines})
            named = f" (line_nos: {shipped} shipped in {', '.join(s.view.shipment_id for s in gone)})" if gone else ""
            raise ValueError(f"nothing left to cancel: every line has shipped or is cancelled{named}")
        return chosen
    for n in line_nos:
        if not 1 <= n <= count:
            raise ValueError(f"line_nos: line {n} does not exist (the order has {count} lines)")
        if not open_part(n):
            raise ValueError(f"line_nos: line {n} has already shipped or been cancelled")
    return sorted(set(line_nos))


Partial = tuple[ShipmentRuntime, set[str]]


def split_cancel(state: OrderState, line_nos: list[int]) -> tuple[list[ShipmentRuntime], list[Partial]]:
    """Shipments whose every line is cancelled (cancel them whole), and those that lose some lines."""
    whole: list[ShipmentRuntime] = []
    partial: list[Partial] = []
    for shipment in state.shipments.values():
        if shipment.left or shipment.view.state is ShipmentState.CANCELLED or shipment.cancel_requested:
            continue
        hit = {line.sku for line in shipment.view.lines if line.line_no in line_nos}
        if hit and len(hit) == len(shipment.view.lines):
            whole.append(shipment)
        elif hit:
            partial.append((shipment, hit))
    return whole, partial


def order_record(state: OrderState, workflow_id: str) -> OrderRecord:
    order = state.order
    return OrderRecord(
        order_id=order.order_id, workflow_id=workflow_id, channel=order.channel,
        channel_order_id=order.channel_order_id, status=OrderStatus.RECEIVED, currency=order.currency,
        customer=order.customer, ship_to=state.ship_to, lines=order.lines, created_at=state.created_at,
    )


def shipment_records(state: OrderState, shipments: list[ShipmentRuntime]) -> list[ShipmentRecord]:
    """Read-model rows of shipments the order still owns (not yet handed to a fulfilment)."""
    return [ShipmentRecord(
        shipment_id=s.view.shipment_id, order_id=state.order.order_id, node_id=s.view.node_id,
        lines=s.view.lines, state=s.view.state, carrier=s.view.carrier, service=s.view.service,
        tracking_number=s.view.tracking_number,
        carrier_shipment_id=None,
        label_cost=s.view.label_cost.amount if s.view.label_cost else None, currency=state.order.currency,
        shipped_at=s.view.shipped_at, delivered_at=s.view.delivered_at,
    ) for s in shipments]
