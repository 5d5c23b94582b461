"""Deterministic carrier rates for the EasyPost sandbox: distance → zone → price per service.

The shape follows real rate cards (zone × billable weight × service, dimensional weight for UPS
and FedEx); the numbers are invented but stable, so tests and the demo can reason about them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import zipcodes

_EARTH_RADIUS_MILES = 3958.8
_FALLBACK_MILES = 1000.0
# Upper bound of miles for zones 1..7; anything farther is zone 8 (the USPS zone chart's shape).
_ZONE_LIMITS = (50, 150, 300, 600, 1000, 1400, 1800)
_DIM_DIVISOR = 139  # cubic inches per billable pound (UPS/FedEx daily rates)


@dataclass(frozen=True)
class Service:
    carrier: str
    service: str
    base_cents: int
    per_zone_cents: int
    per_extra_lb_cents: int
    uses_dim_weight: bool
    # delivery days by zone 1..8
    days_by_zone: tuple[int, int, int, int, int, int, int, int]


SERVICES: tuple[Service, ...] = (
    Service("USPS", "GroundAdvantage", 520, 45, 60, False, (2, 2, 3, 3, 4, 4, 5, 5)),
    Service("USPS", "Priority", 845, 72, 110, False, (1, 2, 2, 2, 3, 3, 3, 3)),
    Service("USPS", "Express", 2875, 155, 250, False, (1, 1, 1, 1, 2, 2, 2, 2)),
    Service("UPS", "Ground", 915, 58, 75, True, (1, 2, 2, 3, 3, 4, 4, 5)),
    Service("UPS", "2ndDayAir", 1930, 132, 210, True, (2, 2, 2, 2, 2, 2, 2, 2)),
    Service("UPS", "NextDayAir", 4260, 265, 380, True, (1, 1, 1, 1, 1, 1, 1, 1)),
    Service("FedEx", "FEDEX_GROUND", 890, 57, 74, True, (1, 2, 2, 3, 3, 4, 4, 5)),
    Service("FedEx", "FEDEX_2_DAY", 1880, 136, 205, True, (2, 2, 2, 2, 2, 2, 2, 2)),
    Service("FedEx", "STANDARD_OVERNIGHT", 3950, 272, 370, True, (1, 1, 1, 1, 1, 1, 1, 1)),
)


@dataclass(frozen=True)
class Quote:
    carrier: str
    service: str
    rate: str  # decimal string, as EasyPost sends it
    delivery_days: int


@lru_cache(maxsize=4096)
def zip_point(zip_code: str) -> tuple[float, float] | None:
    """Latitude and longitude of a US ZIP code, or None when unknown."""
    try:
        matches = zipcodes.matching(zip_code.strip())  # type: ignore[no-untyped-call]
    except (TypeError, ValueError):
        return None
    for match in matches:
        try:
            return float(match["lat"]), float(match["long"])
        except (KeyError, TypeError, ValueError):
            continue
    return None


def distance_miles(from_zip: str, to_zip: str) -> float:
    """Great-circle miles between two ZIPs; unknown ZIPs fall back to their national area digit."""
    a, b = zip_point(from_zip), zip_point(to_zip)
    if a is None or b is None:
        first_a, first_b = from_zip.strip()[:1], to_zip.strip()[:1]
        if first_a.isdigit() and first_b.isdigit():
            return 100.0 + 300.0 * abs(int(first_a) - int(first_b))
        return _FALLBACK_MILES
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_MILES * math.asin(math.sqrt(h))


def zone_for(miles: float) -> int:
    return next((zone for zone, limit in enumerate(_ZONE_LIMITS, start=1) if miles <= limit), 8)


def quotes(
    from_zip: str, to_zip: str, *, weight_oz: float, length: float | None = None,
    width: float | None = None, height: float | None = None,
) -> list[Quote]:
    """A quote per service: base + a step per zone + each billable pound past the first."""
    zone = zone_for(distance_miles(from_zip, to_zip))
    actual_lb = max(1, math.ceil(weight_oz / 16))
    dim_lb = 0
    if length and width and height:
        dim_lb = math.ceil(length * width * height / _DIM_DIVISOR)
    result = []
    for service in SERVICES:
        billable_lb = max(actual_lb, dim_lb) if service.uses_dim_weight else actual_lb
        cents = (service.base_cents + service.per_zone_cents * (zone - 1)
                 + service.per_extra_lb_cents * (billable_lb - 1))
        result.append(Quote(service.carrier, service.service, f"{cents // 100}.{cents % 100:02d}",
                            service.days_by_zone[zone - 1]))
    return result
