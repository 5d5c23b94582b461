"""Sourcing activities: the order rules at intake, and the configuration the allocate step plans with.

The cost model, rule set and look-ahead prices are documents in the app DB, replaced as a whole. Parsing
a rate card for every order would cost more than the decision itself, so each worker keeps the
parsed copies and re-reads a document only when its version moved (one small read per order).
Both activities only touch the app DB and pure code: run them as local activities.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time

from temporalio import activity

from activities.errors import classified_errors
from models.costs import CostModel, ShadowPriceSet
from models.order import PlaceOrder
from models.rules import RuleOutcome, RuleSet
from sourcing.rules import OrderFacts, evaluate
from store.ports import COST_MODEL, RULES, SHADOW_PRICES, NetworkReader, SourcingDocuments


@dataclass(frozen=True)
class SourcingConfig:
    """What one decision is made with (None: not configured)."""

    cost_model: CostModel | None
    cost_model_version: int | None
    rules: RuleSet | None
    rules_version: int | None
    shadow_prices: ShadowPriceSet | None = None
    shadow_prices_version: int | None = None
    weighted_prices: dict[tuple[str, str], float] = field(default_factory=dict)

    def look_ahead_prices(self, now: datetime) -> dict[tuple[str, str], float] | None:
        """The weighted stock prices to plan with now: None when look-ahead is off or its prices are
        missing or older than the cost model's max_age_minutes."""
        settings = self.cost_model.look_ahead if self.cost_model is not None else None
        if self.shadow_prices is None or not self.shadow_prices.in_use(settings, now):
            return None
        return self.weighted_prices

    def with_weighted_prices(self) -> SourcingConfig:
        """This configuration with the prices times the cost model's price weight, worked out once per
        change of either rather than once per order."""
        settings = self.cost_model.look_ahead if self.cost_model is not None else None
        if settings is None or self.shadow_prices is None:
            return replace(self, weighted_prices={})
        return replace(self, weighted_prices={(p.node_id, p.sku): p.cents * settings.price_weight
                                              for p in self.shadow_prices.prices})


class SourcingConfigCache:
    """The worker's parsed cost model and rule set, refreshed when their stored version changes."""

    def __init__(self, documents: SourcingDocuments) -> None:
        self._documents = documents
        self._lock = threading.Lock()
        self._config = SourcingConfig(None, None, None, None)

    def current(self) -> SourcingConfig:
        versions = self._documents.sourcing_versions()
        with self._lock:
            config = before = self._config
            if versions.get(COST_MODEL) != config.cost_model_version:
                stored_model = self._documents.cost_model()
                config = replace(config, cost_model=stored_model[0] if stored_model else None,
                                 cost_model_version=stored_model[1] if stored_model else None)
            if versions.get(RULES) != config.rules_version:
                stored_rules = self._documents.rules()
                config = replace(config, rules=stored_rules[0] if stored_rules else None,
                                 rules_version=stored_rules[1] if stored_rules else None)
            if versions.get(SHADOW_PRICES) != config.shadow_prices_version:
                stored_prices = self._documents.shadow_prices()
                config = replace(config, shadow_prices=stored_prices[0] if stored_prices else None,
                                 shadow_prices_version=stored_prices[1] if stored_prices else None)
            if (config.cost_model_version, config.shadow_prices_version) != (
                    before.cost_model_version, before.shadow_prices_version):
                config = config.with_weighted_prices()
            self._config = config
            return config


class SourcingActivities:
    def __init__(self, network: NetworkReader, config: SourcingConfigCache) -> None:
        self._network = network
        self._config = config

    @activity.defn
    def evaluate_rules(self, order: PlaceOrder) -> RuleOutcome:
        """The order rules in force, evaluated once at intake: holds, node exclusions and preferences,
        ship complete, shipment limits, service level. No rule set configured: nothing fires."""
        with classified_errors():
            rules = self._config.current().rules
            if rules is None or not rules.rules:
                return RuleOutcome()
            catalog = self._network.catalog([line.sku for line in order.lines])
            tags = {sku: attributes.tags for sku, attributes in catalog.skus.items()}
            return evaluate(rules, OrderFacts.of(order, tags))


def start_of_day(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: the window a node's daily capacity is counted in."""
    return datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
