"""Helpers for workflow tests: a small network, orders, and waiting on workflow state."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import TypeVar

from models.address import Address
from models.network import Node, NodeKind
from models.order import Customer, OrderLineIn, OrderView, PlaceOrder
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from store import Store
from tests.fixtures.temporal import RunningWorker

R = TypeVar("R")

CHICAGO = Address(name="Ada Buyer", line1="1 Main St", city="Chicago", region="IL", postal_code="60601")


def add_node(store: Store, node_id: str, postal_code: str | None, *, kind: NodeKind = NodeKind.DC,
             latitude: float | None = None, longitude: float | None = None) -> Node:
    return store.upsert_node(Node(node_id=node_id, name=node_id.upper(), kind=kind, postal_code=postal_code,
                                  latitude=latitude, longitude=longitude))


def an_order(*lines: tuple[str, int], channel: str = "web", unit_price: int = 1999,
             ship_to: Address = CHICAGO) -> PlaceOrder:
    return PlaceOrder(
        channel=channel, channel_order_id=uuid.uuid4().hex[:12], currency="USD",
        customer=Customer(email=f"buyer-{uuid.uuid4().hex[:8]}@example.com", name="Ada Buyer"),
        ship_to=ship_to, lines=[OrderLineIn(sku=sku, quantity=qty, unit_price=unit_price) for sku, qty in lines],
    )


async def wait_for(worker: RunningWorker, order_id: str, predicate: Callable[[OrderView], bool],
                   timeout: float = 30.0) -> OrderView:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = await worker.sdk.get_order(order_id)
        if predicate(view):
            return view
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting on {order_id}: {view.model_dump_json(indent=1)}")
        await asyncio.sleep(0.1)


def all_released(view: OrderView) -> bool:
    return bool(view.shipments) and all(s.state is ShipmentState.RELEASED for s in view.shipments)


async def warehouse_ships(worker: RunningWorker, shipment_id: str, *, deliver: bool = True) -> None:
    steps = [ShipmentEventType.PICKED, ShipmentEventType.PACKED, ShipmentEventType.SHIPPED]
    if deliver:
        steps.append(ShipmentEventType.DELIVERED)
    for step in steps:
        await worker.sdk.send_shipment_event(
            ShipmentEvent(shipment_id=shipment_id, type=step, event_id=f"{shipment_id}-{step.value}"))


async def run_once(worker: RunningWorker, workflow: str, result_type: type[R]) -> R:
    """Run a scheduled workflow (sweep, refresh, wave) once, now, on the worker's task queue."""
    result: R = await worker.temporal.execute_workflow(
        workflow, id=f"{workflow}-{uuid.uuid4().hex[:8]}", task_queue=worker.task_queue, result_type=result_type)
    return result
