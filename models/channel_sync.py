"""Channel inventory sync: what a channel's sync workflow is told, carries and reports.

Our (node, SKU) pairs map explicitly to the channel's (location_id, inventory_item_id) pairs; only
mapped nodes and SKUs are pushed. The workflow's and its messages' names are in models/names.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt

from models.inventory import Sku
from models.network import NodeId
from models.order import ChannelName

MAX_CHANGED_SKUS = 1000

ShopifyId = Annotated[int, Field(gt=0, description="the channel's numeric id")]


class ChannelSyncConfig(BaseModel):
    """How one channel's levels are pushed.

    `locations` maps our node ids to the channel's location ids, `items` our SKUs to its inventory
    item ids. Changes are gathered for `debounce_seconds` after the first one, then pushed in batches
    of `batch_size` calls. Every `poll_seconds` the ledger is read as a change feed, so stock that
    moved without a signal reaches the channel too. The run continues as new after `max_loops`
    rounds (or sooner if Temporal suggests it), remembering at most `max_remembered_levels`
    last-pushed values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: ChannelName
    locations: dict[NodeId, ShopifyId] = Field(min_length=1)
    items: dict[Sku, ShopifyId] = Field(min_length=1)
    debounce_seconds: float = Field(default=2.0, ge=0, le=3600)
    poll_seconds: float = Field(default=5.0, gt=0, le=86_400,
                                description="how often the ledger is read for stock that moved without a signal")
    full_sync_on_start: bool = Field(default=True, description="a new sync first sets every listed SKU")
    batch_size: int = Field(default=40, ge=1, le=250)
    max_loops: int = Field(default=500, ge=1)
    max_remembered_levels: int = Field(default=10_000, ge=1)


class SkusChanged(BaseModel):
    """The `inventory_changed` signal: these SKUs' channel ATP may have moved."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    skus: list[Sku] = Field(min_length=1, max_length=MAX_CHANGED_SKUS)


class Level(BaseModel):
    """One available quantity for the channel: our node and SKU, and the channel's ids for them."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    sku: str
    location_id: int
    inventory_item_id: int
    available: NonNegativeInt

    @property
    def key(self) -> str:
        return f"{self.location_id}:{self.inventory_item_id}"


class ChannelLevelsRequest(BaseModel):
    """Compute the channel's levels of `skus` at the mapped `locations` (node id → location id)."""

    channel: str
    skus: list[str]
    locations: dict[str, int]
    items: dict[str, int]


class PushLevels(BaseModel):
    levels: list[Level]


class PushResult(BaseModel):
    pushed: NonNegativeInt


class ChannelSyncRun(BaseModel):
    """The workflow's input, and what it carries across continue-as-new.

    `last_pushed` maps `"location_id:inventory_item_id"` to the last value the channel accepted,
    oldest first (the oldest are forgotten beyond `config.max_remembered_levels`).
    """

    config: ChannelSyncConfig
    pending: list[str] = Field(default_factory=list)
    last_pushed: dict[str, int] = Field(default_factory=dict)
    pushed: NonNegativeInt = 0
    skipped_unchanged: NonNegativeInt = 0
    failed: NonNegativeInt = 0
    last_push_at: datetime | None = None
    run_number: PositiveInt = 1
    ledger_cursor: int | None = Field(default=None, description="the last ledger movement id read")


class MovedSkusRequest(BaseModel):
    after: int | None
    skus: list[str] = Field(description="the SKUs the channel lists; others are dropped")


class MovedSkus(BaseModel):
    skus: list[str]
    cursor: int | None


class ChannelSyncStatus(BaseModel):
    """What the `status` query answers."""

    channel: str
    pending: NonNegativeInt
    pushed: NonNegativeInt
    skipped_unchanged: NonNegativeInt
    failed: NonNegativeInt
    remembered_levels: NonNegativeInt
    last_push_at: datetime | None
    run_number: PositiveInt
    loops_this_run: NonNegativeInt
