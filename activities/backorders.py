"""The backorder sweep's finding step: which orders waiting for stock can now be planned again.

Run by BackorderSweepWorkflow on the `backorder-sweep` schedule, so that backordered units are
planned minutes after stock arrives instead of at the order's next hourly retry. An order is due
when any SKU it has on backorder has ATP at a shipping node; the order itself re-plans (and keeps
waiting for what is still short).
"""

from __future__ import annotations

from temporalio import activity

from activities.errors import classified_errors
from models.network import Capability
from models.schedules import BackorderSweep
from sourcing.stock import atp_at, orders_with_stock_back
from store.ports import NetworkReader, OrderQueues, StockLedger

# Orders one sweep looks at, oldest first; the rest wait for the next sweep.
MAX_SWEEP_ORDERS = 1000


class BackorderActivities:
    def __init__(self, queues: OrderQueues, network: NetworkReader, ledger: StockLedger) -> None:
        self._queues = queues
        self._network = network
        self._ledger = ledger

    @activity.defn
    def orders_with_stock_back(self) -> BackorderSweep:
        with classified_errors():
            waiting = self._queues.orders_with_backorders(limit=MAX_SWEEP_ORDERS)
            skus = sorted({sku for _, _, wanted in waiting for sku in wanted})
            shipping = {node.node_id for node in self._network.list_nodes() if node.can(Capability.SHIP)}
            atp = atp_at(self._ledger.positions(skus) if skus else [], shipping)
            return BackorderSweep(waiting=len(waiting), due=orders_with_stock_back(waiting, atp))
