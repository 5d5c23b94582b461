"""One demo run against a running gateway: load the network, place orders, let the simulated warehouse
ship them, release the held ones, cancel a few, receive stock for the backordered ones, return some
delivered ones while the rest still run, and count what happened.

The run ends when every order and return is final. It gives up only when nothing has moved for
`stall_s` (no order or return changed status, no shipment changed state, no order placed), or after
`max_s` in all, and then names what each unfinished order or return waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.progress import Progress, TaskID

from models.keys import KeyCreate, Role
from models.network import NodeKind
from omniroute.demo.api import GatewayApi, GatewayError
from omniroute.demo.network import DemoNetwork, default_data_dir
from omniroute.demo.orders import DemoOrder, OrderKind, choose_returns, generate_orders
from omniroute.demo.receiving import Receipt, SimulatedReceiving
from omniroute.demo.returns import ReturnsDesk
from omniroute.demo.sandbox import CarrierPlan, ProviderSandboxes
from omniroute.demo.stuck import order_waits_for, return_waits_for
from omniroute.demo.summary import DemoSummary, ReturnOutcome, summarize
from omniroute.demo.tasks import BackgroundTasks
from omniroute.demo.vendors import at_sandbox, is_vendor, onboard_vendors
from omniroute.demo.warehouse import Customer, SimulatedWarehouse, TrackedOrder
from omniroute.demo.wms import WebhookWms
from omniroute.devstack.keys import StoredKey, read_keys, remember
from omniroute.files.cost_files import demo_catalog_path, load_catalog

DEFAULT_ORDERS = 200
DEFAULT_RETURNS = 20
DEFAULT_SEED = 7
# A loaded 2-core machine may pause for tens of seconds; nothing in the demo waits two minutes on purpose.
STALL_S = 120.0
MAX_RUN_S = 30 * 60.0
LOAD_CONCURRENCY = 16
INTAKE_CONCURRENCY = 16


@dataclass(frozen=True)
class DemoPlan:
    """How many orders and returns, from which seed; `run_tag` keeps this run's ids apart."""

    orders: int = DEFAULT_ORDERS
    returns: int = DEFAULT_RETURNS
    seed: int = DEFAULT_SEED
    run_tag: str = "demo"


class Pulse:
    """When something last moved."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.last = clock()

    def beat(self) -> None:
        self.last = self._clock()

    def quiet_for(self) -> float:
        return self._clock() - self.last


class DemoScenario:
    """Runs a DemoPlan through `api`, reporting progress on `progress`. `run` never raises for what the
    system answers: errors are kept per order and return, and whatever is not final when the run gives
    up is listed by `problems()` with what it waits for."""

    def __init__(
        self, api: GatewayApi, network: DemoNetwork, plan: DemoPlan, progress: Progress, *,
        keys_file: Path | None = None, wms: WebhookWms | None = None, sandbox_url: str | None = None,
        gateway_url: str | None = None, secret_for: Callable[[str], str] | None = None,
        sandboxes: ProviderSandboxes | None = None, carrier_plan: CarrierPlan | None = None,
    ) -> None:
        """With `wms`, one DC (`wms.node_id`) hands its shipments to the WMS sandbox by signed webhook
        and the other DCs' WMSs pull theirs; without, the warehouse works every released shipment. With
        `sandbox_url`, `gateway_url` and `secret_for` (a partner secret by name), the network's dropship
        vendors are played by the vendor sandbox, answering through the gateway. With `sandboxes`, the
        stores' pickup customers read their pickup codes in their e-mail there, and with `carrier_plan`
        the carriers' trackers deliver what left with a label (the warehouse stops at shipped)."""
        self._api, self._network, self._plan, self._progress = api, network, plan, progress
        self._keys_file = keys_file
        self._wms = wms
        self._sandbox_url, self._gateway_url, self._secret_for = sandbox_url, gateway_url, secret_for
        self._sandboxes, self._carrier_plan = sandboxes, carrier_plan
        self._orders = generate_orders(network, plan.orders, seed=plan.seed, run_tag=plan.run_tag)
        self._bars: dict[str, TaskID] = {}
        self.pulse = Pulse()
        pull_nodes = [] if wms is None else [node.node_id for node in network.nodes
                                             if node.kind is NodeKind.DC and node.node_id != wms.node_id]
        self.warehouse = SimulatedWarehouse(
            api, api, seed=plan.seed + 1, on_final=lambda _: self._advance("final"),
            on_shipped=lambda _, __: self._advance("shipped"), on_held=self._review_hold, on_seen=self._seen,
            puller=api if wms is not None else None, pull_nodes=pull_nodes,
            wms_nodes=[wms.node_id] if wms is not None else [],
            # A 3PL's shipments are worked by ShipBob (its sandbox ships them and calls the gateway's webhook),
            # a vendor's by the vendor sandbox.
            partner_nodes=frozenset(node.node_id for node in network.nodes
                                    if node.kind is NodeKind.THREE_PL or is_vendor(node)),
            # The stores' staff and their pickup customers are played by the warehouse too.
            store_nodes=[node.node_id for node in network.nodes if node.kind is NodeKind.STORE],
            store_sender=api, mailbox=sandboxes, carrier_tracking=carrier_plan is not None,
        )
        self.receiving = SimulatedReceiving(api, network, seed=plan.seed + 3, run_tag=plan.run_tag,
                                            on_received=self._received)
        chosen = choose_returns(self._orders, plan.returns, seed=plan.seed + 2)
        self.returns_desk = ReturnsDesk(api, chosen, plan.returns, seed=plan.seed + 2, run_tag=plan.run_tag,
                                        on_moved=self._return_moved)
        self.intake_errors: dict[str, str] = {}
        self._cancels = BackgroundTasks()
        self.gave_up: str | None = None

    async def run(self, *, stall_s: float = STALL_S, max_s: float = MAX_RUN_S) -> DemoSummary:
        started = time.monotonic()
        work = asyncio.ensure_future(self._all_phases())
        try:
            while not work.done():
                await asyncio.wait({work}, timeout=min(1.0, stall_s / 4))
                if work.done():
                    break
                if self.pulse.quiet_for() > stall_s:
                    self.gave_up = f"nothing moved for {stall_s:.0f} s"
                elif time.monotonic() - started > max_s:
                    self.gave_up = f"still not done after {max_s / 60:.0f} min"
                else:
                    continue
                work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
        finally:
            await self.warehouse.aclose()
            await self.receiving.aclose()
            await self.returns_desk.aclose()
            await self._cancels.cancel_all()
        texts = await self._sandboxes.texts_to(self._sms_phones()) if self._sandboxes is not None else 0
        return self.summary(elapsed_s=time.monotonic() - started, sms_sent=texts)

    def _sms_phones(self) -> set[str]:
        return {str(o.order.customer.phone) for o in self._orders if o.order.customer.sms}

    def summary(self, *, elapsed_s: float, sms_sent: int = 0) -> DemoSummary:
        unplaced = [TrackedOrder(order_id=order_id, placed_at=0.0, ship=False, last_error=error)
                    for order_id, error in self.intake_errors.items()]
        return summarize([*self.warehouse.orders.values(), *unplaced], self.returns_desk.outcomes.values(),
                         placed=len(self._orders), elapsed_s=elapsed_s,
                         dropship_nodes={node.node_id for node in self._network.nodes if is_vendor(node)},
                         threepl_nodes={node.node_id for node in self._network.nodes
                                        if node.kind is NodeKind.THREE_PL},
                         pickups_placed=sum(1 for o in self._orders if o.kind is OrderKind.PICKUP),
                         curbside_placed=sum(1 for o in self._orders if o.kind is OrderKind.CURBSIDE),
                         units_received=sum(r.units for r in self.receiving.receipts),
                         sms_customers=sum(1 for o in self._orders if o.order.customer.sms), sms_sent=sms_sent)

    def problems(self) -> list[str]:
        """One line per order or return that is not final: its id, its last status and what it waits for."""
        lines = [f"order {order_id}: not placed: {error}" for order_id, error in self.intake_errors.items()]
        for tracked in sorted(self.warehouse.not_final(), key=lambda o: o.order_id):
            lines.append(f"order {tracked.order_id}: " + order_waits_for(tracked, self.receiving))
        for outcome in self.returns_desk.outcomes.values():
            if not outcome.is_final:
                lines.append(f"return {outcome.rma} (order {outcome.order_id}): " + return_waits_for(outcome))
        return lines

    # -- phases -----------------------------------------------------------------------------------

    async def _all_phases(self) -> None:
        await self._load_network()
        await self._make_keys()
        await self._place_orders()
        await self.warehouse.wait_all()
        await self._cancels.wait_all()
        await self.returns_desk.finish(self.warehouse.orders.values())

    async def _load_network(self) -> None:
        """Nodes, then a count for every (node, SKU) of the demo network: the file's, else 0, so that a
        second run on the same data dir starts from the same stock (an earlier run's receipts included)."""
        network = self._network
        counts = [(node.node_id, sku.sku, network.on_hand(node.node_id, sku.sku))
                  for node in network.nodes for sku in network.skus]
        bar = self._progress.add_task("Loading network", total=len(network.nodes) + len(counts))
        for node in network.nodes:  # nodes first: stock refers to them
            node = at_sandbox(node, self._sandbox_url)
            await self._api.put_node(self._wms.hand_off_of(node) if self._wms is not None else node)
            self._loaded(bar)

        async def put(index: int) -> None:
            await self._api.put_stock(*counts[index])
            self._loaded(bar)

        await _bounded(LOAD_CONCURRENCY, put, range(len(counts)))
        await self._load_sourcing()
        if self._sandboxes is not None and self._carrier_plan is not None:
            await self._sandboxes.plan_tracking(self._carrier_plan)

    async def _make_keys(self) -> None:
        """The keys the demo's actors use, made with the admin key as a retailer would: one for the
        demo's channels, one for its nodes (warehouses and returns desks), one for the operator who
        reviews holds. Kept in the keys file (the previous run's demo keys are revoked first)."""
        channels = sorted({demo_order.order.channel for demo_order in self._orders})
        nodes = sorted(node.node_id for node in self._network.nodes)
        wanted = {
            "demo-channels": KeyCreate(name="demo channels", role=Role.CHANNEL, channels=channels),
            "demo-nodes": KeyCreate(name="demo nodes", role=Role.NODE, nodes=nodes),
            "demo-operator": KeyCreate(name="demo operator", role=Role.OPERATOR),
        }
        earlier = read_keys(self._keys_file) if self._keys_file is not None else {}
        for name in wanted:
            if name in earlier:
                await self._api.revoke_key(earlier[name].key_id)
        for name, request in wanted.items():
            created = await self._api.create_key(request)
            self._api.use_key(request.role, created.token)
            if self._keys_file is not None:
                remember(self._keys_file, name, StoredKey(created.key_id, request.role, created.token))
            if self._wms is not None and request.role is Role.NODE:
                await self._wms.configure(node_token=created.token)
            if name == "demo-nodes" and self._sandbox_url and self._gateway_url and self._secret_for:
                await onboard_vendors(self._network.nodes, sandbox_url=self._sandbox_url,
                                      gateway_url=self._gateway_url, node_key=created.token,
                                      secret_for=self._secret_for)

    async def _load_sourcing(self) -> None:
        """The demo's rate cards, SKU weights and order rules, through the same API an operator uses."""
        data = default_data_dir()
        bar = self._progress.add_task("Loading sourcing config", total=3)
        await self._api.put_sourcing_document("cost-model", data.joinpath("cost_model.yaml").read_text("utf-8"))
        self._loaded(bar)
        await self._api.put_skus(list(load_catalog(demo_catalog_path()).skus.values()))
        self._loaded(bar)
        await self._api.put_sourcing_document("rules", data.joinpath("rules.yaml").read_text("utf-8"))
        self._loaded(bar)

    async def _place_orders(self) -> None:
        total = len(self._orders)
        placing = self._progress.add_task("Placing orders", total=total)
        self._bars["shipped"] = self._progress.add_task("Shipments shipped", total=None)
        self._bars["final"] = self._progress.add_task("Orders final", total=total)
        self._bars["received"] = self._progress.add_task("Units received (WMS)", total=None)
        self._bars["returns"] = self._progress.add_task("Returns final", total=self._plan.returns)

        async def place(index: int) -> None:
            demo_order = self._orders[index]
            placed_at = time.monotonic()
            try:
                await self._api.place_order(demo_order.order)
            except (GatewayError, httpx.TransportError) as err:
                self.intake_errors[demo_order.order_id] = str(err)
            else:
                order = demo_order.order
                customer = Customer(email=str(order.customer.email), pickup=order.pickup is not None,
                                    curbside=order.pickup is not None and order.pickup.curbside,
                                    comes=demo_order.customer_comes, store_trouble=demo_order.store_trouble)
                tracked = self.warehouse.watch(demo_order.order_id, placed_at,
                                               ship=not demo_order.cancel_before_shipping, customer=customer)
                if demo_order.cancel_before_shipping:
                    tracked.cancel_requested = True
                    self._cancels.spawn(self._cancel(demo_order))
            self._loaded(placing)

        await _bounded(INTAKE_CONCURRENCY, place, range(total))

    async def _review_hold(self, tracked: TrackedOrder) -> None:
        """The demo's operator reviews each held order and lets it go on."""
        await self._api.release_hold(tracked.order_id, released_by="demo-operator", reason="reviewed in the demo")

    async def _cancel(self, demo_order: DemoOrder) -> None:
        """The customer changes their mind before anything ships. If the gateway refuses (nothing
        left to cancel), the warehouse ships the order after all, so that it still ends."""
        try:
            await self._api.cancel_order(demo_order.order_id)
        except (GatewayError, httpx.TransportError) as err:
            self.warehouse.orders[demo_order.order_id].last_error = f"cancel refused: {err}"
            self.warehouse.allow_shipping(demo_order.order_id)

    # -- what moved -------------------------------------------------------------------------------

    def _seen(self, tracked: TrackedOrder, moved: bool) -> None:
        if moved:
            self.pulse.beat()
            self.returns_desk.observe(tracked)
        self.receiving.observe(tracked)

    def _received(self, receipt: Receipt) -> None:
        self._advance("received", receipt.units)

    def _return_moved(self, outcome: ReturnOutcome) -> None:
        self.pulse.beat()
        if outcome.is_final:
            self._advance("returns")

    def _loaded(self, bar: TaskID) -> None:
        self.pulse.beat()
        self._progress.advance(bar)

    def _advance(self, bar: str, by: int = 1) -> None:
        if bar in self._bars:
            self._progress.advance(self._bars[bar], by)


async def _bounded(limit: int, work: Callable[[int], Awaitable[None]], indexes: range) -> None:
    """Run work(i) for every index, at most `limit` at a time."""
    gate = asyncio.Semaphore(limit)

    async def guarded(index: int) -> None:
        async with gate:
            await work(index)

    await asyncio.gather(*(guarded(i) for i in indexes))
