"""The simulated warehouse as a store's staff and its pickup customers, and with carrier tracking on,
against an in-memory order system that follows the shipment state machine."""

from __future__ import annotations

import asyncio
from typing import Any

from models.order import OrderStatus
from models.shipment import ShipmentEventType, ShipmentState, is_delivered, next_state
from omniroute.demo.api import GatewayError, OrderSnapshot, ShipmentSnapshot
from omniroute.demo.warehouse import Customer, SimulatedWarehouse, StoreTrouble

FAST: dict[str, Any] = {"step_delay_s": (0.0, 0.001), "poll_interval_s": (0.005, 0.01),
                        "pickup_wait_s": (0.001, 0.002)}
CODE = "493817"


class StoreOrders:
    """One shipment per order at `store-1` (a pickup or not, labelled or not), released on the first
    read; events move it by the state machine, `collected` only with the right code."""

    def __init__(self, *, pickup: bool = False, labelled: bool = False,
                 lines: tuple[tuple[str, int], ...] = (("MUG", 2), ("CAP", 1))) -> None:
        self.pickup, self.labelled, self.lines = pickup, labelled, lines
        self.states: dict[str, ShipmentState] = {}
        self.received: list[tuple[str, str, dict[str, Any] | None]] = []
        self.mail_reads = 0

    async def order(self, order_id: str) -> OrderSnapshot:
        sid = f"{order_id}-S1"
        state = self.states.setdefault(sid, ShipmentState.RELEASED)
        status = (OrderStatus.COMPLETED if is_delivered(state) else OrderStatus.CANCELLED
                  if state is ShipmentState.CANCELLED else OrderStatus.FULFILLING)
        return OrderSnapshot(order_id=order_id, status=status, quantity_cancelled=0, shipments=(
            ShipmentSnapshot(shipment_id=sid, node_id="store-1", state=state, lines=self.lines, label_cost=500,
                             currency="USD", pickup=self.pickup, labelled=self.labelled),))

    async def shipment_event(self, shipment_id: str, event_type: str, event_id: str,
                             data: dict[str, Any] | None = None) -> None:
        assert event_id == f"{shipment_id}:{event_type}"
        self.received.append((shipment_id, event_type, data))
        kind = ShipmentEventType(event_type)
        if kind is ShipmentEventType.COLLECTED and (data or {}).get("pickup_code") != CODE:
            raise GatewayError("POST", f"/v1/shipments/{shipment_id}/events", 409, "pickup_code: not the code")
        if kind in (ShipmentEventType.REJECTED,):
            self.states[shipment_id] = ShipmentState.CANCELLED  # handed back; the order sources it again
            return
        if kind is ShipmentEventType.SHORT_PICKED:
            self.states[shipment_id] = ShipmentState.PICKED
            return
        try:
            self.states[shipment_id] = next_state(self.states[shipment_id], kind)
        except ValueError as err:
            raise GatewayError("POST", f"/v1/shipments/{shipment_id}/events", 409, str(err)) from err

    async def pickup_code(self, email: str, shipment_id: str) -> str | None:
        """The customer's mailbox: the ready-for-pickup e-mail arrives on the second look."""
        assert email == "ada@example.com"
        self.mail_reads += 1
        return CODE if self.mail_reads > 1 else None

    def events(self) -> list[str]:
        return [event for _, event, _ in self.received]


def _warehouse(system: StoreOrders, **options: Any) -> SimulatedWarehouse:
    return SimulatedWarehouse(system, system, store_nodes=["store-1"], store_sender=system, mailbox=system,
                              **FAST, **options)


async def test_a_curbside_customer_reads_the_code_parks_and_the_store_posts_collected_with_it() -> None:
    system = StoreOrders(pickup=True)
    warehouse = _warehouse(system)

    warehouse.watch("web-1", 0.0, customer=Customer(email="ada@example.com", pickup=True, curbside=True))
    await warehouse.wait_all()

    assert system.events() == ["accepted", "picked", "ready_for_pickup", "arrived", "collected"]
    assert system.received[3][2] is not None and system.received[3][2]["spot"]
    assert system.received[4][2] == {"pickup_code": CODE}
    assert warehouse.orders["web-1"].ready_for_pickup == {"web-1-S1"}
    assert warehouse.orders["web-1"].status is OrderStatus.COMPLETED


async def test_a_customer_who_never_comes_leaves_the_pickup_on_the_shelf() -> None:
    system = StoreOrders(pickup=True)
    warehouse = _warehouse(system)

    warehouse.watch("web-1", 0.0, customer=Customer(email="ada@example.com", pickup=True, comes=False))
    for _ in range(50):
        await asyncio.sleep(0.002)

    assert system.events() == ["accepted", "picked", "ready_for_pickup"]
    assert system.mail_reads == 0
    system.states["web-1-S1"] = ShipmentState.CANCELLED  # the pickup window ran out
    await warehouse.wait_all()
    assert warehouse.orders["web-1"].status is OrderStatus.CANCELLED


async def test_a_store_rejects_the_first_shipment_of_an_order_marked_so_with_a_reason() -> None:
    system = StoreOrders()
    warehouse = _warehouse(system)

    warehouse.watch("web-1", 0.0, customer=Customer(store_trouble=StoreTrouble.REJECT))
    await warehouse.wait_all()

    assert system.events() == ["rejected"]
    assert system.received[0][2] is not None and system.received[0][2]["reason"]
    assert warehouse.orders["web-1"].store_troubled == {"web-1-S1": (StoreTrouble.REJECT, ("MUG", "CAP"))}


async def test_a_short_pick_names_the_units_found_and_the_rest_ships() -> None:
    system = StoreOrders()
    warehouse = _warehouse(system)

    warehouse.watch("web-1", 0.0, customer=Customer(store_trouble=StoreTrouble.SHORT_PICK))
    await warehouse.wait_all()

    assert system.events() == ["accepted", "short_picked", "packed", "shipped", "delivered"]
    assert system.received[1][2] == {"lines": [{"sku": "MUG", "quantity_picked": 1},
                                               {"sku": "CAP", "quantity_picked": 1}]}
    assert warehouse.orders["web-1"].store_troubled == {"web-1-S1": (StoreTrouble.SHORT_PICK, ("MUG",))}


async def test_with_carrier_tracking_a_labelled_shipment_is_left_to_the_carrier_once_shipped() -> None:
    system = StoreOrders(labelled=True)
    warehouse = _warehouse(system, carrier_tracking=True)

    warehouse.watch("web-1", 0.0)
    for _ in range(100):
        await asyncio.sleep(0.002)
        if "shipped" in system.events():
            break
    for _ in range(20):
        await asyncio.sleep(0.002)
    assert system.events() == ["accepted", "picked", "packed", "shipped"]
    system.states["web-1-S1"] = ShipmentState.DELIVERED  # the tracker's webhook
    await warehouse.wait_all()
    assert warehouse.orders["web-1"].status is OrderStatus.COMPLETED


async def test_with_carrier_tracking_an_unlabelled_shipment_is_still_delivered_by_the_warehouse() -> None:
    system = StoreOrders(labelled=False)
    warehouse = _warehouse(system, carrier_tracking=True)

    warehouse.watch("web-1", 0.0)
    await warehouse.wait_all()

    assert system.events() == ["accepted", "picked", "packed", "shipped", "delivered"]


async def test_a_parcel_the_carrier_scanned_before_the_warehouse_shipped_it_counts_as_shipped_once() -> None:
    system = StoreOrders(labelled=True)
    system.states["web-1-S1"] = ShipmentState.IN_TRANSIT  # the tracker's first scan won the race
    shipped: list[str] = []
    warehouse = _warehouse(system, carrier_tracking=True, on_shipped=lambda _, sid: shipped.append(sid))

    warehouse.watch("web-1", 0.0)
    for _ in range(20):
        await asyncio.sleep(0.002)
    system.states["web-1-S1"] = ShipmentState.DELIVERED
    await warehouse.wait_all()

    assert system.events() == []
    assert shipped == ["web-1-S1"] and set(warehouse.orders["web-1"].shipped_after_s) == {"web-1-S1"}
