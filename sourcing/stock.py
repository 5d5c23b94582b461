"""The ATP snapshot decisions are made from (the network's, or a channel's under its allocation rule),
and the backordered orders whose stock has come in. Pure."""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence

from models.allocation import ChannelAllocation
from models.inventory import InventoryPosition
from models.network import Node


def atp_at(positions: Iterable[InventoryPosition], node_ids: Container[str]) -> dict[str, dict[str, int]]:
    """ATP per node id, then per SKU, of the positions at `node_ids` that have units to promise."""
    atp: dict[str, dict[str, int]] = {}
    for position in positions:
        if position.node_id in node_ids and position.atp > 0:
            atp.setdefault(position.node_id, {})[position.sku] = position.atp
    return atp


def channel_atp_at(
    positions: Iterable[InventoryPosition], nodes: Mapping[str, Node], rule: ChannelAllocation | None,
    own_reserved: Mapping[tuple[str, str], int],
) -> dict[str, dict[str, int]]:
    """`atp_at` as a channel with allocation `rule` may reserve it: only at the `nodes` the rule shows
    the channel, and at each no more than its allowance there, `own_reserved` being the units the channel's
    open reservations take per (node id, SKU). The store holds every reservation to the same allowance, so a
    plan made from this snapshot is refused only if stock moved meanwhile. No rule: the network's ATP."""
    if rule is None:
        return atp_at(positions, nodes)
    atp: dict[str, dict[str, int]] = {}
    for position in positions:
        node = nodes.get(position.node_id)
        if node is None or not rule.shows(node.node_id, node.kind):
            continue
        allowed = rule.allowance(position.atp, own_reserved.get((position.node_id, position.sku), 0))
        if allowed > 0:
            atp.setdefault(position.node_id, {})[position.sku] = allowed
    return atp


def add_stock(pool: dict[str, dict[str, int]], more: dict[str, dict[str, int]]) -> None:
    """Add `more` (units per node id, then per SKU) into `pool`."""
    for node_id, stock in more.items():
        at = pool.setdefault(node_id, {})
        for sku, units in stock.items():
            at[sku] = at.get(sku, 0) + units


def orders_with_stock_back(
    waiting: Sequence[tuple[str, str, list[str]]], atp: dict[str, dict[str, int]]
) -> list[str]:
    """The workflow ids, in the order given, of the `waiting` orders ((order_id, workflow_id, SKUs on
    backorder)) of which some SKU has ATP at a node of `atp`: re-planning them may ship something."""
    stocked = {sku for stock in atp.values() for sku in stock}
    return [workflow_id for _, workflow_id, wanted in waiting if stocked.intersection(wanted)]
