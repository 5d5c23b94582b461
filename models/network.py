"""Fulfillment nodes: where stock lives and shipments leave from."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from models.address import CountryCode, GeoPoint, Latitude, Longitude

NodeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class NodeKind(StrEnum):
    DC = "dc"
    STORE = "store"
    THREE_PL = "3pl"
    DROPSHIP = "dropship"


class Capability(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"
    RETURNS = "returns"


class Node(BaseModel):
    """A fulfillment node. Located by US postal code or by latitude/longitude."""

    model_config = ConfigDict(frozen=True)

    node_id: NodeId
    name: str = Field(min_length=1, max_length=200)
    kind: NodeKind
    line1: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: CountryCode = "US"
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    capabilities: list[Capability] = Field(default_factory=lambda: [Capability.SHIP, Capability.RETURNS])
    active: bool = True

    @model_validator(mode="after")
    def _locatable(self) -> Node:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude must be given together")
        if self.postal_code is None and self.latitude is None:
            raise ValueError("postal_code or latitude/longitude is required")
        return self

    @property
    def point(self) -> GeoPoint | None:
        if self.latitude is None or self.longitude is None:
            return None
        return GeoPoint(latitude=self.latitude, longitude=self.longitude)

    def can(self, capability: Capability) -> bool:
        return self.active and capability in self.capabilities
