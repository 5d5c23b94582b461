"""Whether a return may be accepted, what it refunds and where the goods go back. Pure.

The activity (activities/records.py) loads the facts: the order, its shipments, what earlier returns
already took back, the network, the time; `check_return` answers from them alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from models.address import Address
from models.commands import LoadReturnContext, ReturnContext
from models.money import Money
from models.network import Capability, Node
from models.records import OrderRecord, ShipmentRecord
from models.returns import ReturnPolicy
from models.shipment import is_delivered
from sourcing.geo import locate
from sourcing.nearest import nearest_node


def check_return(
    request: LoadReturnContext,
    order: OrderRecord | None,
    *,
    shipments: Sequence[ShipmentRecord],
    returned: Mapping[str, int],
    nodes: Sequence[Node],
    policy: ReturnPolicy,
    now: datetime,
) -> ReturnContext:
    """Accept the return when every line asks for no more than was delivered and not yet `returned`
    (by other RMAs), delivered no longer than the policy's window before `now`; then the refund is the
    lines at the order's unit prices and the goods go to the nearest node taking returns.

    A refusal comes back as `rejection` naming the first line at fault, never as an exception. A
    delivered shipment without a delivery time counts as delivered `now`.
    """
    expiry = policy.label_expiry_days
    if order is None:
        return ReturnContext(order=None, rejection=f"unknown order {request.order_id}", label_expiry_days=expiry)
    delivered: dict[str, int] = {}
    delivered_at: dict[str, datetime] = {}
    for shipment in shipments:
        if not is_delivered(shipment.state):
            continue
        when = shipment.delivered_at or now
        for line in shipment.lines:
            delivered[line.sku] = delivered.get(line.sku, 0) + line.quantity
            delivered_at[line.sku] = max(delivered_at.get(line.sku, when), when)
    window = timedelta(days=policy.window_days)
    for asked in request.lines:
        open_qty = delivered.get(asked.sku, 0) - returned.get(asked.sku, 0)
        if asked.quantity > open_qty:
            return ReturnContext(order=order, label_expiry_days=expiry, rejection=(
                f"{asked.sku}: {asked.quantity} requested, only {max(open_qty, 0)} delivered and not yet returned"
            ))
        if now - delivered_at[asked.sku] > window:
            return ReturnContext(order=order, label_expiry_days=expiry, rejection=(
                f"{asked.sku}: delivered {delivered_at[asked.sku]:%Y-%m-%d}, outside the "
                f"{policy.window_days}-day return window"
            ))
    prices = {line.sku: line.unit_price for line in order.lines}
    refund = Money(amount=sum(prices[line.sku] * line.quantity for line in request.lines), currency=order.currency)
    return ReturnContext(order=order, return_node_id=return_node(order.ship_to, nodes), refund=refund,
                         label_expiry_days=expiry, unit_prices=prices)


def return_node(origin: Address, nodes: Sequence[Node]) -> str | None:
    """The located node taking returns nearest to where the goods were delivered; when that address
    cannot be located, the first located one that takes returns; None when no node takes returns."""
    located = [(node.node_id, point) for node in nodes
               if node.can(Capability.RETURNS) and (point := locate(node)) is not None]
    point = locate(origin)
    if point is None:
        return located[0][0] if located else None
    return nearest_node(point, located)
