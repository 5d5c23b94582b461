"""End to end: the only worker is SIGKILLed while orders are buying their labels. A new worker picks them
up, every order completes, and no shipment's label is bought twice (the carrier sandbox counts them)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.conftest import GatewayDriver, Json, RunningStack, labels_bought, shipments_in, unique, wait_for

pytestmark = pytest.mark.e2e

ORDERS = 20
THROTTLED = 40
KINDS = ("picked", "packed", "shipped", "delivered")


def lines_of(number: int, mug: str, lamp: str) -> list[tuple[str, int, int]]:
    """Even orders: one mug (one shipment). Odd orders: a mug and a lamp, stocked apart (two shipments)."""
    return [(mug, 1, 1500)] if number % 2 == 0 else [(mug, 1, 1500), (lamp, 1, 4200)]


def every_order(condition: Callable[[Json], bool]) -> Callable[[Json], bool]:
    return lambda view: all(map(condition, view.values()))


def orders_view(api: GatewayDriver, order_ids: list[str]) -> Json:
    return {order_id: api.order(order_id) for order_id in order_ids}


def test_orders_survive_a_killed_worker_and_each_label_is_bought_once(own_stack: RunningStack) -> None:
    api, stack = own_stack.api, own_stack.devstack
    mug, lamp = unique("MUG"), unique("LAMP")
    illinois, new_york = unique("dc-il"), unique("dc-ny")
    api.put_node(illinois, "60106")
    api.put_node(new_york, "10001")
    api.put_stock(illinois, mug, 40)
    api.put_stock(new_york, lamp, 40)
    expected_shipments = sum(len(lines_of(n, mug, lamp)) for n in range(ORDERS))

    # The carrier throttles at first, so the first orders' rate and label calls are all in flight
    # (inside the worker, waiting out Retry-After) when the worker is killed.
    api.throttle_carrier(count=THROTTLED, retry_after=0.5)
    first_half = [api.order_placed(lines_of(n, mug, lamp)) for n in range(ORDERS // 2)]
    wait_for(lambda: {"left": api.carrier_throttles_left()}, lambda seen: seen["left"] <= THROTTLED - 5,
             "the worker to be calling the carrier")
    stack.kill("worker")
    labels_at_kill = len(api.labels())
    api.stop_throttling_carrier()
    # Placed while no worker runs: they wait in Temporal.
    second_half = [api.order_placed(lines_of(n, mug, lamp)) for n in range(ORDERS // 2, ORDERS)]
    order_ids = first_half + second_half
    stack.start_service("worker")

    assert labels_at_kill < sum(len(lines_of(n, mug, lamp)) for n in range(ORDERS // 2))
    released = wait_for(lambda: orders_view(api, order_ids), every_order(labels_bought),
                        "every order to be released after the worker restarted")
    shipment_ids = [s["shipment_id"] for order in released.values() for s in order["shipments"]]
    assert len(shipment_ids) == expected_shipments
    for kind in KINDS:
        for shipment_id in shipment_ids:
            api.shipment_event(shipment_id, kind)
        wait_for(lambda: orders_view(api, order_ids), every_order(shipments_in(kind)), f"every shipment to be {kind}")
    final = wait_for(lambda: orders_view(api, order_ids), every_order(lambda order: order["status"] == "completed"),
                     "every order to complete")

    assert sorted(final) == sorted(order_ids)
    for shipment_id in shipment_ids:
        assert len(api.labels(reference=shipment_id)) == 1, f"{shipment_id}: {api.labels(reference=shipment_id)}"
    assert len(api.labels()) == expected_shipments
    assert api.on_hand(mug)[illinois] == 40 - ORDERS
    assert api.on_hand(lamp)[new_york] == 40 - ORDERS // 2
