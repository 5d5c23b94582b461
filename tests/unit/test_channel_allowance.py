"""What a channel may still reserve under its allocation rule: its own open reservations count against
its share, the planner's snapshot is the channel's, and an order id names its channel."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.allocation import ChannelAllocation
from models.inventory import InventoryPosition
from models.network import Node, NodeKind
from models.order import channel_of_order, order_id_for
from sourcing.allocation import channel_availability
from sourcing.stock import atp_at, channel_atp_at

QUARTER = ChannelAllocation(percent=25)

percents = st.integers(min_value=0, max_value=10_000).map(lambda basis_points: basis_points / 100)
units = st.integers(min_value=0, max_value=100_000)


def test_reserving_its_share_leaves_the_channel_nothing_while_the_node_still_has_stock() -> None:
    assert QUARTER.allowance(20) == 5
    assert QUARTER.allowance(15, own_reserved=5) == 0
    assert QUARTER.allowance(17, own_reserved=3) == 2


def test_another_channels_reservations_shrink_the_share_and_released_units_grow_it_back() -> None:
    assert QUARTER.allowance(8) == 2, "web took 12 of 20"
    assert QUARTER.allowance(20, own_reserved=0) == QUARTER.allowance(20)


def test_a_buffer_is_taken_off_the_share_and_the_channels_reservations_off_what_is_left() -> None:
    rule = ChannelAllocation(buffer=15)

    assert [rule.allowance(20), rule.allowance(17, own_reserved=3), rule.allowance(10)] == [5, 2, 0]


@given(atp=units, own=units, percent=percents, buffer=st.integers(min_value=0, max_value=500),
       taken=st.integers(min_value=0, max_value=100_000))
def test_taking_part_of_the_allowance_leaves_exactly_the_rest(
        atp: int, own: int, percent: float, buffer: int, taken: int) -> None:
    rule = ChannelAllocation(percent=percent, buffer=buffer)
    allowed = rule.allowance(atp, own)
    taken = min(taken, allowed)

    assert 0 <= allowed <= atp
    assert rule.allowance(atp - taken, own + taken) == allowed - taken


@given(atp=units, own=units, percent=percents, other=units)
def test_other_channels_reservations_never_grow_the_allowance(atp: int, own: int, percent: float, other: int) -> None:
    rule = ChannelAllocation(percent=percent)

    assert rule.allowance(max(0, atp - other), own) <= rule.allowance(atp, own)


@pytest.mark.parametrize(("order_id", "channel"), [
    (order_id_for("marketplace", "A-1"), "marketplace"),
    (order_id_for("amazon_eu", "123-4567-89"), "amazon_eu"),
    ("o1", None),
    ("-x", None),
])
def test_an_order_id_names_the_channel_it_was_made_for(order_id: str, channel: str | None) -> None:
    assert channel_of_order(order_id) == channel


NODES = {node_id: Node(node_id=node_id, name=node_id, kind=kind, postal_code="60601") for node_id, kind in
         (("dc-a", NodeKind.DC), ("dc-b", NodeKind.DC), ("store-a", NodeKind.STORE))}


def position(node_id: str, on_hand: int, reserved: int = 0, sku: str = "TEE") -> InventoryPosition:
    return InventoryPosition(node_id=node_id, sku=sku, on_hand=on_hand, reserved=reserved)


def test_the_planners_snapshot_is_what_the_channel_may_still_reserve_at_the_nodes_it_sees() -> None:
    positions = [position("dc-a", 20, reserved=5), position("dc-b", 20), position("store-a", 20)]
    rule = ChannelAllocation(percent=25, hidden_node_kinds=[NodeKind.STORE])

    snapshot = channel_atp_at(positions, NODES, rule, {("dc-a", "TEE"): 3})

    # dc-a: 3 of its 5 reserved are the channel's, so its share is a quarter of 15 + 3, less those 3.
    assert snapshot == {"dc-a": {"TEE": 1}, "dc-b": {"TEE": 5}}


def test_nodes_left_out_of_the_planners_nodes_stay_out_and_no_rule_is_the_networks_snapshot() -> None:
    positions = [position("dc-a", 20), position("dc-b", 4, reserved=4)]
    planned_from = {"dc-a": NODES["dc-a"], "dc-b": NODES["dc-b"]}

    assert channel_atp_at(positions, {"dc-b": NODES["dc-b"]}, QUARTER, {}) == {}
    assert channel_atp_at(positions, planned_from, None, {}) == atp_at(positions, planned_from) == {"dc-a": {"TEE": 20}}


def test_availability_shows_the_channel_its_share_less_its_own_open_reservations() -> None:
    positions = [position("dc-a", 20, reserved=5), position("dc-b", 20)]
    kinds = {"dc-a": NodeKind.DC, "dc-b": NodeKind.DC}

    answer = channel_availability("TEE", positions, kinds, QUARTER, "marketplace", own_reserved={"dc-a": 5})

    assert {node.node_id: node.atp for node in answer.nodes} == {"dc-a": 0, "dc-b": 5}
    assert channel_availability("TEE", positions, kinds, QUARTER, "marketplace").nodes[0].atp == 3, (
        "without its reservations given, a quarter of the ATP as before")
