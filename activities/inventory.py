"""Inventory activities: allocate (plan + reserve), commit, release, restock. DB-only: run them local."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import reroute_plan
from activities.errors import classified_errors
from activities.sourcing import SourcingConfig, SourcingConfigCache, start_of_day
from models.commands import (
    AllocateStock,
    CommitStock,
    ReleaseStock,
    RestockReturn,
    ShortPick,
    StockAllocated,
    SwapReservations,
    SwapResult,
)
from models.inventory import ReservationItem
from models.names import shipment_id_for
from models.network import Node
from models.order import channel_of_order
from models.plan import FulfillmentPlan
from models.reroute import ReplanShipment, ShipmentReplanned
from sourcing.allocation import explain
from sourcing.business_hours import capacity_days, full_stores
from sourcing.decide import decide
from sourcing.geo import locate
from sourcing.inputs import DecisionInput, SourcingInput
from sourcing.nearest import plan_nearest_from
from sourcing.optimizer import MilpStrategy
from sourcing.pickup import may_pick_up_at
from sourcing.plan_check import may_ship_from, why_plan_refused
from sourcing.problem import Strategy
from sourcing.release import release_at
from sourcing.stock import channel_atp_at
from store.ports import NetworkReader, OrderRecords, StockLedger

MAX_PLAN_ATTEMPTS = 5


def utc_now() -> datetime:
    return datetime.now(UTC)


class InventoryActivities:
    """Plans from the ledger's ATP and reserves, swaps, commits, releases and restocks through it.

    The plan itself is sourcing's (`sourcing.decide`, `sourcing.nearest`, `sourcing.release`,
    `sourcing.plan_check`); these methods load its inputs, write its outcome and classify errors.
    """

    def __init__(
        self,
        ledger: StockLedger,
        network: NetworkReader,
        orders: OrderRecords,
        sourcing: SourcingConfigCache,
        *,
        reservation_ttl: timedelta = timedelta(hours=72),
        strategy: Strategy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """`clock` gives the time plans are made at (cut-offs, ship weekdays, capacity per day, release
        waves, reservation expiry): the wall clock, or a fixed instant in tests."""
        self._ledger = ledger
        self._network = network
        self._orders = orders
        self._clock = clock
        self._ttl = reservation_ttl
        self._sourcing = sourcing
        self._strategy = strategy or MilpStrategy()

    @activity.defn
    def allocate(self, request: AllocateStock) -> StockAllocated:
        """Plan from a fresh ATP snapshot and reserve the whole plan in one transaction.

        If stock moved between snapshot and reserve (another order won the last units), plan
        again, up to MAX_PLAN_ATTEMPTS times. Reservation keys are derived from the shipment id and
        SKU, so a retried activity never reserves twice. Raises a retryable ApplicationError
        ("StockContention") if every attempt lost the race.
        """
        with classified_errors():
            config = self._sourcing.current()
            for attempt in range(1, MAX_PLAN_ATTEMPTS + 1):
                network = self._network.list_nodes()
                plan = self._plan(request, config, network)
                shipment_ids, keys, items = _reservations_of(plan, request.order_id, request.first_shipment_no)
                expires_at = request.expires_at or self._clock() + self._ttl
                result = self._ledger.reserve(items, order_id=request.order_id, expires_at=expires_at,
                                              source=f"order:{request.order_id}")
                if result.ok:
                    if plan.decision is not None:
                        self._orders.set_order_decision(request.order_id, plan.decision)
                    now = self._clock()
                    release = release_at(config.cost_model, plan, network, now)
                    if release is not None:
                        self._orders.set_order_release_at(request.order_id, release)
                    return StockAllocated(plan=plan, shipment_ids=shipment_ids, reservation_keys=keys,
                                          attempts=attempt, hold=release - now if release else None)
                activity.logger.info("stock moved while planning %s (attempt %d): %s",
                                     request.order_id, attempt, result.shortfalls)
        raise ApplicationError(f"stock kept moving while planning {request.order_id}", type="StockContention")

    @activity.defn
    def swap(self, request: SwapReservations) -> SwapResult:
        """Replace an order's waiting shipments by a wave's plan: the old reservations released and the
        new ones made in one transaction, or nothing changed (stock moved, or the order's rules forbid
        the plan). Idempotent: a retry finds the new keys reserved and the old ones released."""
        with classified_errors():
            plan = request.plan
            nodes = {node.node_id: node for node in self._network.list_nodes()}
            refused = why_plan_refused(plan, nodes, request.rules)
            if refused is not None:
                return SwapResult(ok=False, reason=refused)
            shipment_ids, keys, items = _reservations_of(plan, request.order_id, request.first_shipment_no)
            result = self._ledger.replace_reservations(
                request.release_keys, items, order_id=request.order_id, expires_at=self._clock() + self._ttl,
                source=f"order:{request.order_id}", reason=request.reason)
            if not result.ok:
                short = ", ".join(f"{s.node_id}/{s.sku} {s.available} of {s.requested}" for s in result.shortfalls)
                return SwapResult(ok=False, reason=f"stock moved: {short}")
            if plan.decision is not None:
                self._orders.set_order_decision(request.order_id, plan.decision)
            self._orders.set_order_release_at(request.order_id, None)
            return SwapResult(ok=True, shipment_ids=shipment_ids, reservation_keys=keys)

    @activity.defn
    def reroute(self, request: ReplanShipment) -> ShipmentReplanned:
        """Re-plan one waiting shipment from the node an operator chose and move its stock there: the
        old reservations released and the new ones made in one transaction, or nothing changed. The
        order's decision is amended with the move, and the order leaves the release-wave queue (its
        plan is the operator's now). A refusal (an unknown or inactive node, one that does not ship or
        that the order's rules exclude, one no carrier service reaches, or too little stock there:
        the shortfall names the SKU) comes back as `ok=False` with the reason. Idempotent: the new
        keys come from the shipment and the reroute number, so a retry finds them reserved and the old
        ones released."""
        with classified_errors():
            node = self._network.get_node(request.node_id)
            refused = reroute_plan.why_node_refused(node, request)
            if node is None or refused is not None:
                return ShipmentReplanned(ok=False, reason=refused or f"unknown node {request.node_id!r}")
            now = self._clock()
            skus = sorted({line.sku for line in request.lines})
            plan = reroute_plan.replan_from(node, request, self._sourcing.current().cost_model,
                                            self._network.catalog(skus), self._strategy, now)
            refused = reroute_plan.why_plan_unusable(plan, node.node_id)
            if refused is not None:
                return ShipmentReplanned(ok=False, reason=refused)
            keys, items = reroute_plan.reservations_at(node.node_id, request)
            moved = self._ledger.replace_reservations(
                request.release_keys, items, order_id=request.order_id, expires_at=now + self._ttl,
                source=f"order:{request.order_id}",
                reason=f"{request.shipment_id} rerouted to {node.node_id} by {request.actor}: {request.reason}")
            if not moved.ok:
                short = ", ".join(f"{s.sku} at {s.node_id}: {s.available} available of {s.requested} needed"
                                  for s in moved.shortfalls)
                return ShipmentReplanned(ok=False, reason=f"not enough stock: {short}")
            [planned] = plan.shipments
            new_cost = reroute_plan.cost_at(plan.decision, node.node_id)
            before = reroute_plan.cost_at(request.decision, request.from_node_id)
            currency = plan.decision.currency if plan.decision is not None else request.currency
            explanation = reroute_plan.explain(request, currency, before.total_cents if before else None,
                                               new_cost.total_cents if new_cost else None, planned.delivery_date)
            decision = None
            if request.decision is not None:
                decision = reroute_plan.amend_decision(request.decision, request, plan.decision, explanation)
                self._orders.set_order_decision(request.order_id, decision)
            self._orders.set_order_release_at(request.order_id, None)
            return ShipmentReplanned(
                ok=True, planned=planned, reservation_keys=keys, decision=decision,
                cost_before_cents=before.total_cents if before else None,
                cost_after_cents=new_cost.total_cents if new_cost else None,
                delivery_after=planned.delivery_date, explanation=explanation)

    def _plan(self, request: AllocateStock, config: SourcingConfig, network: list[Node]) -> FulfillmentPlan:
        """The cost-optimal plan when a cost model is configured (sourcing.decide), else nearest-first
        (sourcing.nearest). Either way only nodes the intake rules allow, and that have not handed the
        order's work back, are planned from, and only the stock the allocation rule of the order's
        channel lets it reserve there (what the ledger will hold the reservation to)."""
        skus = sorted({line.sku for line in request.lines})
        full = full_stores(network, self._network.store_accepts_on(capacity_days(network, self._clock())))
        nodes = {n.node_id: n for n in network
                 if _may_plan_at(n, request) and n.node_id not in request.exclude_nodes and n.node_id not in full}
        channel = channel_of_order(request.order_id)
        rule = None if channel is None else self._ledger.channel_allocation(channel)
        own = {} if channel is None or rule is None else self._ledger.channel_reserved(channel, skus)
        atp = channel_atp_at(self._ledger.positions(skus), nodes, rule, own)
        plan = self._plan_from(request, config, nodes, atp)
        if full:
            plan.explanation.append("stores at their daily capacity today: " + ", ".join(sorted(full)))
        if rule is not None:
            plan.explanation.append("planned within the allocation rule: " + "; ".join(explain(rule, channel)))
        return plan

    def _plan_from(self, request: AllocateStock, config: SourcingConfig, nodes: dict[str, Node],
                   atp: dict[str, dict[str, int]]) -> FulfillmentPlan:
        skus = sorted({line.sku for line in request.lines})
        destination = locate(request.ship_to)
        if config.cost_model is None or destination is None or request.pickup_only:  # a pickup needs no carrier
            return plan_nearest_from(request.lines, destination, list(nodes.values()), atp)
        now = self._clock()
        prices = config.look_ahead_prices(now)
        plan = decide(DecisionInput(
            order=SourcingInput(
                order_id=request.order_id, lines=request.lines, destination=destination,
                nodes=[nodes[n] for n in sorted(atp)], atp=atp, model=config.cost_model,
                catalog=self._network.catalog(skus), now=now, level=request.service_level,
                deliver_by=request.deliver_by, shadow_prices=prices,
                shipments_today=self._orders.shipments_planned_since(start_of_day(now)),
            ),
            strategy=self._strategy, outcome=request.rules,
        ))
        if plan.decision is not None:
            plan.decision.cost_model_version = config.cost_model_version
            plan.decision.rules_version = config.rules_version
            if prices is not None:
                plan.decision.shadow_prices_version = config.shadow_prices_version
        return plan

    @activity.defn
    def commit(self, request: CommitStock) -> None:
        """The goods left the building: on_hand and reserved go down together. Idempotent."""
        self._ledger.commit(request.keys, source="shipment")

    @activity.defn
    def release(self, request: ReleaseStock) -> None:
        """Give reserved stock back to ATP. Idempotent; committed keys are left alone."""
        self._ledger.release(request.keys, source="order", reason=request.reason)

    @activity.defn
    def short_pick(self, request: ShortPick) -> None:
        """Write off what a node could not pick: each reservation shrinks and on_hand drops by the units
        short (the count was wrong). Once per reservation key."""
        for key, short in sorted(request.short.items()):
            self._ledger.short_pick(key, short, source="short pick", reason=request.reason)

    @activity.defn
    def restock_return(self, request: RestockReturn) -> None:
        """Put returned units back on hand at the receiving node. Idempotent by item key."""
        with classified_errors():
            for item in request.items:
                self._ledger.restock(item.node_id, item.sku, item.quantity, key=item.key,
                                    source=f"return:{request.rma}", reason="return restock")


def _may_plan_at(node: Node, request: AllocateStock) -> bool:
    """A node the order may be planned at: one that ships, or for a pickup order a pickup store (the
    one the customer chose, when `pickup_at` names it)."""
    if not request.pickup_only:
        return may_ship_from(node, request.rules)
    if request.pickup_at is not None and node.node_id != request.pickup_at:
        return False
    return may_pick_up_at(node, request.rules, curbside=request.curbside)


def _reservations_of(
    plan: FulfillmentPlan, order_id: str, first_shipment_no: int
) -> tuple[list[str], dict[str, list[str]], list[ReservationItem]]:
    """The plan's shipment ids (numbered from `first_shipment_no`), each shipment's reservation keys,
    and the reservations to make: one per shipment line, keyed by shipment and SKU so a retry never
    reserves twice."""
    numbers = range(first_shipment_no, first_shipment_no + len(plan.shipments))
    shipment_ids = [shipment_id_for(order_id, n) for n in numbers]
    keys = {sid: [_reservation_key(sid, line.sku) for line in shipment.lines]
            for sid, shipment in zip(shipment_ids, plan.shipments, strict=True)}
    items = [ReservationItem(key=_reservation_key(sid, line.sku), node_id=shipment.node_id, sku=line.sku,
                             quantity=line.quantity)
             for sid, shipment in zip(shipment_ids, plan.shipments, strict=True) for line in shipment.lines]
    return shipment_ids, keys, items


def _reservation_key(shipment_id: str, sku: str) -> str:
    return f"{shipment_id}:{sku}"
