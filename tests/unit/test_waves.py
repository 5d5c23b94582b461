"""Release waves: waiting orders re-planned together over the stock they hold and the stock free."""

from __future__ import annotations

from models.shipment import ShipmentLine
from sourcing.problem import Assignment
from sourcing.waves import WaitingOrder, plan_release_wave
from tests.fixtures.sourcing import ORIGIN, TUESDAY_10AM_CHICAGO, at_miles, catalog, cost_model, node

NEAR, FAR = at_miles(100), at_miles(900)
A, B = node("dc-a", point=NEAR), node("dc-b", point=FAR)
TWO_LINES = [ShipmentLine(line_no=1, sku="TEE", quantity=1), ShipmentLine(line_no=2, sku="CAP", quantity=1)]
SPLIT = [Assignment(line_no=1, sku="TEE", node_id="dc-a", quantity=1),
         Assignment(line_no=2, sku="CAP", node_id="dc-b", quantity=1)]


def waiting(order_id: str = "o-1") -> WaitingOrder:
    return WaitingOrder(order_id=order_id, lines=TWO_LINES, destination=ORIGIN, current=SPLIT)


def test_a_split_order_is_merged_at_the_near_node_once_the_missing_sku_has_arrived_there() -> None:
    pool = {"dc-a": {"TEE": 1, "CAP": 4}, "dc-b": {"CAP": 1}}  # CAP arrived at dc-a after the order was planned

    result = plan_release_wave([waiting()], [A, B], pool, model=cost_model(), catalog=catalog(),
                               now=TUESDAY_10AM_CHICAGO, min_saving_cents=1)

    [change] = result.changes
    assert [(s.node_id, [line.sku for line in s.lines]) for s in change.plan.shipments] == [("dc-a", ["TEE", "CAP"])]
    assert change.cost_after < change.cost_before and result.cost_before - result.cost_after > 0
    decision = change.plan.decision
    assert decision is not None and decision.strategy == "wave" and decision.method == "wave"
    assert decision.total_cents == sum(c.total_cents for c in decision.shipments)


def test_nothing_changes_when_the_wave_saves_less_than_the_threshold_or_nothing_arrived() -> None:
    arrived = {"dc-a": {"TEE": 1, "CAP": 4}, "dc-b": {"CAP": 1}}
    picky = plan_release_wave([waiting()], [A, B], arrived, model=cost_model(), catalog=catalog(),
                              now=TUESDAY_10AM_CHICAGO, min_saving_cents=1_000_000)
    assert picky.changes == [] and "kept every plan" in picky.status

    as_planned = {"dc-a": {"TEE": 1}, "dc-b": {"CAP": 1}}
    same = plan_release_wave([waiting()], [A, B], as_planned, model=cost_model(), catalog=catalog(),
                             now=TUESDAY_10AM_CHICAGO, min_saving_cents=1)
    assert same.changes == []


def test_two_waiting_orders_trade_the_units_they_hold_when_that_is_cheaper_for_both() -> None:
    """Order 1 (near dc-b) holds dc-a's unit and order 2 (near dc-a) holds dc-b's: swapping saves both."""
    near_b = at_miles(900)
    one = WaitingOrder(order_id="o-1", lines=[ShipmentLine(line_no=1, sku="TEE", quantity=1)], destination=near_b,
                       current=[Assignment(line_no=1, sku="TEE", node_id="dc-a", quantity=1)])
    two = WaitingOrder(order_id="o-2", lines=[ShipmentLine(line_no=1, sku="TEE", quantity=1)], destination=ORIGIN,
                       current=[Assignment(line_no=1, sku="TEE", node_id="dc-b", quantity=1)])
    pool = {"dc-a": {"TEE": 1}, "dc-b": {"TEE": 1}}

    result = plan_release_wave([one, two], [A, B], pool, model=cost_model(), catalog=catalog(),
                               now=TUESDAY_10AM_CHICAGO, min_saving_cents=1)

    assert {c.order_id: c.plan.shipments[0].node_id for c in result.changes} == {"o-1": "dc-b", "o-2": "dc-a"}
    assert result.cost_after < result.cost_before
