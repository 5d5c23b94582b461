"""Fulfillment nodes: where stock lives and shipments leave from, and how each kind is told about them.

A node's kind chooses its fulfilment protocol (DESIGN §3 step 5): a DC's WMS takes released
shipments by signed webhook or pulls them; a 3PL and a dropship vendor are reached through their
provider (a base URL and credentials named by reference: the secret itself lives in settings, never
in the node); a store accepts and picks within its SLA, counted in its business hours.
"""

from __future__ import annotations

from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from models.address import CountryCode, Located
from models.text import PlainText

NodeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
# The name of a secret in settings (OMNIROUTE_PARTNER_SECRETS or a file in the secrets directory).
SecretRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{1,2000}$")]


class NodeKind(StrEnum):
    DC = "dc"
    STORE = "store"
    THREE_PL = "3pl"
    DROPSHIP = "dropship"


class Capability(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"
    CURBSIDE = "curbside"
    RETURNS = "returns"


class HandOffKind(StrEnum):
    WEBHOOK = "webhook"
    PULL = "pull"


class HandOff(BaseModel):
    """How a DC's WMS learns of its released shipments: a Standard Webhooks POST to `url` signed with
    the secret named `secret_ref`, or `pull` (the WMS reads `GET /v1/nodes/{node_id}/shipments`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: HandOffKind
    url: HttpUrl | None = None
    secret_ref: SecretRef | None = Field(default=None, description="the signing secret's name in settings")

    @model_validator(mode="after")
    def _webhook_needs_url_and_secret(self) -> HandOff:
        if self.kind is HandOffKind.WEBHOOK and (self.url is None or self.secret_ref is None):
            raise ValueError("a webhook hand_off needs `url` and `secret_ref`")
        if self.kind is HandOffKind.PULL and self.url is not None:
            raise ValueError("a pull hand_off takes no `url`")
        return self


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class OpeningHours(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    opens: time
    closes: time

    @model_validator(mode="after")
    def _opens_before_closing(self) -> OpeningHours:
        if self.opens >= self.closes:
            raise ValueError("`opens` must be before `closes`")
        return self


class BusinessHours(BaseModel):
    """When a store works, in its own time zone (an IANA name); a day not listed is closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}$", max_length=64)]
    days: dict[Weekday, OpeningHours] = Field(min_length=1)


PICKUP_DAYS_MAX = 60


class NodeSla(BaseModel):
    """How long a node may take: to accept handed-over work, to pick it (a store's minutes count only
    in its business hours), and how long a pickup order waits for its customer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accept_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    pick_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    pickup_days: int | None = Field(default=None, ge=1, le=PICKUP_DAYS_MAX)
    pickup_minutes: int | None = Field(default=None, ge=1, le=PICKUP_DAYS_MAX * 24 * 60, description=(
        "the pickup window in minutes instead of days (demos, tests); not with pickup_days"))
    business_hours: BusinessHours | None = None

    @model_validator(mode="after")
    def _one_pickup_window(self) -> NodeSla:
        if self.pickup_days is not None and self.pickup_minutes is not None:
            raise ValueError("`pickup_minutes` and `pickup_days` both set: give the pickup window in one of them")
        return self

    def pickup_window(self, default_days: int) -> timedelta:
        """How long a ready pickup waits for its customer: pickup_minutes, else pickup_days, else `default_days`."""
        if self.pickup_minutes is not None:
            return timedelta(minutes=self.pickup_minutes)
        return timedelta(days=self.pickup_days or default_days)


class ProviderSettings(BaseModel):
    """Where a 3PL's or dropship vendor's API lives and the credential to use (by reference)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] = Field(
        description="shipbob for a 3PL; omniroute-po for a vendor taking signed purchase orders")
    base_url: HttpUrl | None = Field(default=None, description=(
        "None: the provider's URL from settings (OMNIROUTE_SHIPBOB_BASE_URL for ShipBob)"))
    credentials_ref: SecretRef = Field(description="the API token's or signing secret's name in settings")
    account: PlainText | None = Field(default=None, max_length=100, description="e.g. ShipBob's channel id")
    webhook_secret_ref: SecretRef | None = Field(default=None, description=(
        "the name in settings of the secret the provider signs this node's webhooks with (a ShipBob account "
        "of its own); None: the deployment's (OMNIROUTE_SHIPBOB_WEBHOOK_SECRET_REF)"))


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
    hand_off: HandOff | None = Field(default=None, description="a DC's WMS: webhook or pull (default pull)")
    sla: NodeSla | None = None
    daily_capacity: int | None = Field(default=None, ge=1, le=1_000_000,
                                       description="shipments the node accepts per day (a store: its own day)")
    provider: ProviderSettings | None = Field(default=None, description=(
        "a dropship vendor's API (required) or a 3PL's (default: ShipBob as OMNIROUTE_SHIPBOB_* configure it)"))

    @model_validator(mode="after")
    def _kind_settings(self) -> Node:
        if self.hand_off is not None and self.kind is not NodeKind.DC:
            raise ValueError(f"`hand_off` is for a dc; a {self.kind.value} node is reached otherwise")
        if self.kind is NodeKind.DROPSHIP and self.provider is None:
            raise ValueError("a dropship node needs `provider` (the vendor's base_url and credentials_ref)")
        if self.kind in (NodeKind.DC, NodeKind.STORE) and self.provider is not None:
            raise ValueError(f"`provider` is for a 3pl or dropship node, not a {self.kind.value}")
        if Capability.CURBSIDE in self.capabilities and Capability.PICKUP not in self.capabilities:
            raise ValueError("`curbside` needs the `pickup` capability too")
        if Capability.PICKUP in self.capabilities and self.kind is not NodeKind.STORE:
            raise ValueError("only a store offers `pickup`")
        if self.sla is not None and self.sla.business_hours is not None and self.kind is not NodeKind.STORE:
            raise ValueError("`sla.business_hours` is for a store")
        return self

    def can(self, capability: Capability) -> bool:
        return self.active and capability in self.capabilities
