"""Inventory activities: allocate (plan + reserve), commit, release, restock. DB-only: run them local."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import classified_errors
from activities.sourcing import SourcingConfig, SourcingConfigCache, start_of_day
from models.commands import (
    AllocateStock,
    CommitStock,
    ReleaseStock,
    RestockReturn,
    StockAllocated,
    SwapReservations,
    SwapResult,
)
from models.costs import CostModel
from models.inventory import ReservationItem
from models.names import shipment_id_for
from models.network import Capability, Node
from models.plan import FulfillmentPlan
from sourcing.calendar import next_cutoff
from sourcing.decide import decide
from sourcing.geo import locate
from sourcing.nearest import Candidate, plan_nearest
from sourcing.optimizer import MilpStrategy
from sourcing.problem import Strategy
from store import Store

MAX_PLAN_ATTEMPTS = 5


def utc_now() -> datetime:
    return datetime.now(UTC)


class InventoryActivities:
    def __init__(
        self,
        store: Store,
        *,
        reservation_ttl: timedelta = timedelta(hours=72),
        sourcing: SourcingConfigCache | None = None,
        strategy: Strategy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """`clock` gives the time plans are made at (cut-offs, ship weekdays, capacity per day, release
        waves, reservation expiry): the wall clock, or a fixed instant in tests."""
        self._store = store
        self._clock = clock
        self._ttl = reservation_ttl
        self._sourcing = sourcing or SourcingConfigCache(store)
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
                network = self._store.list_nodes()
                plan = self._plan(request, config, network)
                first = request.first_shipment_no
                shipment_ids = [shipment_id_for(request.order_id, n) for n in range(first, first + len(plan.shipments))]
                keys = {
                    sid: [_reservation_key(sid, line.sku) for line in shipment.lines]
                    for sid, shipment in zip(shipment_ids, plan.shipments, strict=True)
                }
                items = [
                    ReservationItem(key=_reservation_key(sid, line.sku), node_id=shipment.node_id,
                                    sku=line.sku, quantity=line.quantity)
                    for sid, shipment in zip(shipment_ids, plan.shipments, strict=True)
                    for line in shipment.lines
                ]
                expires_at = request.expires_at or self._clock() + self._ttl
                result = self._store.reserve(items, order_id=request.order_id, expires_at=expires_at,
                                             source=f"order:{request.order_id}")
                if result.ok:
                    if plan.decision is not None:
                        self._store.set_order_decision(request.order_id, plan.decision)
                    now = self._clock()
                    release_at = _release_at(config.cost_model, plan, network, now)
                    if release_at is not None:
                        self._store.set_order_release_at(request.order_id, release_at)
                    return StockAllocated(plan=plan, shipment_ids=shipment_ids, reservation_keys=keys,
                                          attempts=attempt, hold=release_at - now if release_at else None)
                activity.logger.info("stock moved while planning %s (attempt %d): %s",
                                     request.order_id, attempt, result.shortfalls)
        raise ApplicationError(f"stock kept moving while planning {request.order_id}", type="StockContention")

    @activity.defn
    def swap(self, request: SwapReservations) -> SwapResult:
        """Replace an order's waiting shipments by a wave's plan: the old reservations released and the
        new ones made in one transaction, or nothing changed (stock moved, or the order's rules forbid
        the plan). Idempotent: a retry finds the new keys reserved and the old ones released."""
        with classified_errors():
            plan, outcome = request.plan, request.rules
            nodes = {node.node_id: node for node in self._store.list_nodes()}
            for shipment in plan.shipments:
                node = nodes.get(shipment.node_id)
                if node is None or not node.can(Capability.SHIP) or (outcome is not None and not outcome.allows(node)):
                    return SwapResult(ok=False, reason=f"the order's rules or the network exclude {shipment.node_id}")
            limit = outcome.max_shipments if outcome is not None else None
            if outcome is not None and outcome.ship_complete:
                limit = 1
            if limit is not None and len(plan.shipments) > limit:
                return SwapResult(ok=False, reason=f"the order's rules allow at most {limit} shipment(s)")
            first = request.first_shipment_no
            shipment_ids = [shipment_id_for(request.order_id, n) for n in range(first, first + len(plan.shipments))]
            keys = {sid: [_reservation_key(sid, line.sku) for line in shipment.lines]
                    for sid, shipment in zip(shipment_ids, plan.shipments, strict=True)}
            items = [ReservationItem(key=_reservation_key(sid, line.sku), node_id=shipment.node_id, sku=line.sku,
                                     quantity=line.quantity)
                     for sid, shipment in zip(shipment_ids, plan.shipments, strict=True) for line in shipment.lines]
            result = self._store.replace_reservations(
                request.release_keys, items, order_id=request.order_id, expires_at=self._clock() + self._ttl,
                source=f"order:{request.order_id}", reason=request.reason)
            if not result.ok:
                short = ", ".join(f"{s.node_id}/{s.sku} {s.available} of {s.requested}" for s in result.shortfalls)
                return SwapResult(ok=False, reason=f"stock moved: {short}")
            if plan.decision is not None:
                self._store.set_order_decision(request.order_id, plan.decision)
            self._store.set_order_release_at(request.order_id, None)
            return SwapResult(ok=True, shipment_ids=shipment_ids, reservation_keys=keys)

    def _plan(self, request: AllocateStock, config: SourcingConfig, network: list[Node]) -> FulfillmentPlan:
        """The cost-optimal plan when a cost model is configured (sourcing.decide), else nearest-first.
        Either way the intake rules' node exclusions apply."""
        skus = sorted({line.sku for line in request.lines})
        outcome = request.rules
        nodes = {n.node_id: n for n in network if n.can(Capability.SHIP) and (outcome is None or outcome.allows(n))}
        atp: dict[str, dict[str, int]] = {}
        for position in self._store.positions(skus):
            if position.node_id in nodes and position.atp > 0:
                atp.setdefault(position.node_id, {})[position.sku] = position.atp
        destination = locate(request.ship_to)
        if config.cost_model is None or destination is None:
            candidates = []
            for node_id, stock in atp.items():
                point = locate(nodes[node_id])
                if point is not None:
                    candidates.append(Candidate(node_id=node_id, point=point, atp=stock))
            return plan_nearest(request.lines, destination, candidates)
        now = self._clock()
        prices = config.look_ahead_prices(now)
        plan = decide(
            request.order_id, request.lines, destination, [nodes[n] for n in sorted(atp)], atp,
            model=config.cost_model, catalog=self._store.catalog(skus), strategy=self._strategy, now=now,
            outcome=outcome, level=request.service_level, deliver_by=request.deliver_by,
            shipments_today=self._store.shipments_planned_since(start_of_day(now)), shadow_prices=prices,
        )
        if plan.decision is not None:
            plan.decision.cost_model_version = config.cost_model_version
            plan.decision.rules_version = config.rules_version
            if prices is not None:
                plan.decision.shadow_prices_version = config.shadow_prices_version
        return plan

    @activity.defn
    def commit(self, request: CommitStock) -> None:
        """The goods left the building: on_hand and reserved go down together. Idempotent."""
        self._store.commit(request.keys, source="shipment")

    @activity.defn
    def release(self, request: ReleaseStock) -> None:
        """Give reserved stock back to ATP. Idempotent; committed keys are left alone."""
        self._store.release(request.keys, source="order", reason=request.reason)

    @activity.defn
    def restock_return(self, request: RestockReturn) -> None:
        """Put returned units back on hand at the receiving node. Idempotent by item key."""
        with classified_errors():
            for item in request.items:
                self._store.restock(item.node_id, item.sku, item.quantity, key=item.key,
                                    source=f"return:{request.rma}", reason="return restock")


def _release_at(model: CostModel | None, plan: FulfillmentPlan, network: list[Node], now: datetime) -> datetime | None:
    """With release waves on: when the plan's shipments stop waiting, `hold_minutes` from now or
    `release_before_cutoff_minutes` before the earliest cut-off of their nodes, whichever is first;
    None (release now) when waves are off, nothing ships, or that moment has passed."""
    if model is None or model.waves is None or not plan.shipments:
        return None
    release_at = now + timedelta(minutes=model.waves.hold_minutes)
    kinds = {node.node_id: node.kind for node in network}
    lead = timedelta(minutes=model.waves.release_before_cutoff_minutes)
    for shipment in plan.shipments:
        if shipment.node_id in kinds:
            costs = model.node_costs(shipment.node_id, kinds[shipment.node_id])
            release_at = min(release_at, next_cutoff(costs, now).astimezone(UTC) - lead)
    return release_at if release_at > now else None


def _reservation_key(shipment_id: str, sku: str) -> str:
    return f"{shipment_id}:{sku}"
