"""End to end: the only worker is SIGKILLed while orders are buying their labels. A new worker picks them
up, every order completes, and no shipment's label is bought twice (the carrier sandbox counts them)."""

from __future__ import annotations

import pytest

from tests.fixtures.stack import (
    RunningStack,
    every_order,
    labels_bought,
    mug_and_lamp_lines,
    orders_view,
    unique,
    wait_for,
    work_through_the_warehouse,
)

pytestmark = pytest.mark.e2e

ORDERS = 20
THROTTLED = 40
def test_orders_survive_a_killed_worker_and_each_label_is_bought_once(own_stack: RunningStack) -> None:
    api, stack = own_stack.api, own_stack.devstack
    mug, lamp = unique("MUG"), unique("LAMP")
    illinois, new_york = unique("dc-il"), unique("dc-ny")
    api.put_node(illinois, "60106")
    api.put_node(new_york, "10001")
    api.put_stock(illinois, mug, 40)
    api.put_stock(new_york, lamp, 40)
    expected_shipments = sum(len(mug_and_lamp_lines(n, mug, lamp)) for n in range(ORDERS))

    # The carrier throttles at first, so the first orders' rate and label calls are all in flight
    # (inside the worker, waiting out Retry-After) when the worker is killed.
    api.throttle_carrier(count=THROTTLED, retry_after=0.5)
    first_half = [api.order_placed(mug_and_lamp_lines(n, mug, lamp)) for n in range(ORDERS // 2)]
    wait_for(lambda: {"left": api.carrier_throttles_left()}, lambda seen: seen["left"] <= THROTTLED - 5,
             "the worker to be calling the carrier")
    stack.kill("worker")
    labels_at_kill = len(api.labels())
    api.stop_throttling_carrier()
    # Placed while no worker runs: they wait in Temporal.
    second_half = [api.order_placed(mug_and_lamp_lines(n, mug, lamp)) for n in range(ORDERS // 2, ORDERS)]
    order_ids = first_half + second_half
    stack.start_service("worker")

    assert labels_at_kill < sum(len(mug_and_lamp_lines(n, mug, lamp)) for n in range(ORDERS // 2))
    released = wait_for(lambda: orders_view(api, order_ids), every_order(labels_bought),
                        "every order to be released after the worker restarted")
    shipment_ids = [s["shipment_id"] for order in released.values() for s in order["shipments"]]
    assert len(shipment_ids) == expected_shipments
    final = work_through_the_warehouse(api, order_ids, shipment_ids, "every order to complete")

    assert sorted(final) == sorted(order_ids)
    for shipment_id in shipment_ids:
        assert len(api.labels(reference=shipment_id)) == 1, f"{shipment_id}: {api.labels(reference=shipment_id)}"
    assert len(api.labels()) == expected_shipments
    assert api.on_hand(mug)[illinois] == 40 - ORDERS
    assert api.on_hand(lamp)[new_york] == 40 - ORDERS // 2
