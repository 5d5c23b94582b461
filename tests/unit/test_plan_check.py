"""Whether a plan keeps the order's rules (sourcing.plan_check), and the plan made without a cost model."""

from __future__ import annotations

from models.network import Capability, NodeKind
from models.plan import FulfillmentPlan, PlannedShipment
from models.rules import NodeSelector, RuleOutcome
from models.shipment import ShipmentLine
from sourcing.nearest import plan_nearest_from
from sourcing.plan_check import check_shipments, may_ship_from, why_plan_refused
from tests.fixtures.sourcing import ORIGIN, at_miles, node

LINE = ShipmentLine(line_no=1, sku="TEE", quantity=2)


def plan(*node_ids: str) -> FulfillmentPlan:
    return FulfillmentPlan(shipments=[PlannedShipment(node_id=n, lines=[LINE], distance_km=1.0) for n in node_ids])


def test_a_node_may_ship_when_active_shipping_and_not_excluded() -> None:
    no_stores = RuleOutcome(excluded=[NodeSelector(kinds=[NodeKind.STORE])])

    assert may_ship_from(node("dc-1"), no_stores)
    assert not may_ship_from(node("store-1", NodeKind.STORE), no_stores)
    assert not may_ship_from(node("dc-2", active=False), None)
    assert not may_ship_from(node("dc-3", capabilities=[Capability.RETURNS]), None)
    assert not may_ship_from(None, None)


def test_ship_complete_allows_one_shipment_and_no_unshipped_units() -> None:
    split = check_shipments(["dc-1", "dc-2"], unfilled=False, max_shipments=3, ship_complete=True)
    short = check_shipments(["dc-1"], unfilled=True, max_shipments=None, ship_complete=True)

    assert (split.limit, split.over_limit, split.broken) == (1, True, ["not shipped complete"])
    assert (short.limit, short.over_limit, short.broken) == (1, False, ["not shipped complete"])


def test_max_shipments_is_broken_only_by_more_shipments() -> None:
    assert check_shipments(["a", "b"], unfilled=True, max_shipments=2, ship_complete=False).broken == []
    assert check_shipments(["a", "b", "c"], unfilled=False, max_shipments=2,
                           ship_complete=False).broken == ["more than 2 shipment(s)"]


def test_a_plan_is_refused_for_an_unknown_or_excluded_node_or_too_many_shipments() -> None:
    network = {n.node_id: n for n in (node("dc-1"), node("dc-2"))}

    assert why_plan_refused(plan("dc-1", "dc-2"), network, None) is None
    assert why_plan_refused(plan("dc-9"), network, None) == "the order's rules or the network exclude dc-9"
    assert why_plan_refused(plan("dc-1", "dc-2"), network, RuleOutcome(ship_complete=True)) == (
        "the order's rules allow at most 1 shipment(s)")


def test_without_a_cost_model_the_nearest_located_node_with_stock_ships() -> None:
    near, far = node("dc-near", point=at_miles(50)), node("dc-far", point=at_miles(900))
    unlocated = node("dc-unlocated").model_copy(update={"latitude": None, "longitude": None, "postal_code": "00000"})

    chosen = plan_nearest_from([LINE], ORIGIN, [far, near, unlocated],
                               {"dc-far": {"TEE": 5}, "dc-near": {"TEE": 1}, "dc-unlocated": {"TEE": 9}})

    assert [(s.node_id, s.lines[0].quantity) for s in chosen.shipments] == [("dc-far", 2)]
    assert plan_nearest_from([LINE], ORIGIN, [near], {}).unfillable[0].quantity == 2
