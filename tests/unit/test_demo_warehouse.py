"""The simulated warehouse against an in-memory order system that follows the shipment state machine."""

from __future__ import annotations

import asyncio

from models.address import Address
from models.handoff import NodeShipmentPage, ReleasedShipment
from models.order import OrderStatus
from models.shipment import ShipmentEventType, ShipmentLine, ShipmentState, next_state
from omniroute.demo.api import GatewayError, OrderSnapshot, ShipmentSnapshot
from omniroute.demo.warehouse import SimulatedWarehouse
from tests.fixtures.eventually import eventually

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


class PullNode(InMemoryOrders):
    """The same orders, their shipments (all at dc-1) also listed by a pull API that takes acks and
    shows the cancels asked of the node."""

    def __init__(self, shipments_per_order: dict[str, int]) -> None:
        super().__init__(shipments_per_order)
        self.acked: list[str] = []
        self.cancel_asked: set[str] = set()

    async def node_shipments(self, node_id: str, *, state: str | None = None, cancel_requested: bool | None = None,
                             cursor: str | None = None, limit: int = 100) -> NodeShipmentPage:
        address = Address(name="Ada", line1="1 Main St", city="Chicago", region="IL", postal_code="60601")
        items = [ReleasedShipment(shipment_id=sid, order_id=sid.rsplit("-S", 1)[0], node_id=node_id, state=s,
                                  lines=[ShipmentLine(line_no=1, sku="MUG", quantity=1)], ship_to=address,
                                  cancel_requested=sid in self.cancel_asked)
                 for sid, s in sorted(self.states.items())
                 if (state is None or s.value == state)
                 and (cancel_requested is None or (sid in self.cancel_asked) == cancel_requested)]
        return NodeShipmentPage(items=items)

    async def ack_shipment(self, node_id: str, shipment_id: str) -> None:
        self.acked.append(shipment_id)
        await self.shipment_event(shipment_id, "accepted", f"{shipment_id}:ack")


async def test_at_a_pull_node_the_warehouse_acknowledges_what_it_pulls_before_working_it() -> None:
    system = PullNode({"web-1": 1, "web-2": 1})
    warehouse = SimulatedWarehouse(system, system, puller=system, pull_nodes=["dc-1"], **FAST)

    warehouse.watch("web-1", placed_at=0.0)
    warehouse.watch("web-2", placed_at=0.0, ship=False)
    await eventually(lambda: system.states["web-1-S1"] is ShipmentState.DELIVERED, "web-1 delivered")

    assert system.acked == ["web-1-S1"], "an order held back is not taken"
    assert [event for sid, event, _ in system.received if sid == "web-1-S1"] == [
        "accepted", "picked", "packed", "shipped", "delivered"]
    system.cancel_asked.add("web-2-S1")
    await eventually(lambda: ("web-2-S1", "cancelled", "web-2-S1:cancelled") in system.received,
                     "the cancel asked of the node is answered")
    await warehouse.aclose()


async def test_shipments_at_a_webhook_node_are_left_to_its_wms() -> None:
    system = InMemoryOrders({"web-1": 1})
    warehouse = SimulatedWarehouse(system, system, wms_nodes=["dc-1"], **FAST)

    warehouse.watch("web-1", placed_at=0.0)
    await eventually(lambda: warehouse.orders["web-1"].status is not None, "the order read")
    await asyncio.sleep(0.05)

    assert system.received == []
    await warehouse.aclose()
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
