"""Delivery promises per service level, and which nodes can deliver a SKU by a date."""

from __future__ import annotations

from datetime import date

from models.costs import CostModel, NodeDelivery, ServiceLevel
from models.network import Node, NodeKind
from models.shipment import ShipmentLine
from sourcing.inputs import Atp, SourcingInput
from sourcing.promise import nodes_delivering_by, promise
from tests.fixtures.sourcing import ORIGIN, TUESDAY_10AM_CHICAGO, at_miles, catalog, cost_model, node, service

NEAR, MID, FAR = at_miles(100), at_miles(500), at_miles(2000)  # zones 2, 4 and 8 from the customer
CART = [ShipmentLine(line_no=1, sku="TEE", quantity=2), ShipmentLine(line_no=2, sku="BOX", quantity=1)]
WED, THU, FRI, NEXT_TUE = date(2025, 3, 5), date(2025, 3, 6), date(2025, 3, 7), date(2025, 3, 11)


def cart(nodes: list[Node], atp: Atp, *, lines: list[ShipmentLine] = CART, model: CostModel | None = None,
         shipments_today: dict[str, int] | None = None) -> SourcingInput:
    """The cart (CART unless given) to ORIGIN on Tuesday 10:00 Chicago, priced by the test cost model."""
    return SourcingInput(lines=lines, destination=ORIGIN, nodes=nodes, atp=atp, model=model or cost_model(),
                         catalog=catalog(), now=TUESDAY_10AM_CHICAGO, shipments_today=shipments_today)


def test_one_node_that_holds_the_cart_gives_each_level_its_earliest_date_and_exact_price() -> None:
    nodes = [node("dc-near", point=NEAR), node("dc-far", point=FAR)]
    atp = {"dc-near": {"TEE": 5, "BOX": 5}, "dc-far": {"TEE": 5, "BOX": 5}}
    options = promise(cart(nodes, atp))
    assert [(o.level, o.service, o.delivery_date, o.node_ids) for o in options] == [
        (ServiceLevel.STANDARD, "t-ground", WED, ["dc-near"]),
        (ServiceLevel.TWO_DAY, "t-2day", THU, ["dc-near"]),
        (ServiceLevel.NEXT_DAY, "t-1day", WED, ["dc-near"]),
    ]
    # Ground, zone 2, 9 lb billed by volume (2 x 80 + 960 in3 over 139): 1000 + 8 x 50; handling 150 + 3 x 35.
    assert options[0].price_cents == 1400 + 150 + 105 == options[0].shipments[0].total_cents


def test_a_cart_no_node_holds_whole_is_split_and_arrives_with_its_last_shipment() -> None:
    nodes = [node("dc-near", point=NEAR), node("dc-mid", point=MID), node("dc-far", point=FAR)]
    atp = {"dc-near": {"TEE": 5}, "dc-mid": {"BOX": 1}, "dc-far": {"BOX": 3}}
    options = {o.level: o for o in promise(cart(nodes, atp))}
    standard = options[ServiceLevel.STANDARD]
    assert (standard.node_ids, standard.delivery_date) == (["dc-near", "dc-mid"], FRI)
    assert standard.price_cents == sum(q.total_cents for q in standard.shipments)
    assert [[(line.sku, line.quantity) for line in q.lines] for q in standard.shipments] == [[("TEE", 2)], [("BOX", 1)]]
    assert (options[ServiceLevel.NEXT_DAY].node_ids, options[ServiceLevel.NEXT_DAY].delivery_date) == (
        ["dc-near", "dc-mid"], WED)


def test_one_box_is_promised_even_when_a_split_would_arrive_sooner() -> None:
    nodes = [node("dc-near", point=NEAR), node("dc-mid", point=MID), node("dc-far", point=FAR)]
    atp = {"dc-near": {"TEE": 5}, "dc-mid": {"BOX": 1}, "dc-far": {"TEE": 2, "BOX": 1}}
    [standard, *_] = promise(cart(nodes, atp))
    assert (standard.node_ids, standard.delivery_date) == (["dc-far"], NEXT_TUE)


def test_no_option_for_a_cart_the_network_cannot_cover_or_a_level_the_model_lacks() -> None:
    nodes = [node("dc-near", point=NEAR)]
    too_many = [ShipmentLine(line_no=1, sku="TEE", quantity=6)]
    assert promise(cart(nodes, {"dc-near": {"TEE": 5}}, lines=too_many)) == []
    ground_only = cost_model(services=[service()])
    options = promise(cart(nodes, {"dc-near": {"TEE": 5, "BOX": 1}}, model=ground_only))
    assert [o.level for o in options] == [ServiceLevel.STANDARD]


def test_a_node_at_its_daily_capacity_is_not_promised_from() -> None:
    nodes = [node("store-near", kind=NodeKind.STORE, point=NEAR), node("dc-mid", point=MID)]
    atp = {"store-near": {"TEE": 5, "BOX": 5}, "dc-mid": {"TEE": 5, "BOX": 5}}
    [open_store, *_] = promise(cart(nodes, atp))
    [full_store, *_] = promise(cart(nodes, atp, shipments_today={"store-near": 10}))
    assert (open_store.node_ids, full_store.node_ids) == (["store-near"], ["dc-mid"])


def test_nodes_delivering_by_a_date_with_their_cheapest_service_that_makes_it() -> None:
    nodes = [node("dc-near", point=NEAR), node("dc-far", point=FAR), node("vendor", kind=NodeKind.DROPSHIP, point=NEAR),
             node("dc-short", point=NEAR)]
    atp = {"dc-near": {"TEE": 5}, "dc-far": {"TEE": 5}, "vendor": {"TEE": 5}, "dc-short": {"TEE": 1}}
    args = (ORIGIN, THU, nodes, atp, cost_model(), catalog(), TUESDAY_10AM_CHICAGO)
    assert nodes_delivering_by("TEE", 2, *args) == [
        NodeDelivery("dc-near", WED, "t-ground"), NodeDelivery("dc-far", THU, "t-2day")]
    assert nodes_delivering_by("TEE", 2, *args, level=ServiceLevel.NEXT_DAY) == [
        NodeDelivery("dc-far", WED, "t-1day"), NodeDelivery("dc-near", WED, "t-1day")]

