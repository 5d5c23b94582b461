"""Who changed what: the actor of a change, the audit trail's entries, and the kept versions of the
sourcing documents.

An actor is a gateway key (its role and key id), a workflow (its id) or the system (schedules,
scripts, migrations). In the ledger and other single columns it is written as a tag: `<role>:<id>`
(`node:3f2a...`, `workflow:order-web-1001`) or `system`.

An audit entry's `detail` is small and never holds personal data or secrets: counts, ids, versions,
states; never names, addresses, e-mail, free-text reasons or tokens.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from models.keys import Role

DetailValue = str | int | bool | None | list[str] | list[int]
AuditDetail = dict[str, DetailValue]
Subject = Annotated[str, StringConstraints(max_length=200)]


class ActorRole(StrEnum):
    """A key's role, or who acts without a key."""

    CHANNEL = "channel"
    NODE = "node"
    OPERATOR = "operator"
    ADMIN = "admin"
    WORKFLOW = "workflow"
    SYSTEM = "system"


class Actor(BaseModel):
    """Who made a change: a key (`role` its role, `id` its key id), a workflow (`id` its workflow id)
    or the system (no id)."""

    model_config = ConfigDict(frozen=True)

    role: ActorRole
    id: str | None = Field(default=None, description="the key id, or the workflow id; none for the system")

    @classmethod
    def key(cls, key_id: str, role: Role) -> Actor:
        return cls(role=ActorRole(role.value), id=key_id)

    @classmethod
    def workflow(cls, workflow_id: str) -> Actor:
        return cls(role=ActorRole.WORKFLOW, id=workflow_id)

    @property
    def tag(self) -> str:
        """`<role>:<id>`, or the role alone without an id."""
        return self.role.value if self.id is None else f"{self.role.value}:{self.id}"

    @classmethod
    def from_tag(cls, tag: str) -> Actor:
        """The actor a tag names; a tag this code does not know (rows older than actors) is the system."""
        role, _, ident = tag.partition(":")
        if role not in ActorRole.__members__.values():
            return SYSTEM
        return cls(role=ActorRole(role), id=ident or None)


SYSTEM = Actor(role=ActorRole.SYSTEM)


class AuditKind(StrEnum):
    """What a change was; `<area>.<verb>`."""

    INVENTORY_COUNT = "inventory.count"
    INVENTORY_FEED = "inventory.feed"
    ORDER_INTAKE = "order.intake"
    ORDER_CANCEL = "order.cancel"
    ORDER_RELEASE = "order.release"
    ORDER_REROUTE = "order.reroute"
    SHIPMENT_EVENT = "shipment.event"
    PICKUP_UNLOCK = "shipment.unlock_pickup"
    RETURN_START = "return.start"
    RETURN_EVENT = "return.event"
    NODE_PUT = "node.put"
    ALLOCATION_PUT = "allocation.put"
    ALLOCATION_DELETE = "allocation.delete"
    SAFETY_STOCK_PUT = "safety_stock.put"
    CATALOG_PUT = "catalog.put"
    COST_MODEL_PUT = "cost_model.put"
    RULES_PUT = "rules.put"
    KEY_CREATE = "key.create"
    KEY_REVOKE = "key.revoke"
    CHANNEL_WEBHOOK = "channel.webhook"
    PRIVACY_REQUEST = "privacy.request"
    MESSAGE_EVENT = "message.event"
    SUBSCRIPTION_CREATE = "subscription.create"
    SUBSCRIPTION_UPDATE = "subscription.update"
    SUBSCRIPTION_DELETE = "subscription.delete"
    DELIVERY_REPLAY = "delivery.replay"


class AuditEntryIn(BaseModel):
    """A change to record: what, about which subject (a node, order, shipment, document or key id)."""

    kind: AuditKind
    subject: Subject
    actor: Actor
    order_id: str | None = Field(default=None, description="the order the change concerns, if one")
    detail: AuditDetail = Field(default_factory=dict)


class AuditEntry(AuditEntryIn):
    """A recorded change."""

    id: int
    at: datetime


class AuditFilter(BaseModel):
    """Which entries to list; every given field must match. `since` is inclusive, `until` exclusive."""

    actor_id: str | None = None
    role: ActorRole | None = None
    kind: AuditKind | None = None
    subject: str | None = None
    order_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditPage(BaseModel):
    """Entries newest first; `next_cursor` fetches the older ones (none: this was the last page)."""

    entries: list[AuditEntry]
    next_cursor: str | None = None


class DocumentVersion(BaseModel):
    """One kept version of a sourcing document: when it was stored and by whom."""

    version: int = Field(ge=1)
    created_at: datetime
    actor: Actor
