"""The scenario `omniroute demo` runs with its default arguments takes every path, whatever the time.

The demo's orders go through the same activities the order workflow calls (rules at intake, then
plan and reserve) against the demo network in a real app DB, with the planning clock fixed at
instants where cut-offs, ship weekdays and weekends bite. Then the demo's warehouse receives the
backordered units, as it does in a live run, and the waiting lines are planned again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import typer.main
from temporalio.testing import ActivityEnvironment

from activities.inventory import InventoryActivities
from activities.sourcing import SourcingActivities, SourcingConfigCache
from models.allocation import InventoryFeedItem
from models.commands import AllocateStock, StockAllocated
from models.names import order_workflow_id
from models.order import OrderStatus
from models.plan import UnfillableLine
from models.records import OrderRecord
from models.rules import RuleOutcome
from models.shipment import ShipmentLine
from omniroute.cli.app import app
from omniroute.demo.network import default_data_dir, load_network
from omniroute.demo.orders import DemoOrder, OrderKind, choose_returns, generate_orders
from omniroute.demo.receiving import receiving_node
from omniroute.demo.scenario import DEFAULT_ORDERS, DEFAULT_RETURNS, DEFAULT_SEED
from omniroute.files.cost_files import demo_catalog_path, demo_cost_model_path, load_catalog, load_cost_model
from omniroute.files.rule_files import parse_rules
from sourcing.pickup import store_address
from store import Store

CHICAGO = ZoneInfo("America/Chicago")
INSTANTS = {
    "friday-after-every-cutoff": datetime(2026, 12, 4, 17, 30, tzinfo=CHICAGO),
    "saturday-night": datetime(2026, 12, 5, 23, 45, tzinfo=CHICAGO),
    "monday-before-opening": datetime(2026, 12, 7, 6, 0, tzinfo=CHICAGO),
    "wednesday-noon": datetime(2026, 12, 9, 12, 0, tzinfo=CHICAGO),
}


def demo_defaults() -> dict[str, int]:
    """The defaults of `omniroute demo`, read off the command itself."""
    command = typer.main.get_command(app).commands["demo"]  # type: ignore[attr-defined]
    return {param.name: param.default for param in command.params if param.name in ("orders", "returns", "seed")}


@dataclass
class Paths:
    held: list[str] = field(default_factory=list)
    split: list[str] = field(default_factory=list)
    cancelled_lines: list[str] = field(default_factory=list)
    backordered: dict[str, list[UnfillableLine]] = field(default_factory=dict)
    delivery_dates: set[str] = field(default_factory=set)
    dropship: list[str] = field(default_factory=list)
    pickups: list[str] = field(default_factory=list)


def loaded_store(url: str) -> Store:
    network = load_network()
    store = Store.connect(url)
    for node in network.nodes:
        store.upsert_node(node)
    for row in network.inventory:
        store.set_on_hand(row.node_id, row.sku, row.on_hand, source="demo", reason="demo network")
    store.set_cost_model(load_cost_model(demo_cost_model_path()))
    store.upsert_skus(list(load_catalog(demo_catalog_path()).skus.values()))
    store.set_rules(parse_rules(default_data_dir().joinpath("rules.yaml").read_text("utf-8")))
    return store


def allocate(env: ActivityEnvironment, store: Store, inventory: InventoryActivities, demo_order: DemoOrder,
             lines: list[ShipmentLine], rules: RuleOutcome | None, first: int = 1) -> StockAllocated:
    """The order workflow's allocate step (recording the order first, as the workflow does; a pickup
    order at its store's address, planned only at that store)."""
    order = demo_order.order
    ship_to, pickup_terms = order.ship_to, {}
    if order.pickup is not None:
        node = store.get_node(order.pickup.node_id)
        assert node is not None
        ship_to = store_address(node, order.customer.name)
        pickup_terms = {"pickup_only": True, "pickup_at": order.pickup.node_id, "curbside": order.pickup.curbside}
    assert ship_to is not None
    store.record_order(OrderRecord(
        order_id=order.order_id, workflow_id=order_workflow_id(order.order_id), channel=order.channel,
        channel_order_id=order.channel_order_id, status=OrderStatus.RECEIVED, currency=order.currency,
        customer=order.customer, ship_to=ship_to, lines=order.lines, created_at=datetime.now(CHICAGO)))
    result: StockAllocated = env.run(inventory.allocate, AllocateStock(
        order_id=order.order_id, ship_to=ship_to, lines=lines, rules=rules,
        service_level=order.service_level, first_shipment_no=first, **pickup_terms))
    return result


@pytest.mark.parametrize("instant", INSTANTS.values(), ids=INSTANTS.keys())
def test_the_default_demo_splits_holds_cancels_backorders_fills_and_returns_at_any_time(
    sqlite_url: str, instant: datetime
) -> None:
    defaults = demo_defaults()
    # `make demo` and the end-to-end test (run_demo's defaults) run the same scenario.
    assert defaults == {"orders": DEFAULT_ORDERS, "returns": DEFAULT_RETURNS, "seed": DEFAULT_SEED}
    network = load_network()
    orders = generate_orders(network, defaults["orders"], seed=defaults["seed"])
    store = loaded_store(sqlite_url)
    env = ActivityEnvironment()
    config = SourcingConfigCache(store)
    sourcing = SourcingActivities(network=store, config=config)
    inventory = InventoryActivities(ledger=store, network=store, orders=store, sourcing=config, clock=lambda: instant)
    paths = Paths()

    for demo_order in orders:
        outcome = env.run(sourcing.evaluate_rules, demo_order.order)
        if outcome.holds:
            paths.held.append(demo_order.order_id)
        lines = [ShipmentLine(line_no=n, sku=line.sku, quantity=line.quantity)
                 for n, line in enumerate(demo_order.order.lines, start=1)]
        allocation = allocate(env, store, inventory, demo_order, lines, outcome)
        if len(allocation.plan.shipments) > 1:
            paths.split.append(demo_order.order_id)
        if any(s.node_kind == "dropship" for s in allocation.plan.shipments):
            paths.dropship.append(demo_order.order_id)
        if demo_order.order.pickup is not None:
            # The store has the unit: the pickup is planned there in full, whatever else the run took.
            assert [s.node_id for s in allocation.plan.shipments] == [demo_order.order.pickup.node_id]
            assert not allocation.plan.unfillable
            paths.pickups.append(demo_order.order_id)
        paths.delivery_dates.update(str(s.delivery_date) for s in allocation.plan.shipments if s.delivery_date)
        if allocation.plan.unfillable:
            if outcome.backorder_policy == "backorder":
                paths.backordered[demo_order.order_id] = list(allocation.plan.unfillable)
            else:
                paths.cancelled_lines.append(demo_order.order_id)

    assert paths.split and paths.held and paths.cancelled_lines and paths.backordered, paths
    assert len(paths.dropship) >= 4, "some orders go to the dropship vendor (its sandbox rejects or ignores some)"
    assert any(o.cancel_before_shipping for o in orders)
    assert len(paths.pickups) == sum(1 for o in orders if o.kind in (OrderKind.PICKUP, OrderKind.CURBSIDE)) >= 10
    assert min(paths.delivery_dates) > instant.date().isoformat()  # planned at the injected instant
    # Every order the customers will return ships in full, so each return has something to send back.
    chosen = set(choose_returns(orders, defaults["returns"], seed=defaults["seed"] + 2))
    assert len(chosen) == defaults["returns"]
    assert not chosen & (set(paths.backordered) | set(paths.cancelled_lines) | set(paths.held))

    # The demo's warehouse receives what waits, and every backordered line is planned in full.
    by_id = {o.order_id: o for o in orders}
    for order_id, waiting in paths.backordered.items():
        store.apply_inventory_feed([
            InventoryFeedItem(node_id=receiving_node(network, line.sku), sku=line.sku, delta=line.quantity,
                              kind="receipt", source="demo-wms", key=f"{order_id}:{line.sku}")
            for line in waiting])
        demo_order = by_id[order_id]
        outcome = env.run(sourcing.evaluate_rules, demo_order.order)
        lines = [ShipmentLine(line_no=u.line_no, sku=u.sku, quantity=u.quantity) for u in waiting]
        again = allocate(env, store, inventory, demo_order, lines, outcome, first=10)
        assert not again.plan.unfillable, (order_id, again.plan.unfillable)
        assert sum(line.quantity for s in again.plan.shipments for line in s.lines) == sum(u.quantity for u in waiting)


def test_an_order_planned_after_the_cut_off_is_promised_later_than_the_same_order_before_it(
    sqlite_url: str,
) -> None:
    """The injected clock reaches the plans: after Friday's cut-offs nothing leaves before Monday."""
    network = load_network()
    ordinary = next(o for o in generate_orders(network, 20, seed=7) if o.kind is OrderKind.ORDINARY)
    store = loaded_store(sqlite_url)
    env = ActivityEnvironment()
    lines = [ShipmentLine(line_no=n, sku=line.sku, quantity=line.quantity)
             for n, line in enumerate(ordinary.order.lines, start=1)]
    friday = INSTANTS["friday-after-every-cutoff"]
    promised = {}
    for name, instant in (("before", friday.replace(hour=9)), ("after", friday)):
        order = ordinary.order.model_copy(update={"channel_order_id": f"{ordinary.order.channel_order_id}-{name}"})
        inventory = InventoryActivities(ledger=store, network=store, orders=store, sourcing=SourcingConfigCache(store),
                                        clock=lambda instant=instant: instant)
        plan = allocate(env, store, inventory, DemoOrder(order=order, kind=ordinary.kind, cancel_before_shipping=False),
                        lines, None).plan
        promised[name] = max(s.delivery_date for s in plan.shipments if s.delivery_date)

    assert promised["before"] < promised["after"]
