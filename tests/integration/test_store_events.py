"""The event outbox and the subscriptions' deliveries, on SQLite and PostgreSQL: the read model's writes
append an event only when the state moved, once however often they are repeated; the fan-out hands each
event to the enabled subscriptions that asked for its type, once; inventory.changed coalesces; the log pages
newest first and a replay is a new delivery of the same event."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from models.events import DeliveryAttempt, DeliveryState, EventType
from models.order import HoldReason, OrderStatus
from models.returns import ReturnStatus
from models.shipment import ShipmentState
from store import Store
from tests.fixtures.db import a_node
from tests.fixtures.events import a_return, a_shipment, an_order


def types_of(store: Store, **where: str) -> list[str]:
    return [event.type.value for event in store.events(**where)]


def a_subscription(store: Store, *types: EventType) -> str:
    subscription_id = f"sub_{uuid.uuid4().hex[:12]}"
    store.create_subscription(subscription_id, "https://example.com/hooks", list(types), None, "v1:k:sealed")
    return subscription_id


def test_recording_an_order_reports_it_accepted_once_without_personal_data(store: Store) -> None:
    order = an_order("web-2001")

    assert store.record_order(order) is True
    assert store.record_order(order) is False

    [event] = store.events(subject="web-2001")
    assert event.type is EventType.ORDER_ACCEPTED
    assert event.data["total"] == {"amount": 2 * 1999 + 500, "currency": "USD"}
    assert event.event_id.startswith("evt_")
    text = json.dumps(event.data)
    assert "ada@example.com" not in text and "Ada" not in text and "Main St" not in text


def test_a_status_reports_only_when_it_moves_into_held_or_cancelled(store: Store) -> None:
    store.record_order(an_order("web-2002"))

    store.set_order_status("web-2002", OrderStatus.HELD, HoldReason.PAYMENT)
    store.set_order_status("web-2002", OrderStatus.HELD, HoldReason.PAYMENT)  # a retried write
    store.set_order_status("web-2002", OrderStatus.FULFILLING)
    store.set_order_status("web-2002", OrderStatus.HELD, HoldReason.CARRIER)
    store.set_order_status("web-2002", OrderStatus.CANCELLED)

    events = store.events(subject="web-2002")
    assert [e.type.value for e in events] == ["order.accepted", "order.held", "order.held", "order.cancelled"]
    assert [e.data.get("hold_reason") for e in events[1:3]] == ["payment", "carrier"]
    assert len({e.event_id for e in events}) == 4


def test_a_shipment_reports_released_shipped_and_delivered_once_each(store: Store) -> None:
    store.record_order(an_order("web-2003"))
    released = a_shipment("web-2003-S1", "web-2003")
    in_transit = a_shipment("web-2003-S1", "web-2003", state=ShipmentState.IN_TRANSIT, carrier="ups",
                            tracking_number="1Z999")

    for record in (released, released, a_shipment("web-2003-S1", "web-2003", state=ShipmentState.PICKED),
                   in_transit, a_shipment("web-2003-S1", "web-2003", state=ShipmentState.SHIPPED),
                   a_shipment("web-2003-S1", "web-2003", state=ShipmentState.DELIVERED),
                   a_shipment("web-2003-S1", "web-2003", state=ShipmentState.DELIVERED)):
        store.record_shipment(record)

    assert types_of(store, subject="web-2003-S1") == ["shipment.released", "shipment.shipped", "shipment.delivered"]
    shipped = store.events(subject="web-2003-S1")[1]
    assert (shipped.data["carrier"], shipped.data["tracking_number"], shipped.order_id) == ("ups", "1Z999", "web-2003")


def test_a_return_reports_received_and_its_refund_and_a_refund_is_reported_once_per_id(store: Store) -> None:
    store.record_order(an_order("web-2004"))
    for status in (ReturnStatus.AWAITING_RECEIPT, ReturnStatus.RECEIVED, ReturnStatus.RECEIVED):
        store.record_return(a_return("RMA-2004", status, {"SKU-1": 1}, order_id="web-2004"))
    completed = a_return("RMA-2004", ReturnStatus.COMPLETED, {"SKU-1": 1}, order_id="web-2004").model_copy(
        update={"refund_amount": 1999, "currency": "USD"})
    store.record_return(completed)
    store.record_return(completed)

    first = store.record_refund("re_123", "web-2004", 500, "USD")
    again = store.record_refund("re_123", "web-2004", 500, "USD")

    assert types_of(store, order_id="web-2004") == ["order.accepted", "return.received", "refund.issued",
                                                    "refund.issued"]
    refunds = [e for e in store.events(order_id="web-2004") if e.type is EventType.REFUND_ISSUED]
    assert [r.data["amount"]["amount"] for r in refunds] == [1999, 500]
    assert refunds[0].data["rma"] == "RMA-2004"
    assert first is not None and again is None


def test_events_fan_out_once_to_the_enabled_subscriptions_that_asked_for_their_type(store: Store) -> None:
    orders = a_subscription(store, EventType.ORDER_ACCEPTED, EventType.ORDER_CANCELLED)
    shipments = a_subscription(store, EventType.SHIPMENT_RELEASED)
    disabled = a_subscription(store, EventType.ORDER_ACCEPTED)
    store.update_subscription(disabled, {"enabled": False})
    store.record_order(an_order("web-2005"))
    store.record_shipment(a_shipment("web-2005-S1", "web-2005"))

    assert store.fan_out_events(limit=100) == (2, 2)
    assert store.fan_out_events(limit=100) == (0, 0)

    pending = store.pending_deliveries()
    assert len(pending) == 2
    assert [d.event_type for d in store.deliveries(orders).deliveries] == [EventType.ORDER_ACCEPTED]
    assert [d.event_type for d in store.deliveries(shipments).deliveries] == [EventType.SHIPMENT_RELEASED]
    assert store.deliveries(disabled).deliveries == []


def test_the_log_pages_newest_first_with_attempts_and_a_replay_is_a_new_delivery_of_the_same_event(
        store: Store) -> None:
    subscription = a_subscription(store, EventType.ORDER_ACCEPTED)
    for n in range(3):
        store.record_order(an_order(f"web-210{n}"))
    store.fan_out_events()
    first_page = store.deliveries(subscription, limit=2)
    oldest = store.deliveries(subscription, before=first_page.next_before, limit=2)
    at = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    delivery = oldest.deliveries[0]
    store.record_delivery_attempt(delivery.delivery_id, DeliveryAttempt(
        attempt=1, attempted_at=at, http_status=500, error="boom", duration_ms=12))
    store.record_delivery_attempt(delivery.delivery_id, DeliveryAttempt(
        attempt=2, attempted_at=at, http_status=None, error="ConnectError", duration_ms=3))
    store.set_delivery_state(delivery.delivery_id, DeliveryState.FAILED)

    replay = store.replay_delivery(subscription, delivery.delivery_id, "dlv_replay1")

    assert len(first_page.deliveries) == 2 and first_page.next_before is not None
    assert len(oldest.deliveries) == 1 and oldest.next_before is None
    assert [d.event_id for d in first_page.deliveries + oldest.deliveries] == [
        e.event_id for e in reversed(store.events()) if e.type is EventType.ORDER_ACCEPTED]
    logged = store.get_delivery(subscription, delivery.delivery_id)
    assert logged is not None and logged.state is DeliveryState.FAILED
    assert [(a.attempt, a.http_status, a.error) for a in logged.attempts] == [(1, 500, "boom"),
                                                                                (2, None, "ConnectError")]
    assert replay is not None
    assert (replay.event_id, replay.replay_of, replay.state) == (delivery.event_id, delivery.delivery_id,
                                                                 DeliveryState.PENDING)
    assert store.deliveries(subscription, limit=1).deliveries[0].delivery_id == "dlv_replay1"
    assert store.replay_delivery(a_subscription(store, EventType.ORDER_HELD), delivery.delivery_id, "x") is None


def test_deleting_a_subscription_deletes_its_log(store: Store) -> None:
    subscription = a_subscription(store, EventType.ORDER_ACCEPTED)
    store.record_order(an_order("web-2200"))
    store.fan_out_events()

    assert store.delete_subscription(subscription) is True
    assert store.delete_subscription(subscription) is False
    assert store.get_subscription(subscription) is None
    assert store.deliveries(subscription).deliveries == []
    assert store.pending_deliveries() == []


def test_inventory_changes_coalesce_to_one_event_per_position_with_its_position_now(store: Store) -> None:
    moves = 3
    store.upsert_node(a_node("dc-ev"))
    store.set_on_hand("dc-ev", "SKU-9", 1, source="count")
    assert store.collect_inventory_changes() == 0  # the first read starts from now
    store.set_on_hand("dc-ev", "SKU-9", 2, source="count")
    assert store.collect_inventory_changes() == 0  # nobody subscribes: the cursor follows, nothing is written
    a_subscription(store, EventType.INVENTORY_CHANGED)

    for units in range(moves):
        store.set_on_hand("dc-ev", "SKU-9", 10 + units, source="count")
    store.set_on_hand("dc-ev", "SKU-8", 4, source="count")

    assert store.collect_inventory_changes() == 2
    assert store.collect_inventory_changes() == 0
    changed = {e.subject: e.data for e in store.events() if e.type is EventType.INVENTORY_CHANGED}
    assert changed["dc-ev/SKU-9"] == {"node_id": "dc-ev", "sku": "SKU-9", "on_hand": 10 + moves - 1,
                                      "reserved": 0, "atp": 10 + moves - 1}
    assert changed["dc-ev/SKU-8"]["on_hand"] == 4
