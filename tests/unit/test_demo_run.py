"""A demo run against an in-memory gateway: returns start while orders still run, and a run where an
order stops moving gives up after the stall time and says what that order waits for."""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.progress import Progress

from models.keys import KeyCreate, KeyCreated, Role
from models.order import OrderAccepted, OrderStatus, PlaceOrder
from models.returns import ReturnStatus, StartReturn
from models.shipment import ShipmentState
from omniroute.demo.api import OrderSnapshot, ReturnSnapshot, ShipmentSnapshot
from omniroute.demo.network import load_network
from omniroute.demo.orders import generate_orders
from omniroute.demo.returns import ReturnsDesk
from omniroute.demo.scenario import DemoPlan, DemoScenario
from omniroute.demo.warehouse import TrackedOrder


class InMemoryGateway:
    """Every order is delivered on its second read (on its `slow[order_id]`th read for slow ones), except
    those in `stuck`, whose one shipment never gets a label. Returns complete once the parcel is
    reported received."""

    def __init__(self, stuck: set[str] | None = None, slow: dict[str, int] | None = None) -> None:
        self.stuck, self.slow = stuck or set(), slow or {}
        self.orders: dict[str, PlaceOrder] = {}
        self.reads: dict[str, int] = {}
        self.returns: dict[str, ReturnStatus] = {}
        self.return_started_while_orders_open: list[bool] = []
        self.keys: list[KeyCreate] = []
        self.used: dict[Role, str] = {}

    async def create_key(self, request: KeyCreate) -> KeyCreated:
        self.keys.append(request)
        return KeyCreated(key_id=f"k{len(self.keys)}", token=f"omr_k{len(self.keys)}_secret", name=request.name,
                          role=request.role, channels=request.channels, nodes=request.nodes)

    def use_key(self, role: Role, token: str) -> None:
        self.used[role] = token

    async def revoke_key(self, key_id: str) -> None: ...
    async def put_node(self, node: object) -> None: ...
    async def put_stock(self, node_id: str, sku: str, on_hand: int) -> None: ...
    async def put_sourcing_document(self, name: str, text: str) -> None: ...
    async def put_skus(self, items: object) -> None: ...
    async def release_hold(self, order_id: str, released_by: str, reason: str) -> None: ...
    async def receive_stock(self, node_id: str, sku: str, units: int, *, source: str, key: str) -> None: ...

    async def place_order(self, order: PlaceOrder) -> OrderAccepted:
        self.orders[order.order_id] = order
        return OrderAccepted(order_id=order.order_id, workflow_id=f"order-{order.order_id}", created=True)

    async def cancel_order(self, order_id: str) -> None:
        self.stuck.discard(order_id)

    async def order(self, order_id: str) -> OrderSnapshot:
        self.reads[order_id] = self.reads.get(order_id, 0) + 1
        order = self.orders[order_id]
        lines = tuple((line.sku, line.quantity) for line in order.lines)
        if order_id in self.stuck or self.reads[order_id] < 2:
            state, status = ShipmentState.PENDING, OrderStatus.FULFILLING
        else:
            state, status = ShipmentState.DELIVERED, OrderStatus.COMPLETED
        shipment = ShipmentSnapshot(shipment_id=f"{order_id}-S1", node_id="dc-joliet-il", state=state, lines=lines,
                                    label_cost=700, currency="USD")
        return OrderSnapshot(order_id=order_id, status=status, shipments=(shipment,), quantity_cancelled=0)

    async def shipment_event(self, shipment_id: str, event_type: str, event_id: str) -> None: ...

    async def start_return(self, request: StartReturn) -> None:
        open_orders = [o for o in self.orders if self.reads.get(o, 0) < self.slow.get(o, 2) or o in self.stuck]
        self.return_started_while_orders_open.append(bool(open_orders))
        self.returns.setdefault(request.rma, ReturnStatus.AWAITING_RECEIPT)

    async def return_status(self, rma: str) -> ReturnSnapshot:
        return ReturnSnapshot(rma=rma, status=self.returns[rma])

    async def return_event(self, rma: str, event_type: str = "received") -> None:
        self.returns[rma] = ReturnStatus.COMPLETED


async def run(gateway: InMemoryGateway, plan: DemoPlan, stall_s: float) -> DemoScenario:
    with Progress(console=Console(quiet=True)) as progress:
        scenario = DemoScenario(gateway, load_network(), plan, progress)  # type: ignore[arg-type]
        await scenario.run(stall_s=stall_s, max_s=120)
    return scenario


async def test_every_order_and_return_ends_and_returns_start_before_the_last_order_is_final() -> None:
    plan = DemoPlan(orders=30, returns=3, seed=7, run_tag="t")
    orders = generate_orders(load_network(), plan.orders, seed=plan.seed, run_tag="t")
    gateway = InMemoryGateway(slow={orders[-1].order_id: 6})

    scenario = await run(gateway, plan, stall_s=30)
    summary = scenario.summary(elapsed_s=1.0)

    assert scenario.gave_up is None and summary.all_final
    assert (summary.returns_started, summary.returns_restocked) == (3, 3)
    assert any(gateway.return_started_while_orders_open)
    # Each actor of the demo calls with its own role's key, scoped to the demo's channels and nodes.
    made = {key.role: key for key in gateway.keys}
    assert set(made) == {Role.CHANNEL, Role.NODE, Role.OPERATOR}
    assert made[Role.CHANNEL].channels == sorted({order.order.channel for order in orders})
    assert made[Role.NODE].nodes == sorted(node.node_id for node in load_network().nodes)
    assert set(gateway.used) == set(made)


async def test_a_run_where_an_order_stops_moving_gives_up_and_names_what_it_waits_for() -> None:
    plan = DemoPlan(orders=12, returns=0, seed=7, run_tag="t")
    stuck = next(o.order_id for o in generate_orders(load_network(), plan.orders, seed=plan.seed, run_tag="t")
                 if not o.cancel_before_shipping and not o.flagged_for_fraud)
    gateway = InMemoryGateway(stuck={stuck})

    scenario = await asyncio.wait_for(run(gateway, plan, stall_s=2), timeout=60)

    assert scenario.gave_up == "nothing moved for 2 s"
    problems = scenario.problems()
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"order {stuck}: fulfilling, waiting for {stuck}-S1 at dc-joliet-il: its label")
    assert not scenario.summary(elapsed_s=1.0).all_final


async def test_a_chosen_order_that_delivered_nothing_is_replaced_by_another_completed_order() -> None:
    gateway = InMemoryGateway()
    desk = ReturnsDesk(gateway, ["web-gone"], 1, seed=3, run_tag="t", poll_s=(0.001, 0.01))
    cancelled = TrackedOrder(order_id="web-gone", placed_at=0.0, ship=True, status=OrderStatus.CANCELLED)
    delivered = TrackedOrder(order_id="web-kept", placed_at=0.0, ship=True, status=OrderStatus.COMPLETED)
    delivered.shipments = {"web-kept-S1": ShipmentSnapshot(
        shipment_id="web-kept-S1", node_id="dc-1", state=ShipmentState.DELIVERED, lines=(("MUG", 2),),
        label_cost=None, currency=None)}

    desk.observe(cancelled)
    await desk.finish([cancelled, delivered])

    assert [o.order_id for o in desk.outcomes.values()] == ["web-kept"]
    assert all(o.status is ReturnStatus.COMPLETED for o in desk.outcomes.values())
