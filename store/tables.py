"""The app DB's tables (SQLAlchemy Core). The migrations in store/migrations/versions create exactly these.

Nested pydantic parts (customer, address, lines, capabilities) live in JSON columns. Timestamps are
timezone-aware UTC in and out; SQLite stores them naive, so they are normalised on the way back.
Reservations carry no foreign key on purpose: the reservation row is inserted first (that insert
is the idempotency check) and a reservation at an unknown position becomes a shortfall, not an
integrity error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that is stored as UTC and always read back timezone-aware.

    A naive datetime handed in is taken to be UTC already.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        # SQLite has no timezone type: store naive UTC so that text order is time order.
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id(name: str, **kwargs: Any) -> sa.Column[str]:
    return sa.Column(name, sa.String(200), **kwargs)


nodes = sa.Table(
    "nodes",
    metadata,
    sa.Column("node_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("line1", sa.String(200)),
    sa.Column("city", sa.String(100)),
    sa.Column("region", sa.String(100)),
    sa.Column("postal_code", sa.String(20)),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("latitude", sa.Float),
    sa.Column("longitude", sa.Float),
    sa.Column("capabilities", sa.JSON, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # hand_off, sla, daily_capacity, provider (0010): what the node's kind needs, as models.network.Node has it
    sa.Column("config", sa.JSON),
)

inventory_positions = sa.Table(
    "inventory_positions",
    metadata,
    sa.Column("node_id", sa.String(64), sa.ForeignKey("nodes.node_id"), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("on_hand", sa.Integer, nullable=False),
    sa.Column("reserved", sa.Integer, nullable=False),
    sa.Column("safety_stock", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # False: the position has no safety stock of its own and takes the default for its node (0002).
    sa.Column("safety_stock_explicit", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    sa.CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),
    sa.Index(None, "sku"),
)

reservations = sa.Table(
    "reservations",
    metadata,
    _id("key", primary_key=True),
    _id("order_id", nullable=False),
    sa.Column("node_id", sa.String(64), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("expires_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.Index(None, "order_id"),
    sa.Index(None, "state", "expires_at"),
    # A channel's open reservations at a position count against its allocation share (0009).
    sa.Index(None, "sku", "node_id", "state"),
)

inventory_ledger = sa.Table(
    "inventory_ledger",
    metadata,
    sa.Column("movement_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("node_id", sa.String(64), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("on_hand_delta", sa.Integer, nullable=False),
    sa.Column("reserved_delta", sa.Integer, nullable=False),
    _id("key"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # When the sender observed the movement (a feed's as_of), if it said so (0002).
    sa.Column("as_of", UTCDateTime),
    # Who made the movement (models.audit.Actor's tag: a key, a workflow, or "system") (0008).
    sa.Column("actor", sa.String(200), nullable=False, server_default="system"),
    sa.ForeignKeyConstraint(["node_id", "sku"], ["inventory_positions.node_id", "inventory_positions.sku"]),
    sa.Index(None, "node_id", "sku"),
    # One movement of a kind per key: a restock key restocks once, a reservation commits once.
    sa.UniqueConstraint("kind", "key"),
)

# Safety stock for positions without their own: scope "node" (target a node id) or "kind" (a node kind).
safety_stock_defaults = sa.Table(
    "safety_stock_defaults",
    metadata,
    sa.Column("scope", sa.String(8), primary_key=True),
    sa.Column("target", sa.String(64), primary_key=True),
    sa.Column("safety_stock", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),
)

# One allocation rule per channel (models.allocation.ChannelAllocation as JSON).
channel_allocations = sa.Table(
    "channel_allocations",
    metadata,
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("rule", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

sku_catalog = sa.Table(
    "sku_catalog",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("weight_lb", sa.Float, nullable=False),
    sa.Column("length_in", sa.Float, nullable=False),
    sa.Column("width_in", sa.Float, nullable=False),
    sa.Column("height_in", sa.Float, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Whole sourcing documents (the cost model, the rule set), each replaced as a whole and versioned so
# that a worker can tell cheaply whether its cached copy is current.
sourcing_documents = sa.Table(
    "sourcing_documents",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

orders = sa.Table(
    "orders",
    metadata,
    _id("order_id", primary_key=True),
    _id("workflow_id", nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    _id("channel_order_id", nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("customer", sa.JSON, nullable=False),
    sa.Column("ship_to", sa.JSON, nullable=False),
    sa.Column("lines", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # The sourcing decision (plan costs, runners-up, rules fired), recorded once planned.
    sa.Column("decision", sa.JSON),
    # Release waves: the order's shipments wait until then for a wave to re-plan them.
    sa.Column("release_at", UTCDateTime),
    # SKUs of units waiting for stock under the backorder policy (empty: none), for the backorder sweep.
    sa.Column("backordered_skus", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("has_backorders", sa.Boolean, nullable=False, server_default=sa.false()),
    # Why the order is held (models.order.HoldReason), null when it is not, 0014.
    sa.Column("hold_reason", sa.String(16)),
    # The customer's e-mail as searched (models.order_search.normalise_email), 0007.
    sa.Column("customer_email", sa.String(254), nullable=False),
    sa.Index(None, "release_at"),
    # Searches run newest first by (created_at, order_id): each filter on this table has an index
    # ending in those two, so a page is one index range read in order (0007).
    sa.Index(None, "created_at", "order_id"),
    sa.Index(None, "channel", "created_at", "order_id"),
    sa.Index(None, "status", "created_at", "order_id"),
    sa.Index(None, "customer_email", "created_at", "order_id"),
    sa.Index(None, "has_backorders", "created_at", "order_id"),
    sa.Index(None, "hold_reason", "created_at", "order_id"),
)

# Search keys kept beside the orders (0007): an order's SKUs, written when it is recorded, and the nodes
# it has shipments at, written when a shipment is. Each row copies the order's created_at, so a search by
# SKU or node reads its page from one index, newest first, before it joins the orders.
order_skus = sa.Table(
    "order_skus",
    metadata,
    _id("order_id", primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "sku", "created_at", "order_id"),
)

order_nodes = sa.Table(
    "order_nodes",
    metadata,
    _id("order_id", primary_key=True),
    sa.Column("node_id", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "node_id", "created_at", "order_id"),
)

shipments = sa.Table(
    "shipments",
    metadata,
    _id("shipment_id", primary_key=True),
    _id("order_id", nullable=False),
    sa.Column("node_id", sa.String(64), nullable=False),
    sa.Column("lines", sa.JSON, nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("carrier", sa.String(64)),
    sa.Column("service", sa.String(64)),
    _id("tracking_number"),
    _id("carrier_shipment_id"),
    sa.Column("label_cost", sa.BigInteger),
    sa.Column("currency", sa.String(3)),
    sa.Column("shipped_at", UTCDateTime),
    sa.Column("delivered_at", UTCDateTime),
    # 0010: the label a node prints, the carrier's last exception, collected at the node, asked to cancel
    sa.Column("label_url", sa.String(2000)),
    sa.Column("label_format", sa.String(16)),
    sa.Column("exception", sa.String(32)),
    sa.Column("pickup", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index(None, "order_id"),
    sa.Index(None, "tracking_number"),
    sa.Index("ix_shipments_node_id_state", "node_id", "state"),
)

returns = sa.Table(
    "returns",
    metadata,
    sa.Column("rma", sa.String(64), primary_key=True),
    _id("order_id", nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("lines", sa.JSON, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("return_node_id", sa.String(64)),
    _id("tracking_number"),
    sa.Column("refund_amount", sa.BigInteger),
    sa.Column("currency", sa.String(3)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("received_at", UTCDateTime),
    sa.Index(None, "order_id"),
)

# API keys (models.keys): the secret is kept only as its SHA-256 hash (0005).
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("channels", sa.JSON, nullable=False),
    sa.Column("nodes", sa.JSON, nullable=False),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
    sa.Column("revoked_at", UTCDateTime),
)

# Messages to customers, per recipient (a SHA-256 of the address, never the address) and kind: how many
# went out in the current window, which opens with the first message after the last one closed; and how
# many were held back over the limit, ever, and when last. One conditional UPDATE admits a message, so
# workers sharing the DB never admit more than the limit between them (store/notification_limits.py).
notification_limits = sa.Table(
    "notification_limits",
    metadata,
    sa.Column("recipient", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("window_start", UTCDateTime, nullable=False),
    sa.Column("window_sent", sa.Integer, nullable=False),
    sa.Column("suppressed_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_suppressed_at", UTCDateTime),
    sa.CheckConstraint("window_sent >= 0", name="window_sent_not_negative"),
)

# Each customer message by its key and channel (email, sms): recorded `sending` before the provider is called,
# `sent` with the provider's id after, so a retried or rerun notify sends it once (store/message_ledger.py, 0012);
# a failed one is sent again later by the message retry sweep, or `abandoned` (0019).
notification_messages = sa.Table(
    "notification_messages",
    metadata,
    sa.Column("message_key", sa.String(200), primary_key=True),
    sa.Column("channel", sa.String(8), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("recipient", sa.String(64), nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("provider_message_id", sa.String(100)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("uncertain_resends", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # The message itself (a Notification as JSON), to send it again, and when it may next be tried: a failed
    # one after its backoff, one left `sending` once its attempt's lease is over (0019).
    sa.Column("notification", sa.Text),
    sa.Column("next_attempt_at", UTCDateTime, index=True),
    sa.CheckConstraint("state IN ('sending', 'sent', 'failed', 'rejected', 'suppressed', 'abandoned')",
                       name="known_state"),
)

# The audit trail (models.audit): every change made through the gateway, with its actor (0008).
# Listed newest first by id, filtered by actor, kind, subject, order and time.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor_role", sa.String(16), nullable=False),
    sa.Column("actor_id", sa.String(200)),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    _id("order_id"),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Index(None, "at"),
    sa.Index(None, "actor_id", "id"),
    sa.Index(None, "kind", "id"),
    sa.Index(None, "subject", "id"),
    sa.Index(None, "order_id", "id"),
)

# Every version of the cost model and the rule set ever stored, with who stored it (0008);
# sourcing_documents keeps serving the current one.
sourcing_document_versions = sa.Table(
    "sourcing_document_versions",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("actor_role", sa.String(16), nullable=False),
    sa.Column("actor_id", sa.String(200)),
)

# A store's accepted shipments per local day, held to its daily_capacity (0011): one counter row per
# store and day (a conditional UPDATE claims a slot), and the shipments that hold one (a repeat is a no-op).
store_day_capacity = sa.Table(
    "store_day_capacity",
    metadata,
    sa.Column("node_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("accepted", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("accepted >= 0", name="accepted_not_negative"),
)

store_accepts = sa.Table(
    "store_accepts",
    metadata,
    sa.Column("shipment_id", sa.String(200), primary_key=True),
    sa.Column("node_id", sa.String(64), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
)

# Webhook deliveries already handled, by sender and delivery id, until they expire (0012): a sender's
# retry of a delivery it thinks failed is acknowledged and not applied twice (store/webhook_deliveries.py).
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("source", sa.String(32), primary_key=True),
    sa.Column("delivery_id", sa.String(200), primary_key=True),
    sa.Column("handled_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Index(None, "expires_at"),
)

# Events for the retailer's systems (store/events.py, 0016). The outbox: one row per state change reported,
# written in the transaction of the change; `event_id` is deterministic, so a retried write adds nothing.
# The dispatcher fans undispatched rows out to the subscriptions and stamps `dispatched_at`.
event_outbox = sa.Table(
    "event_outbox",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    _id("subject", nullable=False),
    _id("order_id"),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("dispatched_at", UTCDateTime),
    sa.UniqueConstraint("event_id"),
    sa.Index(None, "subject", "type"),
    sa.Index(None, "dispatched_at", "seq"),
)

# Subscriptions: the signing secret is kept sealed (AES-GCM under the codec keys), never in clear.
event_subscriptions = sa.Table(
    "event_subscriptions",
    metadata,
    sa.Column("subscription_id", sa.String(40), primary_key=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("event_types", sa.JSON, nullable=False),
    sa.Column("description", sa.String(200)),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("disabled_reason", sa.String(200)),
    sa.Column("secret_sealed", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# One event to one subscription (a replay is a delivery of its own), and each of its attempts.
event_deliveries = sa.Table(
    "event_deliveries",
    metadata,
    # The log reads newest first by seq.
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(40), nullable=False),
    sa.Column("subscription_id", sa.String(40), nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("event_type", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("replay_of", sa.String(40)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("delivery_id"),
    sa.Index(None, "subscription_id", "seq"),
    sa.Index(None, "state"),
)

event_delivery_attempts = sa.Table(
    "event_delivery_attempts",
    metadata,
    sa.Column("delivery_id", sa.String(40), primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("attempted_at", UTCDateTime, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("error", sa.String(500)),
    sa.Column("duration_ms", sa.Integer, nullable=False),
)

# Where a reader of a change feed stands (inventory.changed reads the inventory ledger from here).
event_cursors = sa.Table(
    "event_cursors",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# What has been written back to a sales channel (0017): a shipment's fulfillment or an order's cancel,
# once per (channel, kind, subject), so that the write-back driver writes each once (store/channel_writebacks.py).
channel_writebacks = sa.Table(
    "channel_writebacks",
    metadata,
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("subject", sa.String(200), primary_key=True),
    sa.Column("order_id", sa.String(200), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("external_id", sa.String(200)),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("written_at", UTCDateTime, nullable=False),
    sa.Index(None, "order_id"),
)
