"""The simulated warehouse against an in-memory order system that follows the shipment state machine."""

from __future__ import annotations

import asyncio

from models.order import OrderStatus
from models.shipment import ShipmentEventType, ShipmentState, next_state
from omniroute.demo.api import GatewayError, OrderSnapshot, ShipmentSnapshot
from omniroute.demo.warehouse import SimulatedWarehouse

FAST = {"step_delay_s": (0.0, 0.001), "poll_interval_s": (0.005, 0.01)}


class InMemoryOrders:
    """Orders whose shipments are released on the first read and move only by valid events."""

    def __init__(self, shipments_per_order: dict[str, int]) -> None:
        self.states = {
            f"{order_id}-S{n}": ShipmentState.PENDING
            for order_id, count in shipments_per_order.items() for n in range(1, count + 1)
        }
        self.cancelled: set[str] = set()
        self.received: list[tuple[str, str, str]] = []
        self.failing_reads = 0
        self.cancel_before_pick: set[str] = set()

    async def order(self, order_id: str) -> OrderSnapshot:
        if self.failing_reads:
            self.failing_reads -= 1
            raise GatewayError("GET", f"/v1/orders/{order_id}", 503, "unavailable")
        mine = {sid: state for sid, state in self.states.items() if sid.startswith(f"{order_id}-S")}
        for sid, state in mine.items():
            if state is ShipmentState.PENDING:
                self.states[sid] = mine[sid] = (
                    ShipmentState.CANCELLED if order_id in self.cancelled else ShipmentState.RELEASED
                )
        return OrderSnapshot(order_id=order_id, status=self._status(mine), quantity_cancelled=0, shipments=tuple(
            ShipmentSnapshot(shipment_id=sid, node_id="dc-1", state=state, lines=(("MUG", 1),),
                             label_cost=500, currency="USD")
            for sid, state in mine.items()
        ))

    async def shipment_event(self, shipment_id: str, event_type: str, event_id: str) -> None:
        self.received.append((shipment_id, event_type, event_id))
        if shipment_id in self.cancel_before_pick:
            self.states[shipment_id] = ShipmentState.CANCELLED
        try:
            self.states[shipment_id] = next_state(self.states[shipment_id], ShipmentEventType(event_type))
        except ValueError as err:
            raise GatewayError("POST", f"/v1/shipments/{shipment_id}/events", 409, str(err)) from err

    @staticmethod
    def _status(states: dict[str, ShipmentState]) -> OrderStatus:
        live = [s for s in states.values() if s is not ShipmentState.CANCELLED]
        if not live:
            return OrderStatus.CANCELLED
        if all(s is ShipmentState.DELIVERED for s in live):
            return OrderStatus.COMPLETED
        return OrderStatus.FULFILLING


async def test_released_shipments_are_picked_packed_shipped_and_delivered_in_order() -> None:
    system = InMemoryOrders({"web-1": 2, "web-2": 1})
    warehouse = SimulatedWarehouse(system, system, **FAST)

    for order_id in ("web-1", "web-2"):
        warehouse.watch(order_id, placed_at=0.0)
    await warehouse.wait_all()

    assert set(system.states.values()) == {ShipmentState.DELIVERED}
    events_of_s1 = [event for sid, event, _ in system.received if sid == "web-1-S1"]
    assert events_of_s1 == ["picked", "packed", "shipped", "delivered"]
    assert all(o.status is OrderStatus.COMPLETED for o in warehouse.orders.values())
    assert set(warehouse.orders["web-1"].shipped_after_s) == {"web-1-S1", "web-1-S2"}


async def test_every_event_carries_a_dedupe_key_naming_shipment_and_event() -> None:
    system = InMemoryOrders({"web-1": 1})
    warehouse = SimulatedWarehouse(system, system, **FAST)

    warehouse.watch("web-1", placed_at=0.0)
    await warehouse.wait_all()

    assert [event_id for _, _, event_id in system.received] == [
        "web-1-S1:picked", "web-1-S1:packed", "web-1-S1:shipped", "web-1-S1:delivered",
    ]


async def test_an_order_held_back_ships_nothing_until_shipping_is_allowed() -> None:
    system = InMemoryOrders({"web-1": 1})
    final: list[str] = []
    warehouse = SimulatedWarehouse(system, system, on_final=lambda o: final.append(o.order_id), **FAST)

    warehouse.watch("web-1", placed_at=0.0, ship=False)
    for _ in range(5):
        await system.order("web-1")
    assert system.received == []

    warehouse.allow_shipping("web-1")
    await warehouse.wait_all()
    assert final == ["web-1"]
    assert system.states["web-1-S1"] is ShipmentState.DELIVERED


async def test_a_cancelled_order_is_final_without_any_event_sent() -> None:
    system = InMemoryOrders({"web-1": 1})
    system.cancelled.add("web-1")
    warehouse = SimulatedWarehouse(system, system, **FAST)

    warehouse.watch("web-1", placed_at=0.0)
    await warehouse.wait_all()

    assert warehouse.orders["web-1"].status is OrderStatus.CANCELLED
    assert system.received == []


async def test_a_failing_read_is_retried_until_the_order_answers() -> None:
    system = InMemoryOrders({"web-1": 1})
    system.failing_reads = 3
    warehouse = SimulatedWarehouse(system, system, **FAST)

    warehouse.watch("web-1", placed_at=0.0)
    await warehouse.wait_all()

    tracked = warehouse.orders["web-1"]
    assert tracked.status is OrderStatus.COMPLETED
    assert tracked.last_error is None


async def test_a_refused_event_stops_working_that_shipment() -> None:
    system = InMemoryOrders({"web-1": 1})
    system.cancel_before_pick.add("web-1-S1")
    warehouse = SimulatedWarehouse(system, system, **FAST)

    tracked = warehouse.watch("web-1", placed_at=0.0)
    await warehouse.wait_all()

    assert [event for _, event, _ in system.received] == ["picked"]
    assert tracked.status is OrderStatus.CANCELLED
    assert tracked.shipped_after_s == {}


async def test_a_partner_nodes_shipment_is_left_to_the_partner_and_delivered_once_it_ships() -> None:
    system = InMemoryOrders({"web-1": 1})
    warehouse = SimulatedWarehouse(system, system, partner_nodes=frozenset({"dc-1"}), **FAST)

    warehouse.watch("web-1", placed_at=0.0)
    for _ in range(50):  # the partner (a vendor) has not answered: nothing is sent
        await asyncio.sleep(0.002)
    assert system.received == []
    system.states["web-1-S1"] = ShipmentState.SHIPPED  # the vendor's ship notice
    await warehouse.wait_all()

    assert [event for _, event, _ in system.received] == ["delivered"]
    assert set(warehouse.orders["web-1"].shipped_after_s) == {"web-1-S1"}
    assert warehouse.orders["web-1"].status is OrderStatus.COMPLETED
