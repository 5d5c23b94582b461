"""Channel allocation: how much of the network's ATP a channel may promise, and why.

Pure: positions, node kinds and the channel's rule in, the channel's availability out. Every
rounding is a floor, so a channel is never promised more than the network holds. The arithmetic is
`ChannelAllocation.shows` and `.allowance`, which the store's reservations are held to as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from models.allocation import ChannelAllocation, ChannelAvailability, ChannelNodeAvailability
from models.inventory import InventoryPosition
from models.network import NodeKind


def node_visible(rule: ChannelAllocation, node_id: str, kind: NodeKind) -> bool:
    """Whether `rule` lets its channel see the node at all."""
    return rule.shows(node_id, kind)


def channel_atp(rule: ChannelAllocation, network_atp: int, own_reserved: int = 0) -> int:
    """One visible node's ATP for the channel: the floor of the percentage, less the buffer, less the
    `own_reserved` units the channel's open reservations already take there; never below 0."""
    return rule.allowance(network_atp, own_reserved)


def explain(rule: ChannelAllocation | None, channel: str | None) -> list[str]:
    """The rule in words, one sentence per part that changes what the channel sees."""
    if channel is None:
        return ["no channel given: network ATP"]
    if rule is None:
        return [f"no allocation rule for {channel}: it sees all network ATP"]
    lines: list[str] = []
    if rule.percent != 100:
        lines.append(f"{channel} sees {rule.percent:g}% of each node's ATP, rounded down")
    if rule.buffer:
        lines.append(f"{channel} sees {rule.buffer} units fewer at each node")
    if rule.only_node_kinds is not None or rule.only_nodes is not None:
        kinds = ", ".join(str(kind) for kind in rule.only_node_kinds or [])
        nodes = ", ".join(rule.only_nodes or [])
        seen = " and ".join(part for part in (f"{kinds} nodes" if kinds else "", nodes) if part) or "no nodes"
        lines.append(f"{channel} only sees {seen}")
    for kind in rule.hidden_node_kinds:
        lines.append(f"{kind} nodes hidden from {channel}")
    if rule.hidden_nodes:
        lines.append(f"{', '.join(rule.hidden_nodes)} hidden from {channel}")
    return lines or [f"{channel} sees all network ATP"]


def channel_availability(
    sku: str,
    positions: Sequence[InventoryPosition],
    kinds: Mapping[str, NodeKind],
    rule: ChannelAllocation | None,
    channel: str | None,
    own_reserved: Mapping[str, int] | None = None,
) -> ChannelAvailability:
    """ATP of `sku` per node and in total as `channel` sees it (all of it when `rule` is None).

    `positions` are this SKU's positions at active nodes; `kinds` maps each of their node ids to its kind;
    `own_reserved` the units of `sku` the channel's open reservations take per node (none if not given). Nodes
    the rule hides are left out; `network_atp` is the total before the rule.
    """
    own = own_reserved or {}
    visible: list[ChannelNodeAvailability] = []
    for position in sorted(positions, key=lambda p: p.node_id):
        kind = kinds[position.node_id]
        if rule is not None and not node_visible(rule, position.node_id, kind):
            continue
        visible.append(
            ChannelNodeAvailability(
                node_id=position.node_id,
                kind=kind,
                atp=position.atp if rule is None else channel_atp(rule, position.atp, own.get(position.node_id, 0)),
                network_atp=position.atp,
                on_hand=position.on_hand,
                reserved=position.reserved,
                safety_stock=position.safety_stock,
            )
        )
    return ChannelAvailability(
        sku=sku,
        channel=channel,
        total_atp=sum(node.atp for node in visible),
        network_atp=sum(position.atp for position in positions),
        nodes=visible,
        explanation=explain(rule, channel),
    )
