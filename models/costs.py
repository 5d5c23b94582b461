"""The cost model as data: zones, carrier rate cards, node handling and calendars, and the quotes made from them.

All money is integer cents in `CostModel.currency`, except the literature's `LinearCostModel`, whose
fractional per-mile figure needs floats (still cents). The arithmetic lives in `sourcing.costs`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, NamedTuple, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from models.limits import MAX_COUNT, MAX_MINOR_UNITS, MAX_RATE_CENTS, MAX_UNITS
from models.money import Currency, Money
from models.network import NodeKind
from models.shipment import ShipmentLine

Zone = Annotated[int, Field(ge=1, le=9)]
# What a quote or a plan adds up to (never negative); a configured price is RateCents, bounded so that
# those sums stay far inside 64-bit integers.
Cents = Annotated[int, Field(ge=0)]
RateCents = Annotated[int, Field(ge=0, le=MAX_RATE_CENTS)]
Days = Annotated[int, Field(ge=0, le=30)]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ServiceLevel(StrEnum):
    STANDARD = "standard"
    TWO_DAY = "two_day"
    NEXT_DAY = "next_day"

    def at_least(self, other: ServiceLevel) -> bool:
        """As fast as `other` or faster: next_day keeps a two_day promise, standard does not."""
        return _SPEED[self] >= _SPEED[other]


_SPEED = {ServiceLevel.STANDARD: 0, ServiceLevel.TWO_DAY: 1, ServiceLevel.NEXT_DAY: 2}


class ZoneBand(BaseModel):
    """Distances up to `max_miles` (inclusive) are `zone`; the last band has no upper bound (None)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    max_miles: float | None = Field(gt=0)
    zone: Zone


# USPS National Zone Charts: zones by great-circle distance between the origin's and the
# destination's 3-digit ZIP areas, 1-50, 51-150, 151-300, 301-600, 601-1000, 1001-1400,
# 1401-1800 and 1801+ miles for zones 1 to 8.
DEFAULT_ZONE_CHART: tuple[ZoneBand, ...] = tuple(
    ZoneBand(max_miles=miles, zone=zone)
    for zone, miles in enumerate((50.0, 150.0, 300.0, 600.0, 1000.0, 1400.0, 1800.0, None), start=1)
)


class CarrierService(BaseModel):
    """One carrier service and its rate card: rows by billable pound 1..N, columns by zone, in cents.

    Zones below the card's first column are priced and timed as that column (carriers print
    zones 1 and 2 as one); zones above its last column are not served.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$", description="our id, e.g. ups-ground")
    carrier: str = Field(min_length=1, max_length=40, description="as the label API names it, e.g. UPS")
    service: str = Field(min_length=1, max_length=60, description="the carrier's service code, e.g. Ground")
    level: ServiceLevel
    dim_divisor: int = Field(default=139, gt=0, le=100_000, description="cubic inches per billable pound")
    transit_days: dict[Zone, Days] = Field(min_length=1, description="business days in transit by zone")
    rates: dict[Annotated[int, Field(ge=1, le=MAX_COUNT)], dict[Zone, RateCents]] = Field(min_length=1)
    extra_lb_cents: RateCents = Field(description="per billable pound beyond the card's last row")
    delivers_saturday: bool = False

    @field_validator("transit_days")
    @classmethod
    def _transit_grows_with_zone(cls, value: dict[int, int]) -> dict[int, int]:
        days = [value[zone] for zone in sorted(value)]
        if any(later < earlier for earlier, later in zip(days, days[1:], strict=False)):
            raise ValueError("transit days must not fall as the zone grows")
        return dict(sorted(value.items()))

    @field_validator("rates")
    @classmethod
    def _rate_card_is_complete_and_monotone(
        cls, value: dict[int, dict[int, int]], info: ValidationInfo
    ) -> dict[int, dict[int, int]]:
        weights = sorted(value)
        if weights != list(range(1, len(weights) + 1)):
            raise ValueError(f"rows must be every pound from 1 to {weights[-1]}, got {_ranges(weights)}")
        zones = sorted(info.data.get("transit_days") or {})
        for weight in weights:
            row = value[weight]
            if zones and sorted(row) != zones:
                raise ValueError(f"row {weight} lb has zones {sorted(row)}, transit_days has zones {zones}")
            prices = [row[zone] for zone in sorted(row)]
            if any(b < a for a, b in zip(prices, prices[1:], strict=False)):
                raise ValueError(f"row {weight} lb: price falls as the zone grows")
            if weight > 1:
                below = value[weight - 1]
                falling = [zone for zone in row if zone in below and row[zone] < below[zone]]
                if falling:
                    raise ValueError(f"row {weight} lb is cheaper than row {weight - 1} lb in zone {falling[0]}")
        return {weight: dict(sorted(value[weight].items())) for weight in weights}

    @property
    def max_weight_lb(self) -> int:
        return max(self.rates)

    def served_zone(self, zone: int) -> int | None:
        """The card's column for a chart zone, or None when this service does not serve it."""
        if zone in self.transit_days:
            return zone
        first = min(self.transit_days)
        return first if zone < first else None


class NodeCosts(BaseModel):
    """What a node charges to pick and pack, how much it can ship a day, and when it ships."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    handling_per_order_cents: RateCents = 0
    handling_per_unit_cents: RateCents = 0
    daily_capacity: int | None = Field(
        default=None, ge=0, le=MAX_UNITS, description="shipments per day; None = unlimited"
    )
    cutoff: str = Field(default="14:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, node local")
    # Central time when nothing is said: the middle of the US, where a default is least wrong.
    timezone: str = Field(default="America/Chicago", max_length=64, description="IANA name, e.g. America/New_York")
    processing_days: Days = Field(default=0, description="ship days after the order day; 0 = same day")
    ship_weekdays: tuple[int, ...] = Field(default=(0, 1, 2, 3, 4), description="0=Mon..6=Sun, or mon..sun")
    unit_cost_cents: dict[str, RateCents] = Field(default_factory=dict, max_length=100_000, description=(
        "a dropship vendor's price per unit, by SKU: what its purchase orders pay (sourcing does not price it)"))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("ship_weekdays", mode="before")
    @classmethod
    def _weekdays(cls, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list | tuple | set | frozenset) or not value:
            raise ValueError("give at least one weekday, as 0..6 (Monday = 0) or mon..sun")
        days: set[int] = set()
        for day in value:
            if isinstance(day, str) and day.strip().lower()[:3] in _WEEKDAYS:
                days.add(_WEEKDAYS.index(day.strip().lower()[:3]))
            elif isinstance(day, int) and not isinstance(day, bool) and 0 <= day <= 6:
                days.add(day)
            else:
                raise ValueError(f"{day!r} is not a weekday (0..6, Monday = 0, or mon..sun)")
        return tuple(sorted(days))

    @property
    def cutoff_time(self) -> time:
        hours, minutes = self.cutoff.split(":")
        return time(int(hours), int(minutes))

    @property
    def zone_info(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class LookAheadSettings(BaseModel):
    """Live look-ahead: price each node's stock by what forecast demand will need of it.

    A scheduled run (the `shadow-prices` schedule, every `lookahead_refresh_minutes` of the worker
    settings) forecasts the next `horizon_days` of demand from the last `history_days` of orders,
    solves the transportation LP of current stock against it, and stores the shadow price of each
    (node, SKU). Orders then add `price_weight` times those prices to their unit costs; prices older
    than `max_age_minutes` are not used."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    price_weight: float = Field(default=1.5, ge=0, le=10)
    history_days: float = Field(default=7, gt=0, le=90)
    horizon_days: float = Field(default=2, gt=0, le=30)
    max_age_minutes: int = Field(default=180, ge=1, le=MAX_COUNT)
    region_grid_degrees: float = Field(default=1.0, gt=0, le=10)


class WaveSettings(BaseModel):
    """Release waves: a planned order's shipments wait `hold_minutes` before their labels are bought
    (less when a node's cut-off comes first), and the `release-waves` schedule re-plans the orders
    waiting together (shared stock, merged shipments). Make `hold_minutes` at least the schedule's
    interval so that every order meets a wave."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    hold_minutes: int = Field(default=20, ge=1, le=24 * 60)
    release_before_cutoff_minutes: int = Field(
        default=30, ge=0, le=24 * 60,
        description="a hold ends this long before the earliest cut-off of the order's nodes, so that waiting "
                    "never costs a ship day")
    min_saving_cents: int = Field(
        default=50, ge=0, le=MAX_MINOR_UNITS, description="a wave changes plans only when it saves this much"
    )


class NodeSkuPrice(BaseModel):
    model_config = ConfigDict(frozen=True)

    node_id: str
    sku: str
    cents: float = Field(ge=0)


class ShadowPriceSet(BaseModel):
    """The stored result of one look-ahead run: what a unit at each node is worth to demand to come."""

    computed_at: datetime
    cost_model_version: int | None = None
    orders_seen: int = Field(ge=0, description="orders in the history window the forecast came from")
    forecast_units: float = Field(ge=0, description="units forecast over the horizon")
    regions: int = Field(ge=0)
    solve_ms: float = Field(ge=0)
    prices: list[NodeSkuPrice] = Field(default_factory=list, description="non-zero prices only")

    def in_use(self, settings: LookAheadSettings | None, now: datetime) -> bool:
        """Whether orders plan with these prices at `now`: look-ahead is on and they are not too old."""
        return settings is not None and now - self.computed_at <= timedelta(minutes=settings.max_age_minutes)

    def as_map(self) -> dict[tuple[str, str], float]:
        return {(p.node_id, p.sku): p.cents for p in self.prices}


class CostModel(BaseModel):
    """Everything sourcing prices with. `nodes` overrides `node_defaults[kind]` field by field:
    only the fields an override states replace the kind's default."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    currency: Currency = "USD"
    zone_chart: list[ZoneBand] = Field(default_factory=lambda: list(DEFAULT_ZONE_CHART))
    services: list[CarrierService] = Field(min_length=1)
    node_defaults: dict[NodeKind, NodeCosts] = Field(default_factory=dict)
    nodes: dict[str, NodeCosts] = Field(default_factory=dict)
    split_penalty_cents: RateCents = 0
    store_protect_units: int = Field(
        default=0, ge=0, le=MAX_UNITS, description="a store's last N units of a SKU are protected"
    )
    store_protect_cents: RateCents = Field(default=0, description="per unit taken from a store's protected units")
    unfilled_penalty_cents: RateCents = 100_000
    look_ahead: LookAheadSettings | None = Field(default=None, description="live look-ahead; off when absent")
    waves: WaveSettings | None = Field(default=None, description="release waves; orders release at once when absent")

    @field_validator("zone_chart")
    @classmethod
    def _chart_is_ordered(cls, value: list[ZoneBand]) -> list[ZoneBand]:
        if not value or value[-1].max_miles is not None:
            raise ValueError("the last band must have max_miles null (everything beyond)")
        bounds = [band.max_miles for band in value[:-1]]
        if any(bound is None for bound in bounds):
            raise ValueError("only the last band may have max_miles null")
        miles = [b for b in bounds if b is not None]
        if any(b <= a for a, b in zip(miles, miles[1:], strict=False)):
            raise ValueError("max_miles must increase band by band")
        if any(b.zone < a.zone for a, b in zip(value, value[1:], strict=False)):
            raise ValueError("zones must not fall as the distance grows")
        return value

    @field_validator("services")
    @classmethod
    def _unique_names(cls, value: list[CarrierService]) -> list[CarrierService]:
        names = [service.name for service in value]
        duplicate = next((name for name in names if names.count(name) > 1), None)
        if duplicate is not None:
            raise ValueError(f"service name {duplicate!r} is used twice")
        return value

    def service(self, name: str) -> CarrierService:
        for candidate in self.services:
            if candidate.name == name:
                return candidate
        raise KeyError(f"no carrier service named {name!r}")

    def node_costs(self, node_id: str, kind: NodeKind) -> NodeCosts:
        base = self.node_defaults.get(kind, NodeCosts())
        override = self.nodes.get(node_id)
        if override is None:
            return base
        return base.model_copy(update={field: getattr(override, field) for field in override.model_fields_set})


class LinearCostModel(BaseModel):
    """The linear cost of the multi-item fulfilment literature (Jasin & Sinha, Operations Research 2015):
    a fixed cost per shipment, and per unit a cost plus a cost per haversine mile. Figures are cents;
    the literature's 8.759, 0.423 and 0.000541/mile are read as dollars."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    fixed_per_shipment_cents: float = Field(default=875.9, ge=0)
    per_unit_cents: float = Field(default=42.3, ge=0)
    per_unit_mile_cents: float = Field(default=0.0541, ge=0)
    # $1,000 a unit: far above any shipment's cost, so a unit goes unfilled only when no node has it.
    unfilled_penalty_cents: float = Field(default=100_000.0, ge=0)
    split_penalty_cents: float = Field(default=0.0, ge=0)


class ShipmentQuote(BaseModel):
    """The exact price of one parcel from one node by one service: the parts add up to `total_cents`."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    node_id: str
    lines: list[ShipmentLine] = Field(min_length=1, description="what the parcel holds")
    service: str
    carrier: str
    carrier_service: str
    level: ServiceLevel
    currency: Currency
    miles: float = Field(ge=0)
    zone: Zone
    actual_weight_lb: float = Field(ge=0)
    billable_weight_lb: int = Field(ge=1)
    carrier_cents: Cents
    handling_order_cents: Cents
    handling_units_cents: Cents
    total_cents: Cents
    ship_date: date
    delivery_date: date

    @model_validator(mode="after")
    def _parts_add_up(self) -> Self:
        parts = self.carrier_cents + self.handling_order_cents + self.handling_units_cents
        if parts != self.total_cents:
            raise ValueError(f"total_cents {self.total_cents} is not the sum of its parts ({parts})")
        if self.delivery_date < self.ship_date:
            raise ValueError("delivery_date is before ship_date")
        return self

    @property
    def total(self) -> Money:
        return Money(amount=self.total_cents, currency=self.currency)


class PromiseOption(BaseModel):
    """The earliest delivery a service level can promise for a whole cart, and what shipping it costs us."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    level: ServiceLevel
    service: str = Field(description="the service name; several joined by '+' when a split uses more than one")
    delivery_date: date
    price_cents: Cents = Field(description="carrier + handling of every shipment, before any markup")
    node_ids: list[str]
    shipments: list[ShipmentQuote] = Field(default_factory=list)


class NodeDelivery(NamedTuple):
    node_id: str
    delivery_date: date
    service: str


def _ranges(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers[:5]) + (", ..." if len(numbers) > 5 else "")
