"""Inventory positions, availability and reservations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]


class InventoryPosition(BaseModel):
    """Stock of one SKU at one node. ATP = on_hand - reserved - safety_stock, never below zero."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    sku: Sku
    on_hand: int = Field(ge=0)
    reserved: int = Field(ge=0)
    safety_stock: int = Field(default=0, ge=0)
    updated_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def atp(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


class NodeAvailability(BaseModel):
    node_id: str
    atp: int
    on_hand: int
    reserved: int
    safety_stock: int


class Availability(BaseModel):
    sku: Sku
    total_atp: int
    nodes: list[NodeAvailability]


class MovementKind(StrEnum):
    COUNT = "count"
    ADJUSTMENT = "adjustment"
    RECEIPT = "receipt"
    RESERVE = "reserve"
    RELEASE = "release"
    COMMIT = "commit"
    RETURN_RESTOCK = "return_restock"
    TRANSFER = "transfer"
    SHORT_PICK = "short_pick"


class ReservationState(StrEnum):
    ACTIVE = "active"
    COMMITTED = "committed"
    RELEASED = "released"


class ReservationItem(BaseModel):
    """One conditional write: reserve `quantity` of `sku` at `node_id`, idempotent by `key`."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, max_length=200)
    node_id: str
    sku: Sku
    quantity: int = Field(gt=0)


class Shortfall(BaseModel):
    node_id: str
    sku: Sku
    requested: int
    available: int


class ReserveResult(BaseModel):
    """All items reserved (ok) or none of them (the shortfalls say where stock was missing)."""

    ok: bool
    shortfalls: list[Shortfall] = Field(default_factory=list)
