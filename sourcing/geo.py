"""Where things are: US postal codes to points (from the `zipcodes` package's bundled data), distances."""

from __future__ import annotations

import math
from functools import lru_cache

import zipcodes
from pydantic import BaseModel

from models.address import Address, GeoPoint, Located
from models.network import Node

EARTH_RADIUS_KM = 6371.0088


class PostalPlace(BaseModel):
    postal_code: str
    city: str
    region: str
    point: GeoPoint


@lru_cache(maxsize=65536)
def lookup_postal_code(postal_code: str) -> PostalPlace | None:
    """The US ZIP code's city, state and centre, or None if it does not exist."""
    code = postal_code.strip()[:5]
    if len(code) != 5 or not code.isdigit():
        return None
    matches = zipcodes.matching(code)  # type: ignore[no-untyped-call]
    if not matches:
        return None
    row = matches[0]
    return PostalPlace(
        postal_code=code,
        city=row["city"].title(),
        region=row["state"],
        point=GeoPoint(latitude=float(row["lat"]), longitude=float(row["long"])),
    )


def locate(place: Located) -> GeoPoint | None:
    """An address's or a node's point: its coordinates, else its US ZIP code's centre."""
    if place.point is not None:
        return place.point
    country = getattr(place, "country", "US")
    if place.postal_code and country == "US":
        found = lookup_postal_code(place.postal_code)
        return found.point if found else None
    return None


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def node_address(node: Node) -> Address:
    """A shippable address for a node, filling city/state from its ZIP where the node omits them."""
    place = lookup_postal_code(node.postal_code) if node.postal_code else None
    return Address(
        name=node.name,
        line1=node.line1 or f"{node.name} dock",
        city=node.city or (place.city if place else "Unknown"),
        region=node.region or (place.region if place else ""),
        postal_code=node.postal_code,
        country=node.country,
        latitude=node.latitude,
        longitude=node.longitude,
    )
