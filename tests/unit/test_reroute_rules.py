"""The pure rules of a reroute: which shipments may move (only one no fulfilment has started), which
nodes may take it, and how the order's decision records the move."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from activities.reroute_plan import amend_decision, explain, why_node_refused
from models.network import Capability, Node, NodeKind
from models.order import OrderStatus
from models.plan import ShipmentCost, SourcingDecision
from models.reroute import ReplanShipment, RerouteShipment
from models.rules import NodeSelector, RuleOutcome
from models.shipment import ShipmentLine, ShipmentState, ShipmentView
from tests.fixtures.orders import CHICAGO, an_order
from workflows.order_state import OrderState, ShipmentRuntime, check_reroutable

LINE = ShipmentLine(line_no=1, sku="TEE", quantity=1)


def a_state(state: ShipmentState = ShipmentState.PENDING, *, started: bool = False) -> OrderState:
    order = an_order(("TEE", 1))
    sid = f"{order.order_id}-S1"
    shipment = ShipmentRuntime(view=ShipmentView(shipment_id=sid, node_id="dc-il", lines=[LINE], state=state),
                               reservation_keys={"TEE": f"{sid}:TEE"}, started=started)
    return OrderState(order=order, created_at=datetime(2026, 12, 1, tzinfo=UTC), status=OrderStatus.FULFILLING,
                      allocated=True, shipments={sid: shipment})


def to(state: OrderState, node_id: str = "dc-nj", shipment_id: str | None = None) -> RerouteShipment:
    return RerouteShipment(shipment_id=shipment_id or next(iter(state.shipments)), node_id=node_id, actor="key-1")


def test_a_waiting_shipment_may_move_to_another_node() -> None:
    state = a_state()

    assert check_reroutable(state, to(state)) is next(iter(state.shipments.values()))


def test_a_shipment_whose_release_has_begun_is_released_even_before_its_fulfilment_reports() -> None:
    state = a_state(ShipmentState.PENDING, started=True)

    with pytest.raises(ValueError, match="is released: only a shipment not yet released can be rerouted"):
        check_reroutable(state, to(state))


@pytest.mark.parametrize("shipment_state", [ShipmentState.PICKED, ShipmentState.SHIPPED, ShipmentState.DELIVERED])
def test_a_shipment_the_node_has_taken_names_its_state(shipment_state: ShipmentState) -> None:
    state = a_state(shipment_state, started=True)

    with pytest.raises(ValueError, match=f"is {shipment_state.value}:"):
        check_reroutable(state, to(state))


def test_the_same_node_an_unknown_shipment_a_cancelled_one_and_a_held_or_finished_order_are_refused() -> None:
    state = a_state()
    with pytest.raises(ValueError, match="already ships from dc-il"):
        check_reroutable(state, to(state, "dc-il"))
    with pytest.raises(ValueError, match="has no shipment x-S9"):
        check_reroutable(state, to(state, shipment_id="x-S9"))
    cancelled = a_state(ShipmentState.CANCELLED)
    with pytest.raises(ValueError, match="is cancelled"):
        check_reroutable(cancelled, to(cancelled))
    held = a_state().model_copy(update={"held": True})
    with pytest.raises(ValueError, match="is on hold"):
        check_reroutable(held, to(held))
    finished = a_state().model_copy(update={"status": OrderStatus.COMPLETED})
    with pytest.raises(ValueError, match="is already completed"):
        check_reroutable(finished, to(finished))


def replan(**changes: object) -> ReplanShipment:
    fields: dict[str, object] = {
        "order_id": "web-1", "shipment_id": "web-1-S1", "from_node_id": "dc-il", "node_id": "dc-nj",
        "lines": [LINE], "release_keys": ["web-1-S1:TEE"], "reroute_no": 1, "ship_to": CHICAGO, "currency": "USD",
        "actor": "key-1", "reason": "flood", "delivery_before": date(2026, 12, 3),
    }
    return ReplanShipment.model_validate(fields | changes)


def a_node(node_id: str = "dc-nj", **changes: object) -> Node:
    return Node.model_validate({"node_id": node_id, "name": node_id, "kind": NodeKind.DC, "postal_code": "08817"}
                               | changes)


def test_a_node_must_exist_be_active_ship_and_be_allowed_by_the_order_rules() -> None:
    assert why_node_refused(a_node(), replan()) is None
    assert why_node_refused(None, replan()) == "unknown node 'dc-nj'"
    assert why_node_refused(a_node(active=False), replan()) == "node dc-nj is inactive"
    assert why_node_refused(a_node(capabilities=[Capability.RETURNS]), replan()) == (
        "node dc-nj does not ship (its capabilities: returns)")
    rules = RuleOutcome(excluded=[NodeSelector(node_ids=["dc-nj"])])
    assert why_node_refused(a_node(), replan(rules=rules)) == "the order's rules exclude node dc-nj"


def cost(node_id: str, cents: int, delivered: date) -> ShipmentCost:
    return ShipmentCost(node_id=node_id, service="ground", zone=2, billable_weight_lb=1, ship_date=date(2026, 12, 1),
                        delivery_date=delivered, parts=[], total_cents=cents)


def test_the_decision_moves_the_shipments_cost_and_says_who_moved_it() -> None:
    shipments = [cost("dc-il", 700, date(2026, 12, 3)), cost("dc-tx", 500, date(2026, 12, 4))]
    decision = SourcingDecision(strategy="optimal", method="milp", total_cents=1500, split_penalty_cents=300,
                                shipments=shipments)
    replanned = SourcingDecision(strategy="optimal", method="milp", total_cents=900,
                                 shipments=[cost("dc-nj", 900, date(2026, 12, 5))])
    request = replan(deliver_by=date(2026, 12, 4))
    line = explain(request, "USD", 700, 900, date(2026, 12, 5))

    amended = amend_decision(decision, request, replanned, line)

    assert line == ("web-1-S1 rerouted from dc-il to dc-nj by key-1 (flood): cost 7.00 USD → 9.00 USD, "
                    "delivery 2026-12-03 → 2026-12-05")
    assert [c.node_id for c in amended.shipments] == ["dc-tx", "dc-nj"]
    assert amended.total_cents == 1500 - 700 + 900
    assert amended.promise_kept is False, "New Jersey delivers after the promised 4 December"
    assert amended.amendments == [line]
    assert decision.amendments == [], "the order's copy is left as it was"
