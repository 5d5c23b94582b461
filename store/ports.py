"""The store's ports: one small Protocol per bounded context, each what the activities of that context call.

`store.Store` implements every one of them structurally (the signatures are copied from it), so the
composition root (workers/main.py) passes the one real Store wherever a port is asked for, and a test
passes an in-memory fake of just the port an activity needs (tests/fixtures/fakes.py). Each method
keeps Store's contract: one short transaction, StoreError subclasses for bad requests, database
errors propagating as transient.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

from models.address import Address
from models.allocation import AppliedFeedItem, ChannelAllocation, InventoryFeedItem
from models.audit import Actor, AuditDetail, AuditEntry
from models.catalog import Catalog
from models.channel_writeback import WritebackDone, WritebackTask
from models.costs import CostModel, ShadowPriceSet
from models.inventory import InventoryPosition, ReservationItem, ReserveResult
from models.network import Node, NodeKind
from models.order import HoldReason, OrderLineIn, OrderStatus
from models.plan import SourcingDecision
from models.records import OrderRecord, ReturnRecord, ShipmentRecord
from models.rules import RuleSet
from store.errors import StoreError
from store.feeds import StaleCountError
from store.message_ledger import MessageRecord, MessageState
from store.reservations import ReservationView
from store.sourcing_config import COST_MODEL, RULES, SHADOW_PRICES

# What the activities may name of the store besides the ports: the views and errors the ports'
# methods return and raise (StoreError, the root of every refusal; StaleCountError), and the names
# that `sourcing_versions` keys its documents by.
__all__ = [
    "COST_MODEL", "RULES", "SHADOW_PRICES", "ChannelStock", "InventoryFeeds", "MessageLedger", "MessageRecord",
    "MessageState", "NetworkReader", "NotificationLimits", "OrderQueues", "OrderRecords", "ReservationReader",
    "ReservationView", "SourcingDocuments", "StaleCountError", "StockLedger", "StoreError",
    "MessageRetries",
]


class StockLedger(Protocol):
    """The inventory ledger's atomic operations: positions, and reservations made, swapped, committed,
    released; returned units put back. A reservation never takes more than the allocation rule of its
    order's channel allows (`ChannelAllocation.allowance`), which `channel_allocation` and
    `channel_reserved` let a planner see beforehand."""

    def positions(self, skus: Sequence[str]) -> list[InventoryPosition]: ...

    def channel_allocation(self, channel: str) -> ChannelAllocation | None: ...

    def channel_reserved(self, channel: str, skus: Sequence[str]) -> dict[tuple[str, str], int]: ...

    def reserve(
        self, items: Sequence[ReservationItem], *, order_id: str, expires_at: datetime | None, source: str
    ) -> ReserveResult: ...

    def replace_reservations(
        self, release_keys: Sequence[str], items: Sequence[ReservationItem], *, order_id: str,
        expires_at: datetime | None, source: str, reason: str,
    ) -> ReserveResult: ...

    def commit(self, keys: Sequence[str], *, source: str) -> None: ...

    def release(self, keys: Sequence[str], *, source: str, reason: str) -> None: ...

    def short_pick(self, key: str, short: int, *, source: str, reason: str) -> int: ...

    def restock(
        self, node_id: str, sku: str, quantity: int, *, key: str, source: str, reason: str
    ) -> InventoryPosition: ...


class ReservationReader(Protocol):
    """Reservations as the ledger keeps them: an order's, and those past their expiry."""

    def reservations(self, order_id: str) -> list[ReservationView]: ...

    def expired_reservations(self, now: datetime, *, limit: int = 500) -> list[ReservationView]: ...


class NetworkReader(Protocol):
    """The network's nodes and the SKU catalogue."""

    def get_node(self, node_id: str) -> Node | None: ...

    def list_nodes(self) -> list[Node]: ...

    def catalog(self, skus: Sequence[str] | None = None) -> Catalog: ...

    def store_accepts_on(self, days: Mapping[str, date]) -> dict[str, int]:
        """Shipments each store accepted on its local day (node id -> that date), for its daily capacity."""
        ...


class OrderRecords(Protocol):
    """The order read model: orders, their shipments and returns, and what sourcing decided for them."""

    def record_order(self, order: OrderRecord) -> bool: ...

    def get_order(self, order_id: str) -> OrderRecord | None: ...

    def set_order_status(self, order_id: str, status: OrderStatus, hold_reason: HoldReason | None = None) -> None: ...

    def set_order_backorders(self, order_id: str, skus: list[str]) -> None: ...

    def set_order_decision(self, order_id: str, decision: SourcingDecision) -> None: ...

    def set_order_release_at(self, order_id: str, release_at: datetime | None) -> None: ...

    def record_shipment(self, shipment: ShipmentRecord) -> None: ...

    def shipments_for_order(self, order_id: str) -> list[ShipmentRecord]: ...

    def shipments_planned_since(self, since: datetime) -> dict[str, int]: ...

    def record_return(self, ret: ReturnRecord) -> None: ...

    def returned_quantities(self, order_id: str, *, exclude_rma: str | None = None) -> dict[str, int]: ...


class OrderQueues(Protocol):
    """The read model's work lists for the scheduled workflows: orders waiting for stock or for a wave,
    and the recent demand the look-ahead forecasts from."""

    def orders_with_backorders(self, *, limit: int = 1000) -> list[tuple[str, str, list[str]]]: ...

    def orders_awaiting_release(self, now: datetime, *, limit: int = 500) -> list[OrderRecord]: ...

    def orders_placed_since(self, since: datetime) -> list[tuple[Address, list[OrderLineIn]]]: ...


class SourcingDocuments(Protocol):
    """The versioned documents sourcing decides with: the cost model, the rule set, the look-ahead prices."""

    def sourcing_versions(self) -> dict[str, int]:
        """Version of each stored document, by name (COST_MODEL, RULES, SHADOW_PRICES)."""
        ...

    def cost_model(self) -> tuple[CostModel, int] | None: ...

    def rules(self) -> tuple[RuleSet, int] | None: ...

    def shadow_prices(self) -> tuple[ShadowPriceSet, int] | None: ...

    def set_shadow_prices(self, prices: ShadowPriceSet) -> int: ...


class ChannelStock(Protocol):
    """What channel sync reads: a channel's allocation rule, stock with node kinds, the ledger's change feed."""

    def channel_allocation(self, channel: str) -> ChannelAllocation | None: ...

    def channel_reserved(self, channel: str, skus: Sequence[str]) -> dict[tuple[str, str], int]: ...

    def stock(self, skus: Sequence[str]) -> tuple[list[InventoryPosition], dict[str, NodeKind]]: ...

    def skus_moved_since(self, after: int | None, *, limit: int = 5000) -> tuple[list[str], int]: ...


class InventoryFeeds(Protocol):
    """Counts and deltas from outside (a WMS, a 3PL), applied all or nothing."""

    def apply_inventory_feed(self, items: Sequence[InventoryFeedItem]) -> list[AppliedFeedItem]:
        """All items or none; a count older than its position's last movement raises StaleCountError."""
        ...


class NotificationLimits(Protocol):
    """The count behind the per-recipient message limit, shared by every worker."""

    def admit_notification(self, recipient: str, kind: str, *, now: datetime, window: timedelta,
                           limit: int) -> bool:
        """True: counted, send it. False: `limit` were already admitted in the window; counted suppressed."""
        ...


class MessageLedger(Protocol):
    """Each customer message by its key and channel: recorded before it is sent, marked after, so that a
    retried or rerun notify sends it once; a failed one kept to be sent again later (store.message_ledger)."""

    def begin_message(self, key: str, channel: str, *, kind: str, recipient: str, language: str, now: datetime,
                      notification: str | None = None, lease_until: datetime | None = None) -> MessageRecord | None:
        """None: new, recorded `sending`, send it. Else its row as it stands (sent, failed, left sending...)."""
        ...

    def resend_message(self, key: str, channel: str, *, uncertain: bool, now: datetime,
                       expected_attempts: int | None = None, lease_until: datetime | None = None) -> bool:
        """False: another attempt took the row since it was read with `expected_attempts`."""
        ...

    def finish_message(self, key: str, channel: str, state: MessageState, *, now: datetime,
                       provider_message_id: str | None = None, next_attempt_at: datetime | None = None) -> None: ...

    def postpone_message(self, key: str, channel: str, *, next_attempt_at: datetime) -> None: ...

    def message_record(self, key: str, channel: str) -> MessageRecord | None: ...


class MessageRetries(Protocol):
    """What the message retry sweep reads and writes besides the ledger: the rows due, and what became of a
    message sent later, on its order's timeline (the audit trail's `message.event`)."""

    def messages_due(self, now: datetime, *, limit: int) -> list[MessageRecord]: ...

    def record_message_outcome(self, key: str, *, reference: str, actor: Actor, detail: AuditDetail) -> AuditEntry:
        ...


class ChannelWritebacks(Protocol):
    """What is still to write back to a channel, and the ledger of what was (store.channel_writebacks)."""

    def pending_writebacks(self, channel: str, *, limit: int) -> list[WritebackTask]: ...

    def record_writeback(self, channel: str, order_id: str, done: WritebackDone, *, now: datetime) -> None: ...
