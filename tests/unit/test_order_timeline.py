"""An order's timeline merged from the DB's sources (gateway/timeline.py): order, actors, redaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.timeline import OrderSources, money, order_timeline
from models.address import Address
from models.audit import SYSTEM, Actor, ActorRole, AuditEntry, AuditKind
from models.inventory import MovementKind
from models.keys import Role
from models.order import Customer, OrderLineIn, OrderStatus
from models.plan import SourcingDecision
from models.records import Movement, OrderRecord, ShipmentRecord
from models.shipment import ShipmentLine, ShipmentState
from models.timeline import TimelineKind

ORDER = "web-1001"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SHOP = Actor.key("shop1", Role.CHANNEL)
WMS = Actor.key("wms1", Role.NODE)
OPS = Actor.key("ops1", Role.OPERATOR)
WORKFLOW = Actor.workflow(f"order-{ORDER}")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def a_record(decision: SourcingDecision | None = None) -> OrderRecord:
    return OrderRecord(
        order_id=ORDER, workflow_id=f"order-{ORDER}", channel="web", channel_order_id="1001",
        status=OrderStatus.FULFILLING, currency="USD", customer=Customer(email="ada@example.com", name="Ada"),
        ship_to=Address(name="Ada", line1="1 Main St", city="Chicago", region="IL", postal_code="60601"),
        lines=[OrderLineIn(sku="MUG-1", quantity=2, unit_price=1999)], created_at=at(1), decision=decision,
    )


def a_movement(movement_id: int, kind: MovementKind, seconds: float, **deltas: int) -> Movement:
    return Movement(movement_id=movement_id, node_id="dc-a", sku="MUG-1", kind=kind, key=f"{ORDER}-S1:MUG-1",
                    reason="customer request" if kind is MovementKind.RELEASE else "", source="order",
                    created_at=at(seconds), actor=WORKFLOW, **{"on_hand_delta": 0, "reserved_delta": 0, **deltas})


def an_entry(entry_id: int, kind: AuditKind, seconds: float, actor: Actor, subject: str = ORDER,
             **detail: str | int | list[int] | list[str]) -> AuditEntry:
    return AuditEntry(id=entry_id, at=at(seconds), kind=kind, subject=subject, actor=actor, order_id=ORDER,
                      detail=detail)


DECISION = SourcingDecision(strategy="optimal", method="milp", total_cents=1234, cost_model_version=3,
                            rules_version=2, rules_fired=["web-two-boxes: max 2 shipments"])
SOURCES = OrderSources(
    record=a_record(DECISION),
    movements=[a_movement(1, MovementKind.RESERVE, 2, reserved_delta=2),
               a_movement(2, MovementKind.COMMIT, 9, on_hand_delta=-2, reserved_delta=-2)],
    shipments=[ShipmentRecord(shipment_id=f"{ORDER}-S1", order_id=ORDER, node_id="dc-a",
                              lines=[ShipmentLine(line_no=1, sku="MUG-1", quantity=2)], state=ShipmentState.DELIVERED,
                              carrier="UPS", service="Ground", tracking_number="1Z999", label_cost=1075,
                              currency="USD", shipped_at=at(8), delivered_at=at(20))],
    audit=[an_entry(1, AuditKind.ORDER_INTAKE, 0.5, SHOP, channel="web", lines=1),
           an_entry(2, AuditKind.SHIPMENT_EVENT, 5, WMS, subject=f"{ORDER}-S1", type="picked"),
           an_entry(3, AuditKind.ORDER_CANCEL, 30, OPS, lines=[2], shipments=[f"{ORDER}-S2"])],
)


def test_events_from_every_source_come_out_oldest_first_with_their_actors() -> None:
    timeline = order_timeline(ORDER, SOURCES, None, live_view_read=True)

    assert [(e.kind, e.actor) for e in timeline.events] == [
        (TimelineKind.INTAKE, SHOP),
        (TimelineKind.RULES, WORKFLOW),
        (TimelineKind.DECISION, WORKFLOW),
        (TimelineKind.RESERVE, WORKFLOW),
        (TimelineKind.NODE_EVENT, WMS),
        (TimelineKind.SHIPPED, Actor.workflow(f"shipment-{ORDER}-S1")),
        (TimelineKind.COMMIT, WORKFLOW),
        (TimelineKind.DELIVERED, Actor.workflow(f"shipment-{ORDER}-S1")),
        (TimelineKind.CANCEL, OPS),
    ]
    assert timeline.status is OrderStatus.FULFILLING and timeline.notes == []


def test_the_decision_is_placed_when_its_reservations_were_made_and_names_its_versions() -> None:
    [decision] = [e for e in order_timeline(ORDER, SOURCES, None, live_view_read=True).events
                  if e.kind is TimelineKind.DECISION]

    assert decision.at == at(2)
    assert "cost model v3" in decision.summary and "rules v2" in decision.summary
    assert "12.34 USD" in decision.summary


def test_the_shipped_event_carries_the_label() -> None:
    [shipped] = [e for e in order_timeline(ORDER, SOURCES, None, live_view_read=True).events
                 if e.kind is TimelineKind.SHIPPED]

    assert shipped.summary == f"{ORDER}-S1 shipped from dc-a; label UPS Ground, tracking 1Z999, 10.75 USD"


def test_an_order_not_placed_through_the_gateway_was_received_by_the_system() -> None:
    sources = OrderSources(record=a_record())

    [intake] = order_timeline(ORDER, sources, None, live_view_read=False).events

    assert (intake.kind, intake.at, intake.actor) == (TimelineKind.INTAKE, at(1), SYSTEM)


def test_a_channel_key_sees_other_keys_by_their_role_only() -> None:
    timeline = order_timeline(ORDER, SOURCES, None, live_view_read=True, viewer_key_id="shop1")

    actors = {e.actor for e in timeline.events}
    assert SHOP in actors and WORKFLOW in actors
    assert Actor(role=ActorRole.NODE) in actors and Actor(role=ActorRole.OPERATOR) in actors
    assert WMS not in actors and OPS not in actors


def test_amounts_follow_the_currencys_minor_units() -> None:
    assert (money(1999, "USD"), money(1999, "JPY"), money(-1999, "KWD")) == ("19.99 USD", "1999 JPY", "-1.999 KWD")


def test_a_cancel_names_its_lines_and_shipments() -> None:
    [cancel] = [e for e in order_timeline(ORDER, SOURCES, None, live_view_read=True).events
                if e.kind is TimelineKind.CANCEL]

    assert cancel.summary == f"cancelled lines 2; shipments {ORDER}-S2"


def test_a_short_pick_is_shown_as_the_units_not_found_and_written_off() -> None:
    short = a_movement(3, MovementKind.SHORT_PICK, 6, on_hand_delta=-2, reserved_delta=-2)
    sources = OrderSources(record=a_record(), movements=[*SOURCES.movements, short.model_copy(
        update={"reason": "2 of SKU MUG-1 not found"})])

    [write_off] = [e for e in order_timeline(ORDER, sources, None, live_view_read=True).events
                   if e.kind is TimelineKind.WRITE_OFF]

    assert (write_off.at, write_off.actor) == (at(6), WORKFLOW)
    assert write_off.summary == "short pick: 2 × MUG-1 at dc-a not found, 2 written off: 2 of SKU MUG-1 not found"


def test_the_intake_comes_first_even_when_the_gateway_recorded_it_after_the_workflow_took_the_order() -> None:
    late = OrderSources(record=a_record(DECISION), audit=[an_entry(1, AuditKind.ORDER_INTAKE, 1.5, SHOP)])

    events = order_timeline(ORDER, late, None, live_view_read=True).events

    assert [(e.kind, e.at, e.actor) for e in events[:2]] == [
        (TimelineKind.INTAKE, at(1), SHOP), (TimelineKind.RULES, at(1), WORKFLOW)]
