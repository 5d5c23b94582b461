"""The order workflow's pure rules: status, line status, what a cancel may touch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.address import Address
from models.order import Customer, LineStatus, OrderLineIn, OrderStatus, PlaceOrder
from models.shipment import ShipmentLine, ShipmentState, ShipmentView
from workflows.order_state import (
    OrderState,
    ShipmentRuntime,
    cancellable_lines,
    derive_status,
    order_view,
    split_cancel,
)


def _state(*shipment_states: ShipmentState) -> OrderState:
    order = PlaceOrder(channel="web", channel_order_id="1", currency="USD",
                       customer=Customer(email="a@example.com", name="A"),
                       ship_to=Address(name="A", line1="1 St", city="C", postal_code="60601"),
                       lines=[OrderLineIn(sku="A", quantity=2, unit_price=100),
                              OrderLineIn(sku="B", quantity=1, unit_price=100)])
    state = OrderState(order=order, created_at=datetime.now(UTC), allocated=True)
    for n, shipment_state in enumerate(shipment_states, start=1):
        lines = [ShipmentLine(line_no=1, sku="A", quantity=1)]
        if n == 1:
            lines.append(ShipmentLine(line_no=2, sku="B", quantity=1))
        state.shipments[f"web-1-S{n}"] = ShipmentRuntime(view=ShipmentView(
            shipment_id=f"web-1-S{n}", node_id=f"n{n}", lines=lines, state=shipment_state))
    state.status = derive_status(state)
    return state


@pytest.mark.parametrize(("states", "expected"), [
    ((ShipmentState.RELEASED, ShipmentState.PICKED), OrderStatus.FULFILLING),
    ((ShipmentState.SHIPPED, ShipmentState.PICKED), OrderStatus.PARTIALLY_SHIPPED),
    ((ShipmentState.SHIPPED, ShipmentState.IN_TRANSIT), OrderStatus.SHIPPED),
    ((ShipmentState.DELIVERED, ShipmentState.CANCELLED), OrderStatus.COMPLETED),
    ((ShipmentState.CANCELLED, ShipmentState.CANCELLED), OrderStatus.CANCELLED),
])
def test_the_order_status_follows_its_live_shipments(states: tuple[ShipmentState, ...],
                                                     expected: OrderStatus) -> None:
    assert derive_status(_state(*states)) is expected


def test_a_line_split_across_shipments_is_shipped_only_when_every_part_is() -> None:
    view = order_view(_state(ShipmentState.SHIPPED, ShipmentState.PACKED))
    assert [line.status for line in view.lines] == [LineStatus.ALLOCATED, LineStatus.SHIPPED]


def test_cancel_without_lines_takes_every_line_with_an_unshipped_part() -> None:
    assert cancellable_lines(_state(ShipmentState.SHIPPED, ShipmentState.PACKED), None) == [1]


def test_cancel_names_a_line_that_has_shipped_or_does_not_exist() -> None:
    state = _state(ShipmentState.SHIPPED, ShipmentState.PACKED)
    with pytest.raises(ValueError, match="line 2 has already shipped"):
        cancellable_lines(state, [2])
    with pytest.raises(ValueError, match="line 7 does not exist"):
        cancellable_lines(state, [7])


def test_a_cancel_of_everything_after_it_all_shipped_names_the_shipped_lines_and_shipments() -> None:
    state = _state(ShipmentState.SHIPPED, ShipmentState.IN_TRANSIT)
    with pytest.raises(ValueError) as refused:
        cancellable_lines(state, None)
    assert str(refused.value) == ("nothing left to cancel: every line has shipped or is cancelled "
                                  "(line_nos: [1, 2] shipped in web-1-S1, web-1-S2)")


def test_a_finished_order_cannot_be_cancelled() -> None:
    with pytest.raises(ValueError, match="already completed"):
        cancellable_lines(_state(ShipmentState.DELIVERED), None)


def test_a_cancel_takes_whole_shipments_whose_every_line_goes_and_trims_the_others() -> None:
    state = _state(ShipmentState.RELEASED, ShipmentState.RELEASED)
    whole, partial = split_cancel(state, [1])
    assert [s.view.shipment_id for s in whole] == ["web-1-S2"]
    assert [(s.view.shipment_id, skus) for s, skus in partial] == [("web-1-S1", {"A"})]
