"""The demo's order and return generator: deterministic, and shaped to split and to run short."""

from __future__ import annotations

import pytest
import zipcodes

from models.network import Capability
from models.order import PlaceOrder
from omniroute.demo.network import DemoNetwork, load_network
from omniroute.demo.orders import OrderKind, choose_returns, generate_orders, return_request
from omniroute.demo.warehouse import StoreTrouble


def _no_single_node_can_fill(network: DemoNetwork, order: PlaceOrder) -> bool:
    return not any(
        all(network.on_hand(node.node_id, line.sku) >= line.quantity for line in order.lines)
        for node in network.nodes
    )


def test_the_same_seed_gives_the_same_orders() -> None:
    network = load_network()

    first = generate_orders(network, 50, seed=11, run_tag="t1")
    again = generate_orders(network, 50, seed=11, run_tag="t1")

    assert [o.order.model_dump() for o in first] == [o.order.model_dump() for o in again]
    assert [o.cancel_before_shipping for o in first] == [o.cancel_before_shipping for o in again]


def test_another_seed_gives_other_orders() -> None:
    network = load_network()

    first = generate_orders(network, 50, seed=11)
    other = generate_orders(network, 50, seed=12)

    assert [o.order.lines for o in first] != [o.order.lines for o in other]


def test_order_ids_are_unique_and_carry_the_run_tag() -> None:
    orders = generate_orders(load_network(), 200, seed=7, run_tag="r42")

    assert len({o.order_id for o in orders}) == 200
    assert all(o.order.channel_order_id.startswith("r42-") for o in orders)


def test_lines_reference_existing_skus_at_their_catalogue_price() -> None:
    network = load_network()
    prices = {s.sku: s.price_cents for s in network.skus}

    for demo_order in generate_orders(network, 200, seed=7):
        for line in demo_order.order.lines:
            assert prices[line.sku] == line.unit_price


def test_ship_to_postal_codes_resolve_to_their_city_and_state() -> None:
    for demo_order in generate_orders(load_network(), 200, seed=7):
        ship_to = demo_order.order.ship_to
        if ship_to is None:  # a pickup: recorded at the store's address
            assert demo_order.order.pickup is not None
            continue
        match = zipcodes.matching(ship_to.postal_code or "")
        assert match and (match[0]["city"], match[0]["state"]) == (ship_to.city, ship_to.region)


def test_some_orders_must_split_because_no_node_stocks_all_their_lines() -> None:
    network = load_network()
    orders = generate_orders(network, 200, seed=7)

    must_split = [o for o in orders if o.kind is OrderKind.MUST_SPLIT]

    assert len(must_split) >= 20
    assert all(_no_single_node_can_fill(network, o.order) for o in must_split)


def test_some_lines_ask_for_more_than_the_whole_network_holds() -> None:
    network = load_network()
    orders = generate_orders(network, 200, seed=7)

    short = [line for o in orders for line in o.order.lines if line.quantity > network.network_on_hand(line.sku)]

    assert 1 <= len(short) <= 10
    assert all(len(o.order.lines) > 1 for o in orders if o.kind is OrderKind.SCARCE_LINE)


def test_a_dozen_orders_already_hold_a_split_a_short_line_and_a_cancellation() -> None:
    network = load_network()
    orders = generate_orders(network, 12, seed=3)

    assert any(o.kind is OrderKind.MUST_SPLIT for o in orders)
    assert any(o.kind is OrderKind.SCARCE_LINE for o in orders)
    assert sum(o.cancel_before_shipping for o in orders) == 1


def test_orders_come_from_several_channels_and_some_have_several_lines() -> None:
    orders = generate_orders(load_network(), 200, seed=7)

    assert {o.order.channel for o in orders} == {"web", "marketplace", "pos"}
    assert sum(len(o.order.lines) > 1 for o in orders) >= 50


def test_scarce_line_orders_alternate_between_a_backordering_and_a_cancelling_channel() -> None:
    orders = generate_orders(load_network(), 200, seed=7)

    scarce = [o.order.channel for o in orders if o.kind is OrderKind.SCARCE_LINE]

    assert scarce == ["web", "marketplace", "web", "marketplace"]


def test_returns_are_chosen_among_orders_that_will_be_delivered() -> None:
    orders = generate_orders(load_network(), 200, seed=7)

    chosen = choose_returns(orders, 20, seed=9)

    assert chosen == choose_returns(orders, 20, seed=9) and len(set(chosen)) == 20
    by_id = {o.order_id: o for o in orders}
    assert all(by_id[order_id].kind is OrderKind.ORDINARY for order_id in chosen)
    assert not any(by_id[order_id].cancel_before_shipping or by_id[order_id].flagged_for_fraud for order_id in chosen)


def test_a_return_takes_part_of_a_delivered_line_and_is_the_same_every_time() -> None:
    delivered = [("CAP-LOGO", 1), ("YOGA-MAT", 3)]

    first = return_request("web-b", delivered, 4, seed=1, run_tag="t")

    assert first == return_request("web-b", delivered, 4, seed=1, run_tag="t")
    assert first.rma == "RMA-t-0004" and first.order_id == "web-b"
    (line,) = first.lines
    assert 1 <= line.quantity <= dict(delivered)[line.sku]


def test_an_order_with_nothing_delivered_cannot_be_returned() -> None:
    with pytest.raises(ValueError, match="nothing delivered"):
        return_request("web-c", [], 1, seed=1)


def test_some_orders_are_picked_up_at_a_store_some_at_curbside_and_a_few_customers_never_come() -> None:
    network = load_network()
    orders = generate_orders(network, 200, seed=7)
    stores = {n.node_id: n for n in network.nodes}
    bopis = [o for o in orders if o.kind is OrderKind.PICKUP]
    curbside = [o for o in orders if o.kind is OrderKind.CURBSIDE]
    assert len(bopis) >= 10 and len(curbside) >= 5
    for demo_order in bopis + curbside:
        pickup = demo_order.order.pickup
        assert pickup is not None and pickup.curbside is (demo_order.kind is OrderKind.CURBSIDE)
        assert Capability.PICKUP in stores[pickup.node_id].capabilities
        assert not pickup.curbside or Capability.CURBSIDE in stores[pickup.node_id].capabilities
        [line] = demo_order.order.lines
        assert line.quantity == 1 and network.on_hand(pickup.node_id, line.sku) >= 5
        assert not demo_order.cancel_before_shipping and demo_order.store_trouble is None
    no_shows = [o for o in orders if not o.customer_comes]
    assert 1 <= len(no_shows) < len(bopis) and all(o.kind is OrderKind.PICKUP for o in no_shows)
    assert all(orders.index(o) < 100 for o in no_shows), "their wait overlaps the rest of the run"


def test_some_orders_are_rejected_and_some_short_picked_by_a_store_that_ships_them() -> None:
    orders = generate_orders(load_network(), 200, seed=7)
    troubles = [o.store_trouble for o in orders]
    assert troubles.count(StoreTrouble.REJECT) >= 10 and troubles.count(StoreTrouble.SHORT_PICK) >= 10
    assert troubles == [o.store_trouble for o in generate_orders(load_network(), 200, seed=7, run_tag="other")]


def test_some_customers_want_sms_on_a_number_of_their_own_and_some_read_french() -> None:
    orders = generate_orders(load_network(), 40, seed=7)
    texted = [o.order.customer for o in orders if o.order.customer.sms]
    french = [o for o in orders if o.order.customer.locale == "fr"]

    assert len(texted) == 4 and all(c.phone is not None for c in texted)
    assert len({c.phone for c in texted}) == len(texted)
    assert len(french) == 5 and any(o.kind is OrderKind.PICKUP for o in generate_orders(load_network(), 200, seed=7)
                                    if o.order.customer.locale == "fr")
    assert all(o.order.customer.phone is None for o in orders if not o.order.customer.sms)
