"""Fulfillment nodes: where stock lives and shipments leave from."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from models.address import CountryCode, Located
from models.text import PlainText

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


class Node(Located):
    """A fulfillment node. Located by US postal code or by latitude/longitude."""

    model_config = ConfigDict(frozen=True)

    node_id: NodeId
    name: PlainText = Field(min_length=1, max_length=200)
    kind: NodeKind
    line1: PlainText | None = Field(default=None, max_length=200)
    city: PlainText | None = Field(default=None, max_length=100)
    region: PlainText | None = Field(default=None, max_length=100)
    country: CountryCode = "US"
    capabilities: list[Capability] = Field(default_factory=lambda: [Capability.SHIP, Capability.RETURNS])
    active: bool = True

    def can(self, capability: Capability) -> bool:
        return self.active and capability in self.capabilities
