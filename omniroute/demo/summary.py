"""The demo's closing figures: counted from what the simulated warehouse saw, shown as a rich table."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from rich.table import Table

from models.order import OrderStatus
from models.returns import ReturnStatus
from models.shipment import ShipmentState, has_left_the_building
from omniroute.demo.warehouse import TrackedOrder


@dataclass
class ReturnOutcome:
    rma: str
    order_id: str
    status: ReturnStatus | None = None
    last_error: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status is not None and self.status.is_final


@dataclass(frozen=True)
class DemoSummary:
    """Counts and timings of one demo run. `all_final` is what the exit code reports."""

    orders_placed: int
    completed: int
    cancelled: int
    failed: int
    not_final: list[str]
    units_cancelled: int
    shipments: int
    split_orders: int
    orders_with_shipments: int
    shipping_cost: dict[str, int]
    shipped_p50_s: float | None
    shipped_p95_s: float | None
    returns_started: int
    returns_restocked: int
    returns_rejected: int
    returns_expired: int
    returns_not_final: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    held_by_rules: int = 0
    cancelled_by_customer: int = 0
    backordered_orders: int = 0
    backorders_filled: int = 0
    units_received: int = 0
    dropship_shipped: int = 0
    handed_back_resourced: int = 0
    pickups_placed: int = 0
    pickups_collected: int = 0
    curbside_placed: int = 0
    curbside_collected: int = 0
    pickups_expired: int = 0
    store_troubles_resourced: int = 0
    threepl_shipped: int = 0
    carrier_exceptions: int = 0
    sms_customers: int = 0  # customers who asked for SMS updates
    sms_sent: int = 0  # SMS the Twilio sandbox took for them

    @property
    def split_rate(self) -> float:
        return self.split_orders / self.orders_with_shipments if self.orders_with_shipments else 0.0

    @property
    def all_final(self) -> bool:
        return not self.not_final and not self.returns_not_final


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    below, above = math.floor(position), math.ceil(position)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def summarize(
    orders: Iterable[TrackedOrder], returns: Iterable[ReturnOutcome], *, placed: int, elapsed_s: float,
    units_received: int = 0, dropship_nodes: Collection[str] = (), threepl_nodes: Collection[str] = (),
    pickups_placed: int = 0, curbside_placed: int = 0, sms_customers: int = 0, sms_sent: int = 0,
) -> DemoSummary:
    """`dropship_nodes`, `threepl_nodes`: the vendors' and 3PLs' node ids, whose shipments count as
    dropship or 3PL shipped once they ship. `pickups_placed`, `curbside_placed`: the BOPIS and curbside
    orders placed."""
    orders, returns = list(orders), list(returns)
    statuses = [o.status for o in orders]
    live = [[s for s in o.shipments.values() if s.state is not ShipmentState.CANCELLED] for o in orders]
    cost: dict[str, int] = {}
    for shipments in live:
        for shipment in shipments:
            if shipment.label_cost is not None:
                currency = shipment.currency or "USD"
                cost[currency] = cost.get(currency, 0) + shipment.label_cost
    to_shipped = [seconds for o in orders for seconds in o.shipped_after_s.values()]
    return DemoSummary(
        orders_placed=placed,
        completed=statuses.count(OrderStatus.COMPLETED),
        cancelled=statuses.count(OrderStatus.CANCELLED),
        failed=statuses.count(OrderStatus.FAILED),
        not_final=sorted(o.order_id for o in orders if not o.is_final),
        units_cancelled=sum(o.quantity_cancelled for o in orders),
        shipments=sum(len(s) for s in live),
        split_orders=sum(1 for s in live if len(s) > 1),
        held_by_rules=sum(1 for o in orders if o.was_held),
        cancelled_by_customer=sum(1 for o in orders if o.cancel_requested and o.status is OrderStatus.CANCELLED),
        backordered_orders=sum(1 for o in orders if o.was_backordered),
        backorders_filled=sum(1 for o in orders
                              if o.was_backordered and o.status is OrderStatus.COMPLETED and not o.backordered),
        units_received=units_received,
        dropship_shipped=sum(1 for o in orders for s in o.shipments.values()
                             if s.node_id in dropship_nodes and has_left_the_building(s.state)),
        handed_back_resourced=sum(_handed_back_and_resourced(o) for o in orders),
        pickups_placed=pickups_placed,
        pickups_collected=sum(1 for o in orders if o.customer.pickup and not o.customer.curbside
                              and any(s.state is ShipmentState.COLLECTED for s in o.shipments.values())),
        curbside_placed=curbside_placed,
        curbside_collected=sum(1 for o in orders if o.customer.curbside
                               and any(s.state is ShipmentState.COLLECTED for s in o.shipments.values())),
        pickups_expired=sum(1 for o in orders for sid in o.ready_for_pickup
                            if sid in o.shipments and o.shipments[sid].state is ShipmentState.CANCELLED
                            and not o.cancel_requested),
        store_troubles_resourced=sum(_store_trouble_resourced(o) for o in orders),
        threepl_shipped=sum(1 for o in orders for s in o.shipments.values()
                            if s.node_id in threepl_nodes and has_left_the_building(s.state)),
        carrier_exceptions=sum(len(o.carrier_exceptions) for o in orders),
        sms_customers=sms_customers,
        sms_sent=sms_sent,
        orders_with_shipments=sum(1 for s in live if s),
        shipping_cost=cost,
        shipped_p50_s=percentile(to_shipped, 0.50),
        shipped_p95_s=percentile(to_shipped, 0.95),
        returns_started=len(returns),
        returns_restocked=sum(1 for r in returns if r.status is ReturnStatus.COMPLETED),
        returns_rejected=sum(1 for r in returns if r.status is ReturnStatus.REJECTED),
        returns_expired=sum(1 for r in returns if r.status is ReturnStatus.EXPIRED),
        returns_not_final=sorted(r.rma for r in returns if not r.is_final),
        elapsed_s=elapsed_s,
    )


def _handed_back_and_resourced(order: TrackedOrder) -> int:
    """Shipments of a completed order that ended cancelled while their SKUs left in another shipment:
    a node handed them back (rejected, silent, short) and the order sourced them elsewhere."""
    if order.status is not OrderStatus.COMPLETED:
        return 0
    shipments = list(order.shipments.values())
    left = {sku for s in shipments if has_left_the_building(s.state) for sku, _ in s.lines}
    return sum(1 for s in shipments
               if s.state is ShipmentState.CANCELLED and s.lines and all(sku in left for sku, _ in s.lines))


def _store_trouble_resourced(order: TrackedOrder) -> int:
    """Shipments of a completed order a store rejected or short picked, whose lines (all of a reject's,
    the short one of a short pick's) left in another shipment: sourced again elsewhere."""
    if order.status is not OrderStatus.COMPLETED:
        return 0
    counted = 0
    for sid, (_, handed_back) in order.store_troubled.items():
        skus = set(handed_back)
        elsewhere = {sku for s in order.shipments.values() if s.shipment_id != sid
                     and has_left_the_building(s.state) for sku, _ in s.lines}
        counted += bool(skus) and skus <= elsewhere
    return counted


def render_summary(summary: DemoSummary) -> Table:
    table = Table(title="Omniroute demo", show_header=True, header_style="bold")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    rows = [
        ("Orders placed", str(summary.orders_placed)),
        ("Orders completed", str(summary.completed)),
        ("Orders cancelled", str(summary.cancelled)),
        ("Orders failed", str(summary.failed)),
        ("Orders not final", str(len(summary.not_final))),
        ("Orders held by rules, then released", str(summary.held_by_rules)),
        ("Orders cancelled by the customer", str(summary.cancelled_by_customer)),
        ("Units on cancelled lines", str(summary.units_cancelled)),
        ("Orders backordered, then filled", f"{summary.backorders_filled} of {summary.backordered_orders}"),
        ("Units received for backorders", str(summary.units_received)),
        ("Shipments", str(summary.shipments)),
        ("Dropship shipped (by the vendor)", str(summary.dropship_shipped)),
        ("Handed back by a node and re-sourced", str(summary.handed_back_resourced)),
        ("Rejected or short picked by a store, re-sourced", str(summary.store_troubles_resourced)),
        ("3PL shipped (by ShipBob)", str(summary.threepl_shipped)),
        ("Picked up in store (BOPIS)", f"{summary.pickups_collected} of {summary.pickups_placed}"),
        ("Curbside collected", f"{summary.curbside_collected} of {summary.curbside_placed}"),
        ("Pickups not collected (expired)", str(summary.pickups_expired)),
        ("Tracking exceptions (carrier)", str(summary.carrier_exceptions)),
        ("SMS sent (to customers who asked)", f"{summary.sms_sent} to {summary.sms_customers} customers"),
        ("Split rate", f"{summary.split_rate:.1%} ({summary.split_orders} of {summary.orders_with_shipments})"),
        ("Total shipping cost", _money(summary.shipping_cost)),
        ("Order to shipped p50", _seconds(summary.shipped_p50_s)),
        ("Order to shipped p95", _seconds(summary.shipped_p95_s)),
        ("Returns received and restocked", f"{summary.returns_restocked} of {summary.returns_started}"),
        ("Returns rejected", str(summary.returns_rejected)),
        ("Returns expired", str(summary.returns_expired)),
        ("Returns not final", str(len(summary.returns_not_final))),
        ("Wall time", _seconds(summary.elapsed_s)),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def _money(amounts: dict[str, int]) -> str:
    if not amounts:
        return "0.00 USD"
    return ", ".join(f"{amount / 100:,.2f} {currency}" for currency, amount in sorted(amounts.items()))


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"
