"""End to end: the whole stack is stopped while orders are buying their labels, and started again on the
same data dir. The carrier sandbox still knows every shipment it rated and every label it sold, so the
purchases resume, every order that was not cancelled completes, each shipment's label is bought once,
and every label of a cancelled shipment is voided, including those bought before the restart."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.fixtures.stack import (
    GatewayDriver,
    every_order,
    labels_bought,
    mug_and_lamp_lines,
    orders_view,
    running_stack,
    stack_settings,
    unique,
    wait_for,
    work_through_the_warehouse,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SETTLED = 6  # orders whose labels are all bought before the stop
BUYING = 6  # orders whose shipments are rated, and whose labels are being bought, when the stack stops
THROTTLED = 300
def shipment_count(numbers: range) -> int:
    return sum(2 if number % 2 else 1 for number in numbers)


def sold(api: GatewayDriver) -> dict[str, tuple[str, bool]]:
    """Every label the carrier sandbox sold: shipment reference -> (tracking code, refunded)."""
    return {label["reference"]: (label["tracking_code"], label["refunded"]) for label in api.labels()}


def test_a_stack_restarted_while_labels_are_bought_completes_every_order_and_voids_every_cancelled_label(
    tmp_path: Path,
) -> None:
    settings = stack_settings(tmp_path)
    mug, lamp = unique("MUG"), unique("LAMP")
    illinois, new_york = unique("dc-il"), unique("dc-ny")
    settled_numbers, buying_numbers = range(SETTLED), range(SETTLED, SETTLED + BUYING)
    all_shipments = shipment_count(range(SETTLED + BUYING))

    with running_stack(settings) as before:
        api = before.api
        api.put_node(illinois, "60106")
        api.put_node(new_york, "10001")
        api.put_stock(illinois, mug, 50)
        api.put_stock(new_york, lamp, 50)
        settled = [api.order_placed(mug_and_lamp_lines(n, mug, lamp)) for n in settled_numbers]
        wait_for(lambda: orders_view(api, settled), every_order(labels_bought), "the first orders' labels")
        cancelled_before = settled[0]
        response = api.cancel(cancelled_before)
        assert response.status_code == 200, response.text

        # Label purchases are throttled: the later orders' shipments are rated (created at the carrier)
        # and their purchases are in flight, waiting out Retry-After inside the worker, at the stop.
        api.throttle_carrier(count=THROTTLED, retry_after=0.5, path_suffix="/buy")
        buying = [api.order_placed(mug_and_lamp_lines(n, mug, lamp)) for n in buying_numbers]
        wait_for(api.carrier_stats, lambda stats: stats["shipments_created"] == all_shipments,
                 "every shipment of the later orders to be rated")
        wait_for(lambda: {"left": api.carrier_throttles_left()},
                 lambda seen: seen["left"] <= THROTTLED - shipment_count(buying_numbers),
                 "the worker to be buying the later orders' labels")
        sold_at_stop = sold(api)

    assert len(sold_at_stop) == shipment_count(settled_numbers), "a later order's label was bought before the stop"

    with running_stack(settings) as after:
        api = after.api
        sold_after_restart = sold(api)
        # Labels bought before the stop are voided after it; a buying order's cancel waits for its label.
        cancelled_after = [settled[1], settled[2], buying[-1]]
        with ThreadPoolExecutor(len(cancelled_after)) as pool:
            answers = list(pool.map(api.cancel, cancelled_after))
        cancelled = [cancelled_before, *cancelled_after]
        live = [order_id for order_id in settled + buying if order_id not in cancelled]
        released = wait_for(lambda: orders_view(api, live), every_order(labels_bought),
                            "every order that was not cancelled to be released after the restart")
        live_shipments = [s["shipment_id"] for order in released.values() for s in order["shipments"]]
        completed = work_through_the_warehouse(api, live, live_shipments,
                                               "every order that was not cancelled to complete")
        ended = orders_view(api, cancelled)
        labels = {s["shipment_id"]: api.labels(reference=s["shipment_id"])
                  for order in [*completed.values(), *ended.values()] for s in order["shipments"]}
        stats, every_label = api.carrier_stats(), api.labels()
        on_hand = api.on_hand(mug)[illinois], api.on_hand(lamp)[new_york]

    assert {ref: sold_after_restart.get(ref) for ref in sold_at_stop} == sold_at_stop
    assert [answer.status_code for answer in answers] == [200] * len(cancelled_after), [a.text for a in answers]
    assert sorted(completed) == sorted(live)
    assert all(order["status"] == "cancelled" for order in ended.values()), ended
    cancelled_shipments = {s["shipment_id"] for order in ended.values() for s in order["shipments"]}
    assert len(labels) == all_shipments
    for shipment_id, bought in labels.items():  # bought once each; voided exactly when cancelled
        refunded = [label["refunded"] for label in bought]
        assert refunded == [shipment_id in cancelled_shipments], (shipment_id, bought)
    assert len(every_label) == stats["labels_bought"] == all_shipments
    assert stats["refunds"] == len(cancelled_shipments)
    shipped = [n for n, order_id in enumerate(settled + buying) if order_id in live]
    assert on_hand == (50 - len(shipped), 50 - sum(1 for n in shipped if n % 2 == 1))
