"""The live look-ahead's refresh: price every (node, SKU) by what forecast demand will need of it.

Run by ShadowPriceWorkflow on the `shadow-prices` schedule. Reads the last days of orders, the
ATP of every shipping node and the cost model; computes the prices (`sourcing.network_prices`);
stores them as a versioned document that every worker's SourcingConfigCache picks up before its
next order. A regular activity: the LP can take seconds on a large assortment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio import activity

from activities.errors import classified_errors
from activities.sourcing import SourcingConfigCache
from models.costs import NodeSkuPrice, ShadowPriceSet
from models.network import Capability
from models.schedules import PriceRefresh
from sourcing.geo import locate
from sourcing.network_prices import network_shadow_prices
from sourcing.stock import atp_at
from store.ports import NetworkReader, OrderQueues, SourcingDocuments, StockLedger


class LookAheadActivities:
    def __init__(self, queues: OrderQueues, network: NetworkReader, ledger: StockLedger,
                 documents: SourcingDocuments, config: SourcingConfigCache) -> None:
        self._queues = queues
        self._network = network
        self._ledger = ledger
        self._documents = documents
        self._config = config

    @activity.defn
    def refresh_shadow_prices(self) -> PriceRefresh:
        """Compute and store the stock prices; nothing when the cost model has no `look_ahead`."""
        with classified_errors():
            config = self._config.current()
            model = config.cost_model
            if model is None or model.look_ahead is None:
                return PriceRefresh(ran=False, reason="look-ahead is off: the cost model has no look_ahead section")
            settings = model.look_ahead
            now = datetime.now(UTC)
            history = []
            unplaced = 0
            for address, lines in self._queues.orders_placed_since(now - timedelta(days=settings.history_days)):
                point = locate(address)
                if point is None:
                    unplaced += 1
                    continue
                history.append((point, [(line.sku, line.quantity) for line in lines]))
            skus = sorted({sku for _, lines in history for sku, _ in lines})
            nodes = [node for node in self._network.list_nodes() if node.can(Capability.SHIP)]
            shipping = {node.node_id for node in nodes}
            atp = atp_at(self._ledger.positions(skus) if skus else [], shipping)
            found = network_shadow_prices(history, nodes, atp, model=model, catalog=self._network.catalog(skus),
                                          settings=settings, now=now)
            version = self._documents.set_shadow_prices(ShadowPriceSet(
                computed_at=now, cost_model_version=config.cost_model_version, orders_seen=found.orders_seen,
                forecast_units=found.forecast_units, regions=found.regions, solve_ms=round(found.solve_ms, 3),
                prices=[NodeSkuPrice(node_id=node_id, sku=sku, cents=round(cents, 4))
                        for (node_id, sku), cents in sorted(found.prices.items())],
            ))
            activity.logger.info("look-ahead prices v%d: %d orders, %d prices, %.0f ms", version,
                                 found.orders_seen, len(found.prices), found.solve_ms)
            return PriceRefresh(ran=True, version=version, orders_seen=found.orders_seen,
                                orders_without_location=unplaced, prices=len(found.prices), regions=found.regions,
                                solve_ms=round(found.solve_ms, 3))
