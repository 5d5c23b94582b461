"""An order's timeline: what happened to it, in time order, and who did each thing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from models.audit import Actor
from models.order import OrderStatus


class TimelineKind(StrEnum):
    """What an event on the timeline is; the order of the members breaks ties at the same instant."""

    INTAKE = "intake"
    RULES = "rules"
    DECISION = "decision"
    RESERVE = "reserve"
    HOLD_RELEASE = "hold_release"
    NODE_EVENT = "node_event"
    COMMIT = "commit"
    WRITE_OFF = "write_off"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCEL = "cancel"
    REROUTE = "reroute"
    RELEASE = "release"
    RETURN = "return"
    MESSAGE = "message"
    CHANGE = "change"


class TimelineEvent(BaseModel):
    at: datetime
    kind: TimelineKind
    summary: str
    actor: Actor = Field(description="the key (role and key id), the workflow, or the system")


class OrderTimeline(BaseModel):
    """The order's events from the app DB and the audit trail, oldest first; and, when its workflow
    answered, its own account (`notes`: in order, but without times)."""

    order_id: str
    status: OrderStatus | None = Field(default=None, description="the workflow's status, else the DB's")
    live_view_read: bool = Field(description="false when the workflow could not be asked (Temporal out of "
                                             "reach): the events come from the DB alone and `notes` is empty")
    events: list[TimelineEvent]
    notes: list[str] = Field(default_factory=list, description="the workflow's own account of the order, "
                             "in order: plans, labels, notifications that failed, work handed back")
