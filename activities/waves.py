"""The release wave's planning step: which waiting orders to re-plan, and how.

Run by ReleaseWaveWorkflow on the `release-waves` schedule. Reads the orders held for a wave whose
release time is still ahead, the shipments and reservations they hold, the free ATP and the cost
model; plans them together (`sourcing.waves`); returns one new plan per order the wave changes.
It writes nothing: each order swaps its own reservations when it takes its plan, so an order that
released in the meantime simply keeps what it has.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from temporalio import activity

from activities.errors import classified_errors
from activities.sourcing import SourcingConfigCache
from models.commands import WavePlan
from models.inventory import ReservationState
from models.network import Capability
from models.records import OrderRecord
from models.schedules import WaveDispatch, WaveReport
from sourcing.stock import add_stock, atp_at
from sourcing.waves import WaitingOrder, plan_release_wave, waiting_order
from store.ports import NetworkReader, OrderQueues, OrderRecords, ReservationReader, StockLedger

# Orders one wave looks at, soonest release first; the rest wait for the next wave.
MAX_WAVE_ORDERS = 200


class WaveActivities:
    def __init__(self, queues: OrderQueues, orders: OrderRecords, network: NetworkReader, ledger: StockLedger,
                 reservations: ReservationReader, config: SourcingConfigCache) -> None:
        self._queues = queues
        self._orders = orders
        self._network = network
        self._ledger = ledger
        self._reservations = reservations
        self._config = config

    @activity.defn
    def plan_wave(self) -> WaveReport:
        """Plan the waiting orders together; nothing when the cost model has no `waves`."""
        with classified_errors():
            wave_id = f"wave-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
            config = self._config.current()
            model = config.cost_model
            if model is None or model.waves is None:
                return WaveReport(wave_id=wave_id, ran=False, reason="waves are off: the cost model has no waves")
            now = datetime.now(UTC)
            waiting: list[tuple[OrderRecord, WaitingOrder]] = []
            held: dict[str, dict[str, int]] = {}
            for record in self._queues.orders_awaiting_release(now, limit=MAX_WAVE_ORDERS):
                found = waiting_order(record, self._orders.shipments_for_order(record.order_id))
                if found is not None:
                    waiting.append((record, found))
                    add_stock(held, self._held_by(record.order_id))
            if not waiting:
                return WaveReport(wave_id=wave_id, reason="no order is waiting for a wave")
            skus = sorted({line.sku for _, order in waiting for line in order.lines})
            nodes = [node for node in self._network.list_nodes() if node.can(Capability.SHIP)]
            shipping = {node.node_id for node in nodes}
            # The wave shares out what the waiting orders hold between them plus what is free.
            pool: dict[str, dict[str, int]] = {}
            add_stock(pool, held)
            add_stock(pool, atp_at(self._ledger.positions(skus), shipping))
            result = plan_release_wave([order for _, order in waiting], nodes, pool, model=model,
                                       catalog=self._network.catalog(skus), now=now,
                                       min_saving_cents=model.waves.min_saving_cents)
            saving = result.cost_before - result.cost_after
            for change in result.changes:  # each new plan names the documents it was made with
                if change.plan.decision is not None:
                    change.plan.decision.cost_model_version = config.cost_model_version
                    change.plan.decision.rules_version = config.rules_version
            workflow_of = {record.order_id: record.workflow_id for record, _ in waiting}
            dispatches = [WaveDispatch(workflow_id=workflow_of[change.order_id],
                                       plan=WavePlan(wave_id=wave_id, plan=change.plan, saving_cents=round(saving, 2)))
                          for change in result.changes]
            activity.logger.info("%s: %d waiting orders, %d re-planned, saves %.0f cents", wave_id, result.orders,
                                 len(dispatches), saving)
            return WaveReport(wave_id=wave_id, orders=result.orders, cost_before=round(result.cost_before, 2),
                              cost_after=round(result.cost_after, 2), status=result.status,
                              solve_ms=round(result.solve_ms, 3), dispatches=dispatches)

    def _held_by(self, order_id: str) -> dict[str, dict[str, int]]:
        """Units per node id, then per SKU, of the order's active reservations."""
        held: dict[str, dict[str, int]] = {}
        for reservation in self._reservations.reservations(order_id):
            if reservation.state is ReservationState.ACTIVE:
                add_stock(held, {reservation.node_id: {reservation.sku: reservation.quantity}})
        return held
