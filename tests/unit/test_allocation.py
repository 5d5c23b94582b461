"""Channel allocation rules as a pure function: shares, buffers, hidden nodes, and their explanation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from models.allocation import ChannelAllocation, InventoryFeedItem, SafetyStockDefaults
from models.inventory import InventoryPosition
from models.network import NodeKind
from sourcing.allocation import channel_atp, channel_availability

KINDS = {"dc-east": NodeKind.DC, "store-chi": NodeKind.STORE, "3pl-west": NodeKind.THREE_PL}


def position(node_id: str, on_hand: int, reserved: int = 0, safety_stock: int = 0) -> InventoryPosition:
    return InventoryPosition(
        node_id=node_id, sku="SKU-1", on_hand=on_hand, reserved=reserved, safety_stock=safety_stock
    )


NETWORK = [position("dc-east", 10), position("store-chi", 5), position("3pl-west", 7, reserved=2)]


def test_a_channel_without_a_rule_sees_all_network_atp() -> None:
    answer = channel_availability("SKU-1", NETWORK, KINDS, None, "web")

    assert answer.total_atp == answer.network_atp == 20
    assert answer.explanation == ["no allocation rule for web: it sees all network ATP"]


def test_the_marketplace_sees_80_percent_rounded_down_and_no_store_stock() -> None:
    rule = ChannelAllocation(percent=80, hidden_node_kinds=[NodeKind.STORE])

    answer = channel_availability("SKU-1", NETWORK, KINDS, rule, "marketplace")

    assert {node.node_id: node.atp for node in answer.nodes} == {"dc-east": 8, "3pl-west": 4}
    assert answer.total_atp == 12
    assert answer.network_atp == 20
    assert answer.explanation == [
        "marketplace sees 80% of each node's ATP, rounded down",
        "store nodes hidden from marketplace",
    ]


def test_a_buffer_is_taken_at_each_node_and_never_goes_below_zero() -> None:
    rule = ChannelAllocation(buffer=6)

    answer = channel_availability("SKU-1", NETWORK, KINDS, rule, "pos")

    assert {node.node_id: node.atp for node in answer.nodes} == {"dc-east": 4, "store-chi": 0, "3pl-west": 0}


def test_only_lists_restrict_the_nodes_a_channel_sees() -> None:
    rule = ChannelAllocation(only_node_kinds=[NodeKind.DC], only_nodes=["3pl-west"])

    answer = channel_availability("SKU-1", NETWORK, KINDS, rule, "b2b")

    assert [node.node_id for node in answer.nodes] == ["3pl-west", "dc-east"]
    assert answer.explanation == ["b2b only sees dc nodes and 3pl-west"]


def test_the_share_is_computed_exactly_not_in_binary_floating_point() -> None:
    # 29 * 0.57 is 16.529999... in floats, but the exact share 16.53 floors to 16 either way; 100 * 0.07
    # is 7.000000000000001 in floats and must floor to 7, not be pushed past it.
    assert channel_atp(ChannelAllocation(percent=7), 100) == 7
    assert channel_atp(ChannelAllocation(percent=57), 29) == 16
    assert channel_atp(ChannelAllocation(percent=33.33), 3) == 0


@given(
    atps=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=3),
    percent=st.integers(min_value=0, max_value=10_000).map(lambda basis_points: basis_points / 100),
    buffer=st.integers(min_value=0, max_value=50),
    hide_stores=st.booleans(),
)
def test_channel_atp_never_exceeds_network_atp_and_is_never_negative(
    atps: list[int], percent: float, buffer: int, hide_stores: bool
) -> None:
    node_ids = list(KINDS)[: len(atps)]
    positions = [position(node_id, atp) for node_id, atp in zip(node_ids, atps, strict=True)]
    rule = ChannelAllocation(percent=percent, buffer=buffer, hidden_node_kinds=[NodeKind.STORE] if hide_stores else [])

    answer = channel_availability("SKU-1", positions, KINDS, rule, "web")

    assert 0 <= answer.total_atp <= answer.network_atp == sum(atps)
    for node in answer.nodes:
        assert 0 <= node.atp <= node.network_atp
        assert node.atp <= node.network_atp * Fraction(str(percent)) / 100, "exactly, not in floats"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"percent": 101}, "percent"),
        ({"percent": -1}, "percent"),
        ({"buffer": -2}, "buffer"),
        ({"hidden_node_kinds": ["warehouse"]}, "hidden_node_kinds"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        ChannelAllocation.model_validate(body)
    assert error.value.errors()[0]["loc"][0] == field


def test_a_rule_with_more_than_two_decimals_of_percent_is_refused() -> None:
    with pytest.raises(ValidationError, match="two decimals"):
        ChannelAllocation(percent=12.345)


def test_safety_stock_defaults_refuse_negative_units_and_unknown_kinds() -> None:
    with pytest.raises(ValidationError) as error:
        SafetyStockDefaults.model_validate({"by_kind": {"store": -1}})
    assert error.value.errors()[0]["loc"] == ("by_kind", "store")
    with pytest.raises(ValidationError):
        SafetyStockDefaults.model_validate({"by_kind": {"kiosk": 1}})


@pytest.mark.parametrize(
    "item",
    [
        {"node_id": "dc", "sku": "S", "source": "wms"},
        {"node_id": "dc", "sku": "S", "source": "wms", "on_hand": 1, "delta": 1},
        {"node_id": "dc", "sku": "S", "source": "wms", "delta": 0},
        {"node_id": "dc", "sku": "S", "source": "wms", "delta": -1, "kind": "receipt"},
        {"node_id": "dc", "sku": "S", "source": "wms", "on_hand": 3, "kind": "receipt"},
        {"node_id": "dc", "sku": "S", "source": "wms", "on_hand": 3, "as_of": "2025-01-01T00:00:00"},
    ],
)
def test_a_feed_item_must_be_exactly_one_sensible_count_or_delta(item: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        InventoryFeedItem.model_validate(item)


def test_a_delta_without_a_kind_is_an_adjustment() -> None:
    item = InventoryFeedItem(node_id="dc", sku="S", source="wms", delta=-2)
    assert item.feed_kind == "adjustment"
