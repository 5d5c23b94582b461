"""The demo's closing figures, counted from what the warehouse saw."""

from __future__ import annotations

import pytest
from rich.console import Console

from models.order import OrderStatus
from models.returns import ReturnStatus
from models.shipment import ShipmentState
from omniroute.demo.api import OrderSnapshot, ShipmentSnapshot
from omniroute.demo.summary import DemoSummary, ReturnOutcome, percentile, render_summary, summarize
from omniroute.demo.warehouse import Customer, StoreTrouble, TrackedOrder


def _shipment(sid: str, state: ShipmentState, cost: int | None = 700) -> ShipmentSnapshot:
    return ShipmentSnapshot(shipment_id=sid, node_id="dc-1", state=state, lines=(("MUG", 1),),
                            label_cost=cost, currency="USD" if cost is not None else None)


def _order(order_id: str, status: OrderStatus | None, *shipments: ShipmentSnapshot,
           shipped_after: dict[str, float] | None = None, cancelled_units: int = 0) -> TrackedOrder:
    tracked = TrackedOrder(order_id=order_id, placed_at=0.0, ship=True, status=status,
                           shipped_after_s=shipped_after or {}, quantity_cancelled=cancelled_units)
    tracked.shipments = {s.shipment_id: s for s in shipments}
    return tracked


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.95) == pytest.approx(4.8)
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) is None


def test_orders_are_counted_by_final_status_and_the_rest_listed_as_not_final() -> None:
    orders = [
        _order("a", OrderStatus.COMPLETED, _shipment("a-S1", ShipmentState.DELIVERED)),
        _order("b", OrderStatus.CANCELLED, _shipment("b-S1", ShipmentState.CANCELLED)),
        _order("c", OrderStatus.FAILED),
        _order("d", OrderStatus.FULFILLING, _shipment("d-S1", ShipmentState.PICKED)),
        _order("e", None),
    ]

    summary = summarize(orders, [], placed=5, elapsed_s=1.0)

    assert (summary.completed, summary.cancelled, summary.failed) == (1, 1, 1)
    assert summary.not_final == ["d", "e"]
    assert not summary.all_final


def test_cancelled_shipments_count_neither_as_shipments_nor_as_splits_nor_in_cost() -> None:
    orders = [
        _order("a", OrderStatus.COMPLETED, _shipment("a-S1", ShipmentState.DELIVERED, 650),
               _shipment("a-S2", ShipmentState.DELIVERED, 900)),
        _order("b", OrderStatus.COMPLETED, _shipment("b-S1", ShipmentState.DELIVERED, 500),
               _shipment("b-S2", ShipmentState.CANCELLED, 1200)),
        _order("c", OrderStatus.CANCELLED, _shipment("c-S1", ShipmentState.CANCELLED, 800)),
    ]

    summary = summarize(orders, [], placed=3, elapsed_s=1.0)

    assert summary.shipments == 3
    assert (summary.split_orders, summary.orders_with_shipments) == (1, 2)
    assert summary.split_rate == pytest.approx(0.5)
    assert summary.shipping_cost == {"USD": 650 + 900 + 500}


def test_times_to_shipped_are_taken_per_shipment() -> None:
    orders = [
        _order("a", OrderStatus.COMPLETED, shipped_after={"a-S1": 1.0, "a-S2": 3.0}),
        _order("b", OrderStatus.COMPLETED, shipped_after={"b-S1": 2.0}),
    ]

    summary = summarize(orders, [], placed=2, elapsed_s=1.0)

    assert summary.shipped_p50_s == pytest.approx(2.0)
    assert summary.shipped_p95_s == pytest.approx(2.9)


def test_returns_are_counted_by_outcome_and_an_open_one_keeps_the_run_from_passing() -> None:
    returns = [
        ReturnOutcome(rma="r1", order_id="a", status=ReturnStatus.COMPLETED),
        ReturnOutcome(rma="r2", order_id="a", status=ReturnStatus.REJECTED),
        ReturnOutcome(rma="r3", order_id="b", status=ReturnStatus.AWAITING_RECEIPT),
    ]

    summary = summarize([_order("a", OrderStatus.COMPLETED)], returns, placed=1, elapsed_s=1.0)

    assert (summary.returns_started, summary.returns_restocked, summary.returns_rejected) == (3, 1, 1)
    assert summary.returns_not_final == ["r3"]
    assert not summary.all_final


def test_the_table_shows_each_figure_with_its_value() -> None:
    orders = [_order("a", OrderStatus.COMPLETED, _shipment("a-S1", ShipmentState.DELIVERED, 1234),
                     shipped_after={"a-S1": 4.25}, cancelled_units=2)]
    summary = summarize(orders, [ReturnOutcome(rma="r1", order_id="a", status=ReturnStatus.COMPLETED)],
                        placed=1, elapsed_s=61.0)
    console = Console(record=True, width=100)

    console.print(render_summary(summary))
    text = console.export_text()

    for label, value in [("Orders completed", "1"), ("Units on cancelled lines", "2"), ("Shipments", "1"),
                         ("Total shipping cost", "12.34 USD"), ("Order to shipped p50", "4.2 s"),
                         ("Returns received and restocked", "1 of 1"), ("Split rate", "0.0% (0 of 1)")]:
        assert any(label in line and line.rstrip(" │").endswith(value) for line in text.splitlines()), label


def test_a_snapshot_counts_cancelled_units_from_the_gateway_lines() -> None:
    snapshot = OrderSnapshot.from_json({
        "order_id": "web-1", "status": "completed",
        "lines": [{"sku": "MUG", "quantity": 3, "status": "delivered", "quantity_cancelled": 1},
                  {"sku": "CAP", "quantity": 2, "status": "cancelled", "quantity_cancelled": 2}],
        "shipments": [{"shipment_id": "web-1-S1", "node_id": "dc-1", "state": "delivered",
                       "lines": [{"line_no": 1, "sku": "MUG", "quantity": 2}],
                       "label_cost": {"amount": 880, "currency": "USD"}}],
    })

    assert snapshot.quantity_cancelled == 3
    assert snapshot.shipments[0].label_cost == 880
    assert snapshot.is_final


def test_vendor_shipments_that_shipped_and_shipments_handed_back_then_re_sourced_are_counted() -> None:
    def at(sid: str, node_id: str, state: ShipmentState, sku: str = "GRILL") -> ShipmentSnapshot:
        return ShipmentSnapshot(shipment_id=sid, node_id=node_id, state=state, lines=((sku, 1),), label_cost=None,
                                currency=None)

    orders = [
        _order("a", OrderStatus.COMPLETED, at("a-S1", "vendor", ShipmentState.DELIVERED)),
        _order("b", OrderStatus.FULFILLING, at("b-S1", "vendor", ShipmentState.SHIPPED)),
        _order("c", OrderStatus.FULFILLING, at("c-S1", "vendor", ShipmentState.ACCEPTED)),
        _order("d", OrderStatus.COMPLETED, at("d-S1", "vendor", ShipmentState.CANCELLED),
               at("d-S2", "dc-1", ShipmentState.DELIVERED)),
        _order("e", OrderStatus.COMPLETED, at("e-S1", "dc-1", ShipmentState.DELIVERED, sku="MUG"),
               at("e-S2", "dc-1", ShipmentState.CANCELLED, sku="LAMP")),
        _order("f", OrderStatus.CANCELLED, at("f-S1", "vendor", ShipmentState.CANCELLED)),
    ]

    summary = summarize(orders, [], placed=6, elapsed_s=1.0, dropship_nodes={"vendor"})

    assert summary.dropship_shipped == 2
    assert summary.handed_back_resourced == 1, "only d's lines left from another node"


def test_pickups_store_troubles_3pl_shipments_and_carrier_exceptions_are_counted() -> None:
    def at(sid: str, node_id: str, state: ShipmentState, *lines: tuple[str, int], pickup: bool = False,
           exception: str | None = None) -> ShipmentSnapshot:
        return ShipmentSnapshot(shipment_id=sid, node_id=node_id, state=state, lines=lines or (("MUG", 1),),
                                label_cost=None, currency=None, pickup=pickup, exception=exception)

    bopis = _order("a", OrderStatus.COMPLETED, at("a-S1", "store-1", ShipmentState.COLLECTED, pickup=True))
    bopis.customer = Customer(pickup=True)
    curbside = _order("b", OrderStatus.COMPLETED, at("b-S1", "store-1", ShipmentState.COLLECTED, pickup=True))
    curbside.customer = Customer(pickup=True, curbside=True)
    no_show = _order("c", OrderStatus.CANCELLED, at("c-S1", "store-1", ShipmentState.CANCELLED, pickup=True))
    no_show.customer, no_show.ready_for_pickup = Customer(pickup=True, comes=False), {"c-S1"}
    rejected = _order("d", OrderStatus.COMPLETED, at("d-S1", "store-1", ShipmentState.CANCELLED),
                      at("d-S2", "dc-1", ShipmentState.DELIVERED, exception="failed_attempt"))
    rejected.store_troubled = {"d-S1": (StoreTrouble.REJECT, ("MUG",))}
    short = _order("e", OrderStatus.COMPLETED, at("e-S1", "store-1", ShipmentState.DELIVERED, ("CAP", 1)),
                   at("e-S2", "3pl", ShipmentState.DELIVERED, ("MUG", 1)))
    short.store_troubled = {"e-S1": (StoreTrouble.SHORT_PICK, ("MUG",))}
    short.carrier_exceptions = {"e-S1"}
    not_again = _order("f", OrderStatus.CANCELLED, at("f-S1", "store-1", ShipmentState.CANCELLED))
    not_again.store_troubled = {"f-S1": (StoreTrouble.REJECT, ("MUG",))}

    summary = summarize([bopis, curbside, no_show, rejected, short, not_again], [], placed=6, elapsed_s=1.0,
                        threepl_nodes={"3pl"}, pickups_placed=2, curbside_placed=1, sms_customers=2, sms_sent=7)
    rejected.carrier_exceptions = {"d-S2"}
    summary_with_both = summarize([rejected, short], [], placed=2, elapsed_s=1.0)

    assert (summary.pickups_collected, summary.pickups_placed) == (1, 2)
    assert (summary.curbside_collected, summary.curbside_placed) == (1, 1)
    assert summary.pickups_expired == 1
    assert summary.store_troubles_resourced == 2, "f was never sourced again"
    assert summary.threepl_shipped == 1
    assert summary.carrier_exceptions == 1 and summary_with_both.carrier_exceptions == 2
    text = _rendered(summary)
    for label, value in [("Picked up in store (BOPIS)", "1 of 2"), ("Curbside collected", "1 of 1"),
                         ("Pickups not collected (expired)", "1"), ("3PL shipped (by ShipBob)", "1"),
                         ("Rejected or short picked by a store, re-sourced", "2"),
                         ("Tracking exceptions (carrier)", "1"),
                         ("SMS sent (to customers who asked)", "7 to 2 customers")]:
        assert any(label in line and line.rstrip(" │").endswith(value) for line in text.splitlines()), label


def test_a_snapshot_reads_pickups_labels_and_the_carrier_exceptions_from_the_events() -> None:
    snapshot = OrderSnapshot.from_json({
        "order_id": "web-1", "status": "fulfilling", "lines": [],
        "events": ["web-1-S1 shipped", "web-1-S1 exception (failed_attempt)", "web-1-S1 delivered"],
        "shipments": [{"shipment_id": "web-1-S1", "node_id": "dc-1", "state": "delivered", "lines": [],
                       "label_url": "https://labels.example/1.pdf"},
                      {"shipment_id": "web-1-S2", "node_id": "store-1", "state": "ready_for_pickup",
                       "lines": [], "pickup": True, "exception": None}],
    })

    assert snapshot.carrier_exceptions == ("web-1-S1",)
    assert [(s.labelled, s.pickup) for s in snapshot.shipments] == [(True, False), (False, True)]


def _rendered(summary: DemoSummary) -> str:
    console = Console(record=True, width=120)
    console.print(render_summary(summary))
    return console.export_text()
