"""Store: the one object the rest of Omniroute talks to the app DB through."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Engine

from models.address import Address
from models.allocation import (
    AppliedFeedItem,
    ChannelAllocation,
    InventoryFeedItem,
    SafetyStockDefaults,
)
from models.audit import SYSTEM, Actor, AuditDetail, AuditEntry, AuditEntryIn, AuditFilter, AuditKind, DocumentVersion
from models.catalog import Catalog, SkuAttributes
from models.channel_writeback import WritebackDone, WritebackRecord, WritebackTask
from models.costs import CostModel, ShadowPriceSet
from models.events import Delivery, DeliveryAttempt, DeliveryPage, DeliveryState, Event, EventType, Subscription
from models.handoff import ReleasedShipment
from models.inventory import Availability, InventoryPosition, ReservationItem, ReserveResult
from models.keys import ApiKey, KeyCreate, KeyCreated
from models.network import Node, NodeKind
from models.order import HoldReason, OrderLineIn, OrderStatus
from models.order_search import OrderPage, OrderSearch
from models.plan import SourcingDecision
from models.records import Movement, OrderRecord, ReturnRecord, ShipmentRecord
from models.rules import RuleSet
from models.shipment import ShipmentState
from store import events, ledger
from store.allocation import AllocationRepository
from store.audit import AuditRepository
from store.channel_writebacks import ChannelWritebackRepository
from store.engine import Database, create_store_engine
from store.feeds import FeedRepository
from store.inventory import InventoryRepository
from store.keys import KeyRepository
from store.message_ledger import MessageLedgerRepository, MessageRecord, MessageState
from store.network import NodeRepository
from store.notification_limits import NotificationLimitRepository, NotificationUsage
from store.order_search import OrderSearchRepository
from store.orders import OrderRepository, ReturnRepository, ShipmentRepository
from store.reservations import ReservationRepository, ReservationView
from store.safety_stock import SafetyStockDefaultsRepository
from store.sourcing_config import COST_MODEL, RULES, SHADOW_PRICES, SourcingConfigRepository
from store.store_capacity import Claim, StoreCapacityRepository
from store.subscriptions import SubscriptionRepository
from store.webhook_deliveries import WebhookDeliveryRepository


class Store:
    """The app DB: the network, the inventory ledger and the order read model.

    Every method is one short transaction. Failures: UnknownNodeError for a node id not in the
    network, InvalidQuantityError for impossible quantities, UnknownOrderError for a status change
    of an order never recorded. Database errors (lock timeouts, lost connections) propagate as
    SQLAlchemy errors: they are transient and belong to the caller's retry policy.
    """

    def __init__(self, engine: Engine) -> None:
        database = Database(engine)
        self.engine = engine
        self._nodes = NodeRepository(database)
        self._inventory = InventoryRepository(database)
        self._reservations = ReservationRepository(database)
        self._orders = OrderRepository(database)
        self._shipments = ShipmentRepository(database)
        self._returns = ReturnRepository(database)
        self._safety_stock_defaults = SafetyStockDefaultsRepository(database)
        self._allocation = AllocationRepository(database)
        self._feeds = FeedRepository(database)
        self._sourcing = SourcingConfigRepository(database)
        self._keys = KeyRepository(database)
        self._notification_limits = NotificationLimitRepository(database)
        self._messages = MessageLedgerRepository(database)
        self._store_capacity = StoreCapacityRepository(database)
        self._order_search = OrderSearchRepository(database)
        self._audit = AuditRepository(database)
        self._webhook_deliveries = WebhookDeliveryRepository(database)
        self._subscriptions = SubscriptionRepository(database)
        self._channel_writebacks = ChannelWritebackRepository(database)
        self._database = database

    @classmethod
    def connect(cls, url: str) -> Store:
        """A store on `url` (sqlite:///path, postgresql://..., postgresql+psycopg://...)."""
        return cls(create_store_engine(url))

    def dispose(self) -> None:
        self.engine.dispose()

    # network

    def upsert_node(self, node: Node) -> Node:
        return self._nodes.upsert(node)

    def get_node(self, node_id: str) -> Node | None:
        return self._nodes.get(node_id)

    def list_nodes(self) -> list[Node]:
        """All nodes, active or not, ordered by node_id."""
        return self._nodes.list()

    # API keys

    def create_key(self, request: KeyCreate) -> KeyCreated:
        """A new key; its token is in the answer and nowhere else (only its hash is kept)."""
        return self._keys.create(request)

    def authenticate_key(self, token: str) -> ApiKey | None:
        """The active key this token belongs to, or None (unknown, malformed or revoked)."""
        return self._keys.authenticate(token)

    def get_key(self, key_id: str) -> ApiKey | None:
        return self._keys.get(key_id)

    def list_keys(self, *, include_revoked: bool = False) -> list[ApiKey]:
        return self._keys.list(include_revoked=include_revoked)

    def revoke_key(self, key_id: str) -> ApiKey | None:
        return self._keys.revoke(key_id)

    def touch_key(self, key_id: str, when: datetime) -> None:
        """Stamp the key's last use."""
        self._keys.touch(key_id, when)

    def has_active_admin_key(self) -> bool:
        return self._keys.has_active_admin()

    # sourcing configuration

    def upsert_skus(self, items: Sequence[SkuAttributes]) -> int:
        """Insert or replace SKU attributes (weight, dimensions, tags) in one transaction."""
        return self._sourcing.upsert_skus(items)

    def catalog(self, skus: Sequence[str] | None = None) -> Catalog:
        """The known attributes of `skus` (every SKU when None); unknown SKUs take the catalogue default."""
        return Catalog.of(self._sourcing.skus(skus))

    def set_cost_model(self, model: CostModel, *, actor: Actor = SYSTEM) -> int:
        """Replace the cost model (the old version is kept); its new version."""
        return self._sourcing.put_document(COST_MODEL, model.model_dump(mode="json"), actor=actor)

    def cost_model(self) -> tuple[CostModel, int] | None:
        """The cost model in force and its version, or None if none was ever set."""
        stored = self._sourcing.document(COST_MODEL)
        return None if stored is None else (CostModel.model_validate(stored[0]), stored[1])

    def set_rules(self, rules: RuleSet, *, actor: Actor = SYSTEM) -> int:
        """Replace the order rules (the old version is kept); their new version."""
        return self._sourcing.put_document(RULES, rules.model_dump(mode="json", exclude_defaults=True), actor=actor)

    def rules(self) -> tuple[RuleSet, int] | None:
        stored = self._sourcing.document(RULES)
        return None if stored is None else (RuleSet.model_validate(stored[0]), stored[1])

    def sourcing_versions(self) -> dict[str, int]:
        """Version of each stored sourcing document (cost_model, rules, shadow_prices); one small read."""
        return self._sourcing.versions()

    def set_shadow_prices(self, prices: ShadowPriceSet) -> int:
        """Replace the look-ahead's stock prices; their new version."""
        return self._sourcing.put_document(SHADOW_PRICES, prices.model_dump(mode="json"))

    def shadow_prices(self) -> tuple[ShadowPriceSet, int] | None:
        """The last look-ahead run's prices and their version, or None if none ran."""
        stored = self._sourcing.document(SHADOW_PRICES)
        return None if stored is None else (ShadowPriceSet.model_validate(stored[0]), stored[1])

    def set_order_backorders(self, order_id: str, skus: list[str]) -> None:
        self._orders.set_backorders(order_id, skus)

    def orders_with_backorders(self, *, limit: int = 1000) -> list[tuple[str, str, list[str]]]:
        """(order_id, workflow_id, SKUs on backorder) of every order waiting for stock, oldest first."""
        return self._orders.with_backorders(limit=limit)

    def set_order_release_at(self, order_id: str, release_at: datetime | None) -> None:
        self._orders.set_release_at(order_id, release_at)

    def orders_awaiting_release(self, now: datetime, *, limit: int = 500) -> list[OrderRecord]:
        """Orders held for a release wave that is still ahead (the next wave's candidates)."""
        return self._orders.awaiting_release(now, limit=limit)

    def replace_reservations(
        self, release_keys: Sequence[str], items: Sequence[ReservationItem], *, order_id: str,
        expires_at: datetime | None, source: str, reason: str,
    ) -> ReserveResult:
        """Release `release_keys` and reserve `items` in one transaction, or change nothing."""
        return self._reservations.replace(release_keys, items, order_id=order_id, expires_at=expires_at,
                                          source=source, reason=reason)

    def orders_placed_since(self, since: datetime) -> list[tuple[Address, list[OrderLineIn]]]:
        """Destination and lines of every order created since `since`: the look-ahead's demand history."""
        return self._orders.placed_since(since)

    # inventory

    def set_on_hand(
        self, node_id: str, sku: str, on_hand: int, *, source: str, reason: str = "count", actor: Actor = SYSTEM
    ) -> InventoryPosition:
        """Record the WMS's absolute count (a count below `reserved` is kept as is; ATP is then 0)."""
        return self._inventory.set_on_hand(node_id, sku, on_hand, source=source, reason=reason, actor=actor)

    def set_safety_stock(
        self, node_id: str, sku: str, safety_stock: int, *, source: str, actor: Actor = SYSTEM
    ) -> InventoryPosition:
        return self._inventory.set_safety_stock(node_id, sku, safety_stock, source=source, actor=actor)

    def safety_stock_defaults(self) -> SafetyStockDefaults:
        return self._safety_stock_defaults.get()

    def set_safety_stock_defaults(self, defaults: SafetyStockDefaults) -> SafetyStockDefaults:
        """Replace the defaults for positions without their own safety stock; they apply at once to ATP
        and to reservations. UnknownNodeError for a node id not in the network."""
        return self._safety_stock_defaults.replace(defaults)

    def positions(self, skus: Sequence[str]) -> list[InventoryPosition]:
        """Every active node's position for these SKUs, ordered by SKU then node."""
        return self._inventory.positions(skus)

    def availability(self, sku: str) -> Availability:
        return self._inventory.availability(sku)

    def channel_allocation(self, channel: str) -> ChannelAllocation | None:
        return self._allocation.rule(channel)

    def set_channel_allocation(self, channel: str, rule: ChannelAllocation) -> ChannelAllocation:
        return self._allocation.set_rule(channel, rule)

    def delete_channel_allocation(self, channel: str) -> bool:
        return self._allocation.delete_rule(channel)

    def channel_reserved(self, channel: str, skus: Sequence[str]) -> dict[tuple[str, str], int]:
        """Units of `skus` the channel's open reservations take, per (node id, SKU): what counts against
        its allocation share there (`ChannelAllocation.allowance`)."""
        return self._allocation.reserved_by(channel, skus)

    def stock(self, skus: Sequence[str]) -> tuple[list[InventoryPosition], dict[str, NodeKind]]:
        """Active nodes' positions for `skus` (by SKU, then node) and those nodes' kinds, in one query:
        what sourcing.allocation needs to answer availability per channel."""
        return self._allocation.stock(skus)

    def apply_inventory_feed(
        self, items: Sequence[InventoryFeedItem], *, actor: Actor = SYSTEM
    ) -> list[AppliedFeedItem]:
        """Counts and deltas, all in one transaction or none (store.feeds.FeedItemError names the bad item)."""
        return self._feeds.apply(items, actor=actor)

    def reserve(
        self, items: Sequence[ReservationItem], *, order_id: str, expires_at: datetime | None, source: str
    ) -> ReserveResult:
        """All items or none, in one transaction; idempotent by item key; within the allocation rule of the
        order's channel, if it has one (see ReservationRepository)."""
        return self._reservations.reserve(items, order_id=order_id, expires_at=expires_at, source=source)

    def commit(self, keys: Sequence[str], *, source: str) -> None:
        self._reservations.commit(keys, source=source)

    def release(self, keys: Sequence[str], *, source: str, reason: str) -> None:
        self._reservations.release(keys, source=source, reason=reason)

    def short_pick(self, key: str, short: int, *, source: str, reason: str) -> int:
        return self._reservations.short_pick(key, short, source=source, reason=reason)

    def reservations(self, order_id: str) -> list[ReservationView]:
        return self._reservations.for_order(order_id)

    def shipments_planned_since(self, since: datetime) -> dict[str, int]:
        """Orders per node that reserved stock there since `since`: today's load against daily capacity."""
        return self._reservations.orders_per_node_since(since)

    def expired_reservations(self, now: datetime, *, limit: int = 500) -> list[ReservationView]:
        """Active reservations that expired at or before `now`, soonest first."""
        return self._reservations.expired(now, limit=limit)

    def restock(
        self, node_id: str, sku: str, quantity: int, *, key: str, source: str, reason: str
    ) -> InventoryPosition:
        return self._inventory.restock(node_id, sku, quantity, key=key, source=source, reason=reason)

    def ledger(self, *, node_id: str | None = None, sku: str | None = None) -> list[Movement]:
        """Ledger rows, oldest first."""
        with self._database.read() as connection:
            return ledger.read(connection, node_id=node_id, sku=sku)

    def skus_moved_since(self, after: int | None, *, limit: int = 5000) -> tuple[list[str], int]:
        """SKUs whose stock moved after ledger movement `after`, and the cursor to continue from."""
        with self._database.read() as connection:
            return ledger.skus_moved_since(connection, after, limit=limit)

    def replay_positions(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(node_id, sku) -> (on_hand, reserved), recomputed from the ledger alone."""
        with self._database.read() as connection:
            return ledger.replay(connection)

    # read model

    def record_order(self, order: OrderRecord) -> bool:
        return self._orders.record(order)

    def get_order(self, order_id: str) -> OrderRecord | None:
        return self._orders.get(order_id)

    def search_orders(self, query: OrderSearch) -> OrderPage:
        """Orders matching every filter of `query`, newest first, one page (store/order_search.py)."""
        return self._order_search.search(query)

    def explain_order_search(self, query: OrderSearch) -> list[str]:
        """The database's plan for `search_orders(query)`, one line per step (for tests and the benchmark)."""
        return self._order_search.explain(query)

    def set_order_decision(self, order_id: str, decision: SourcingDecision) -> None:
        """Keep the order's sourcing decision for operators (GET /v1/orders/{id}, `omniroute orders explain`)."""
        self._orders.set_decision(order_id, decision)

    def set_order_status(self, order_id: str, status: OrderStatus, hold_reason: HoldReason | None = None) -> None:
        self._orders.set_status(order_id, status, hold_reason)

    def record_shipment(self, shipment: ShipmentRecord) -> None:
        self._shipments.record(shipment)

    def get_shipment(self, shipment_id: str) -> ShipmentRecord | None:
        return self._shipments.get(shipment_id)

    def find_shipment_by_tracking(self, tracking_number: str) -> ShipmentRecord | None:
        return self._shipments.find_by_tracking(tracking_number)

    def shipments_for_order(self, order_id: str) -> list[ShipmentRecord]:
        return self._shipments.for_order(order_id)

    def shipments_for_node(self, node_id: str, *, state: ShipmentState | None = ShipmentState.RELEASED,
                           cancel_requested: bool | None = None, after: str | None = None,
                           limit: int = 50) -> list[ReleasedShipment]:
        """A node's shipments for its WMS's pull (`GET /v1/nodes/{node_id}/shipments`), by shipment id."""
        return self._shipments.for_node(node_id, state=state, cancel_requested=cancel_requested, after=after,
                                        limit=limit)

    def record_return(self, ret: ReturnRecord) -> None:
        self._returns.record(ret)

    def get_return(self, rma: str) -> ReturnRecord | None:
        return self._returns.get(rma)

    def returned_quantities(self, order_id: str, *, exclude_rma: str | None = None) -> dict[str, int]:
        return self._returns.returned_quantities(order_id, exclude_rma=exclude_rma)

    # a store's daily capacity (store.store_capacity)

    def claim_store_capacity(self, node_id: str, day: date, shipment_id: str, capacity: int) -> Claim:
        """Take a slot of the store's `capacity` on its local `day` for the shipment (or say it holds one,
        or that none is left)."""
        return self._store_capacity.claim(node_id, day, shipment_id, capacity)

    def release_store_capacity(self, shipment_id: str) -> None:
        self._store_capacity.release(shipment_id)

    def store_accepts_on(self, days: Mapping[str, date]) -> dict[str, int]:
        """Shipments each store accepted on its local day (node id -> that date)."""
        return self._store_capacity.accepted_on(days)

    # messages to customers

    def admit_notification(self, recipient: str, kind: str, *, now: datetime, window: timedelta,
                           limit: int) -> bool:
        """Count one message to `recipient` (a hash, never an address) of `kind`, or answer False and
        count it suppressed when `limit` were already admitted in its window (store.notification_limits)."""
        return self._notification_limits.admit(recipient, kind, now=now, window=window, limit=limit)

    def notification_usage(self, recipient: str, kind: str) -> NotificationUsage | None:
        return self._notification_limits.usage(recipient, kind)

    # webhooks in

    def webhook_handled(self, source: str, delivery_id: str, *, now: datetime) -> bool:
        """Whether `source`'s webhook delivery `delivery_id` was handled before and is still remembered."""
        return self._webhook_deliveries.handled(source, delivery_id, now=now)

    def remember_webhook(self, source: str, delivery_id: str, *, now: datetime, keep: timedelta) -> None:
        """Remember a handled webhook delivery until `now + keep` (store.webhook_deliveries)."""
        self._webhook_deliveries.remember(source, delivery_id, now=now, keep=keep)

    # channel write-back (store.channel_writebacks)

    def pending_writebacks(self, channel: str, *, limit: int) -> list[WritebackTask]:
        """The channel's shipments that left and cancelled orders not yet written back to it."""
        return self._channel_writebacks.pending(channel, limit=limit)

    def record_writeback(self, channel: str, order_id: str, done: WritebackDone, *, now: datetime) -> None:
        self._channel_writebacks.record(channel, order_id, done, now=now)

    def writebacks(self, *, channel: str | None = None, order_id: str | None = None) -> list[WritebackRecord]:
        return self._channel_writebacks.written(channel=channel, order_id=order_id)

    def begin_message(self, key: str, channel: str, *, kind: str, recipient: str, language: str, now: datetime,
                      notification: str | None = None, lease_until: datetime | None = None) -> MessageRecord | None:
        """Record a message `sending` before it is sent and answer None; or answer its row when it has one
        (store.message_ledger)."""
        return self._messages.begin(key, channel, kind=kind, recipient=recipient, language=language, now=now,
                                    notification=notification, lease_until=lease_until)

    def resend_message(self, key: str, channel: str, *, uncertain: bool, now: datetime,
                       expected_attempts: int | None = None, lease_until: datetime | None = None) -> bool:
        return self._messages.resend(key, channel, uncertain=uncertain, now=now, expected_attempts=expected_attempts,
                                     lease_until=lease_until)

    def finish_message(self, key: str, channel: str, state: MessageState, *, now: datetime,
                       provider_message_id: str | None = None, next_attempt_at: datetime | None = None) -> None:
        self._messages.finish(key, channel, state, now=now, provider_message_id=provider_message_id,
                              next_attempt_at=next_attempt_at)

    def postpone_message(self, key: str, channel: str, *, next_attempt_at: datetime) -> None:
        self._messages.postpone(key, channel, next_attempt_at=next_attempt_at)

    def messages_due(self, now: datetime, *, limit: int) -> list[MessageRecord]:
        """Ledger rows the message retry sweep should try again now (store.message_ledger)."""
        return self._messages.due(now, limit=limit)

    def record_message_outcome(self, key: str, *, reference: str, actor: Actor, detail: AuditDetail) -> AuditEntry:
        """What became of a message sent later, as a `message.event` audit entry on the order it is about
        (`reference`: the order, or a return of it), so that the order's timeline shows it."""
        order_id: str | None = None
        if self.get_order(reference) is not None:
            order_id = reference
        elif (found := self.get_return(reference)) is not None:
            order_id = found.order_id
        return self._audit.record(AuditEntryIn(kind=AuditKind.MESSAGE_EVENT, subject=key[-200:], actor=actor,
                                               order_id=order_id, detail=detail))

    def message_record(self, key: str, channel: str) -> MessageRecord | None:
        return self._messages.get(key, channel)

    def uncertain_message_resends(self) -> int:
        return self._messages.uncertain_total()

    # audit trail and kept versions

    def record_audit(self, entry: AuditEntryIn) -> AuditEntry:
        """Append a change to the audit trail, stamped now."""
        return self._audit.record(entry)

    def audit_entries(
        self, wanted: AuditFilter, *, before_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """Audit entries matching `wanted`, newest first, with ids below `before_id` when given."""
        return self._audit.find(wanted, before_id=before_id, limit=limit)

    def cost_model_versions(self, *, limit: int = 100) -> list[DocumentVersion]:
        """The kept versions of the cost model, newest first."""
        return self._sourcing.history(COST_MODEL, limit=limit)

    def cost_model_at(self, version: int) -> CostModel | None:
        """Version `version` of the cost model, or None if there is no such version."""
        stored = self._sourcing.document_version(COST_MODEL, version)
        return None if stored is None else CostModel.model_validate(stored)

    def rules_versions(self, *, limit: int = 100) -> list[DocumentVersion]:
        """The kept versions of the order rules, newest first."""
        return self._sourcing.history(RULES, limit=limit)

    def rules_at(self, version: int) -> RuleSet | None:
        """Version `version` of the order rules, or None if there is no such version."""
        stored = self._sourcing.document_version(RULES, version)
        return None if stored is None else RuleSet.model_validate(stored)

    def order_movements(self, order_id: str) -> list[Movement]:
        """The ledger movements of the order's reservations (reserve, commit, release, short pick), oldest first."""
        with self._database.read() as connection:
            return ledger.for_order(connection, order_id)

    # events for the retailer's systems (store.events: the outbox; store.subscriptions: who gets what)

    def record_refund(self, refund_id: str, order_id: str, amount: int, currency: str, *,
                      rma: str | None = None) -> str | None:
        """Report `refund.issued` for the refund `refund_id` (a payment refund's id): once per id, however often
        called. The event id, or None when it was already reported."""
        with self._database.write() as connection:
            return events.refund_issued(connection, self._database, refund_id, order_id, amount, currency, rma=rma)

    def events(self, *, subject: str | None = None, order_id: str | None = None) -> list[Event]:
        """Outbox rows, oldest first (of one subject or order when asked)."""
        with self._database.read() as connection:
            return events.read(connection, subject=subject, order_id=order_id)

    def collect_inventory_changes(self, *, limit: int = 5000) -> int:
        """Append one `inventory.changed` per position the ledger moved since the last call; how many."""
        with self._database.write() as connection:
            return events.inventory_changes(connection, self._database, limit=limit)

    def create_subscription(self, subscription_id: str, url: str, event_types: list[EventType],
                            description: str | None, secret_sealed: str) -> Subscription:
        return self._subscriptions.create(subscription_id, url, event_types, description, secret_sealed)

    def get_subscription(self, subscription_id: str) -> Subscription | None:
        return self._subscriptions.get(subscription_id)

    def subscription_secret_sealed(self, subscription_id: str) -> str | None:
        return self._subscriptions.sealed_secret(subscription_id)

    def list_subscriptions(self) -> list[Subscription]:
        return self._subscriptions.list_all()

    def update_subscription(self, subscription_id: str, changes: dict[str, object]) -> Subscription | None:
        return self._subscriptions.update(subscription_id, changes)

    def disable_subscription(self, subscription_id: str, reason: str) -> None:
        self._subscriptions.disable(subscription_id, reason)

    def delete_subscription(self, subscription_id: str) -> bool:
        return self._subscriptions.delete(subscription_id)

    def fan_out_events(self, *, limit: int = 200) -> tuple[int, int]:
        """(events dispatched, deliveries recorded) for up to `limit` undispatched events, in one transaction."""
        return self._subscriptions.fan_out(limit=limit)

    def pending_deliveries(self, *, limit: int = 200) -> list[str]:
        return self._subscriptions.pending_deliveries(limit=limit)

    def set_delivery_state(self, delivery_id: str, state: DeliveryState, *,
                           only_from: DeliveryState | None = None) -> None:
        self._subscriptions.set_state(delivery_id, state, only_from=only_from)

    def delivery_context(self, delivery_id: str) -> tuple[Delivery, Subscription, Event] | None:
        return self._subscriptions.delivery_context(delivery_id)

    def record_delivery_attempt(self, delivery_id: str, attempt: DeliveryAttempt) -> None:
        self._subscriptions.record_attempt(delivery_id, attempt)

    def deliveries(self, subscription_id: str, *, before: int | None = None, limit: int = 50) -> DeliveryPage:
        """The subscription's log, newest first."""
        return self._subscriptions.deliveries(subscription_id, before=before, limit=limit)

    def get_delivery(self, subscription_id: str, delivery_id: str) -> Delivery | None:
        return self._subscriptions.delivery(subscription_id, delivery_id)

    def replay_delivery(self, subscription_id: str, delivery_id: str, new_delivery_id: str) -> Delivery | None:
        """A new pending delivery of the same event (same webhook-id); None if not the subscription's."""
        return self._subscriptions.replay(subscription_id, delivery_id, new_delivery_id)
