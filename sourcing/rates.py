"""Which carrier rate a shipment's label is bought at. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from models.costs import ServiceLevel

# Latest acceptable transit time per service level; the cheapest rate within it wins.
MAX_TRANSIT_DAYS = {ServiceLevel.STANDARD: 5, ServiceLevel.TWO_DAY: 2, ServiceLevel.NEXT_DAY: 1}


class RateOffer(Protocol):
    """A carrier's quote for one service, whatever the provider's type (e.g. an EasyPostRate)."""

    @property
    def carrier(self) -> str: ...

    @property
    def service(self) -> str: ...

    @property
    def rate_minor(self) -> int: ...

    @property
    def delivery_days(self) -> int | None: ...


Rate = TypeVar("Rate", bound=RateOffer)


def choose_rate(
    rates: Sequence[Rate], level: ServiceLevel, *, preferred: tuple[str, str | None] | None = None
) -> Rate | None:
    """The rate of the carrier service sourcing priced (`preferred`: carrier, and service or None for
    any) when the carrier offers it; else the cheapest within the level's transit days; if none is
    fast enough, the fastest (then cheapest). None when there are no rates. Ties go to the name."""
    if not rates:
        return None
    if preferred is not None:
        carrier, service = preferred
        match = [r for r in rates if r.carrier.upper() == carrier.upper() and (service is None or r.service == service)]
        if match:
            return min(match, key=lambda r: (r.rate_minor, r.service))
    limit = MAX_TRANSIT_DAYS[level]
    in_time = [r for r in rates if r.delivery_days is not None and r.delivery_days <= limit]
    if in_time:
        return min(in_time, key=lambda r: (r.rate_minor, r.delivery_days or 0, r.carrier, r.service))
    return min(rates, key=lambda r: (r.delivery_days or 99, r.rate_minor, r.carrier, r.service))
