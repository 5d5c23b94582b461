"""Safety-stock defaults, channel allocation rules, batch availability and batch inventory feeds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from math import floor
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from models.inventory import Sku
from models.limits import UnitDelta, Units
from models.network import NodeId, NodeKind
from models.order import ChannelName
from models.text import PlainText

MAX_BATCH_SKUS = 1000
MAX_BATCH_ITEMS = 1000


class SafetyStockDefaults(BaseModel):
    """Units held back from ATP at positions with no safety stock of their own.

    Precedence: a position's own safety stock, else `by_node[node_id]`, else `by_kind[node kind]`, else 0.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    by_kind: dict[NodeKind, Units] = Field(default_factory=dict)
    by_node: dict[NodeId, Units] = Field(default_factory=dict, max_length=10_000)


class ChannelAllocation(BaseModel):
    """What share of the network's ATP one channel may promise.

    Per visible node: channel ATP = max(0, floor(ATP * percent / 100) - buffer), less what the channel's
    own open reservations already hold there (`allowance`). A node is visible when it passes the `only_*`
    lists (if any is given, the node must match one of them) and is named by no `hidden_*` list. Channel
    ATP therefore never exceeds network ATP and is never negative. Reservations are held to it as well.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    percent: float = Field(default=100, ge=0, le=100, description="share of each node's ATP, 0-100")
    buffer: Units = Field(default=0, description="units held back at each node after the percentage")
    only_node_kinds: list[NodeKind] | None = Field(default=None, description="if set, only these kinds are seen")
    only_nodes: list[NodeId] | None = Field(default=None, description="if set, only these nodes are seen")
    hidden_node_kinds: list[NodeKind] = Field(default_factory=list)
    hidden_nodes: list[NodeId] = Field(default_factory=list)

    @model_validator(mode="after")
    def _percent_has_at_most_two_decimals(self) -> ChannelAllocation:
        if round(self.percent, 2) != self.percent:
            raise ValueError("percent takes at most two decimals")
        return self

    def shows(self, node_id: str, kind: NodeKind) -> bool:
        """Whether the channel sees the node at all (a node it does not see, it may not reserve at)."""
        restricted = self.only_nodes is not None or self.only_node_kinds is not None
        allowed = node_id in (self.only_nodes or []) or kind in (self.only_node_kinds or [])
        hidden = node_id in self.hidden_nodes or kind in self.hidden_node_kinds
        return (allowed or not restricted) and not hidden

    def allowance(self, network_atp: int, own_reserved: int = 0) -> int:
        """What the channel may still reserve at one node it sees, whose ATP is `network_atp` and where
        the channel's own open (active) reservations take `own_reserved` units.

        The share is of the node's stock before the channel's own reservations took from it, and those
        reservations count against it: max(0, floor((ATP + own) * percent / 100) - buffer - own). With
        nothing reserved that is what the channel is shown; and reserving never makes the share grow
        back, so a channel cannot reach past it by reserving a little at a time. Exact (percent has at
        most two decimals), never below 0, and never more than the node's ATP (the share is at most
        ATP + own).
        """
        pool = max(0, network_atp + own_reserved)
        share = floor(pool * Fraction(str(self.percent)) / 100)
        return max(0, share - self.buffer - own_reserved)


class ChannelNodeAvailability(BaseModel):
    """One node's stock of a SKU as a channel sees it: `atp` is the channel's, `network_atp` the node's."""

    node_id: str
    kind: NodeKind
    atp: int
    network_atp: int
    on_hand: int
    reserved: int
    safety_stock: int


class ChannelAvailability(BaseModel):
    """ATP of one SKU per node and in total, for one channel (or the whole network when `channel` is None).

    Nodes hidden from the channel are left out of `nodes`; `explanation` says which rule did what.
    """

    sku: Sku
    channel: str | None = None
    total_atp: int
    network_atp: int
    nodes: list[ChannelNodeAvailability]
    explanation: list[str]


class AvailabilityBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skus: list[Sku] = Field(min_length=1, max_length=MAX_BATCH_SKUS, description=f"1 to {MAX_BATCH_SKUS} SKUs")
    channel: ChannelName | None = None


class AvailabilityBatch(BaseModel):
    """One answer per requested SKU, in request order (duplicates answered once)."""

    channel: str | None = None
    items: list[ChannelAvailability]


class FeedKind(StrEnum):
    COUNT = "count"
    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"


class InventoryFeedItem(BaseModel):
    """One absolute count (`on_hand`) or one delta (`delta` with kind receipt or adjustment).

    A count with `as_of` older than the position's last on-hand movement is refused, never applied.
    """

    model_config = ConfigDict(extra="forbid")

    node_id: NodeId
    sku: Sku
    on_hand: Units | None = Field(default=None, description="absolute count")
    delta: UnitDelta | None = Field(default=None, description="units in (+) or out (-); never 0")
    kind: FeedKind | None = Field(default=None, description="count for on_hand; receipt or adjustment for delta")
    source: Annotated[PlainText, Field(min_length=1, max_length=100)]
    reason: PlainText | None = Field(default=None, max_length=200)
    as_of: AwareDatetime | None = Field(default=None, description="when the sender observed it")
    key: Annotated[PlainText, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="the sender's idempotency key: an item whose key was applied is not applied again")

    @model_validator(mode="after")
    def _one_count_or_one_delta(self) -> InventoryFeedItem:
        if (self.on_hand is None) == (self.delta is None):
            raise ValueError("give exactly one of on_hand (a count) or delta")
        if self.on_hand is not None and self.kind not in (None, FeedKind.COUNT):
            raise ValueError("an on_hand count has kind count")
        if self.delta is not None:
            if self.delta == 0:
                raise ValueError("delta must not be 0")
            if self.kind is FeedKind.COUNT:
                raise ValueError("a delta has kind receipt or adjustment")
            if self.kind is FeedKind.RECEIPT and self.delta < 0:
                raise ValueError("a receipt adds units: delta must be positive")
        return self

    @property
    def feed_kind(self) -> FeedKind:
        if self.on_hand is not None:
            return FeedKind.COUNT
        return self.kind or FeedKind.ADJUSTMENT


class InventoryBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[InventoryFeedItem] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


class AppliedFeedItem(BaseModel):
    node_id: str
    sku: str
    kind: FeedKind
    on_hand_delta: int
    on_hand: int
    replayed: bool = Field(default=False, description="its key was applied before: nothing changed now")


class InventoryBatchResult(BaseModel):
    """Every item applied, in request order, in one transaction."""

    applied: list[AppliedFeedItem]


class StaleCount(BaseModel):
    """Why a count was refused: it was observed before the position last moved."""

    index: int
    node_id: str
    sku: str
    as_of: datetime
    last_movement_at: datetime
