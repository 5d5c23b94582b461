"""What reaches a running order from outside its own code, queued for the order's one runner.

Signals, update requests and the results of carrier calls are not acted on where they arrive: each
becomes an item in the order's inbox, and the workflow's run coroutine takes them one at a time in
arrival order. Only that coroutine ever asks Temporal for a command (local activity, activity,
search-attribute upsert), so the order of commands depends on the order of history events alone and
not on how a replay happens to group local-activity results with them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from models.commands import WavePlan
from models.order import CancelOrder, CancelResult, OrderView, ReleaseHold
from models.shipment import ShipmentEvent
from workflows.order_state import ShipmentRuntime


class CarrierStep(StrEnum):
    RATE = "rate"
    LABEL = "label"


@dataclass
class WarehouseEvent:
    event: ShipmentEvent
    received_at: datetime


@dataclass
class CarrierDone:
    shipment_id: str
    step: CarrierStep
    task: asyncio.Task[Any]


@dataclass
class CancelRequest:
    request: CancelOrder
    answer: asyncio.Future[CancelResult]


@dataclass
class ReleaseRequest:
    request: ReleaseHold
    answer: asyncio.Future[OrderView]


@dataclass
class BackorderRetry:
    """Time to plan the backordered units again (the runner's own timer, not a message)."""


@dataclass
class ReleaseDue:
    """The release-wave hold is over: buy the labels (the runner's own timer)."""


@dataclass
class WaveOffer:
    plan: WavePlan


InboxItem = WarehouseEvent | CarrierDone | CancelRequest | ReleaseRequest | BackorderRetry | ReleaseDue | WaveOffer


@dataclass
class PendingCancel:
    """A cancel being carried out: it is answered once every shipment it cancels whole is cancelled."""

    request: CancelRequest
    line_nos: list[int]
    whole: list[ShipmentRuntime]
    partial: list[ShipmentRuntime] = field(default_factory=list)
