"""When a parcel leaves a node and when it arrives: cut-offs, time zones, ship days, transit days.

Pure: the caller passes `now` (timezone-aware; in a workflow, `workflow.now()`). Carrier and node
holidays are not modelled.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from models.costs import CarrierService, NodeCosts

SATURDAY, SUNDAY = 5, 6


def ship_date(costs: NodeCosts, now: datetime) -> date:
    """The day a node ships an order received at `now`.

    Read in the node's time zone, an order at or after the cut-off counts as received the next
    day. It ships on the first ship weekday on or after that day, then `processing_days` further
    ship weekdays later.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(costs.zone_info)
    day = local.date()
    if local.time() >= costs.cutoff_time:
        day += timedelta(days=1)
    day = _next_ship_day(day, costs.ship_weekdays)
    for _ in range(costs.processing_days):
        day = _next_ship_day(day + timedelta(days=1), costs.ship_weekdays)
    return day


def next_cutoff(costs: NodeCosts, now: datetime) -> datetime:
    """The first cut-off at the node at or after `now` (the node's clock, any weekday), as an instant."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(costs.zone_info)
    cutoff = datetime.combine(local.date(), costs.cutoff_time, tzinfo=costs.zone_info)
    if local >= cutoff:
        cutoff = datetime.combine(local.date() + timedelta(days=1), costs.cutoff_time, tzinfo=costs.zone_info)
    return cutoff


def delivery_date(shipped: date, transit_days: int, delivers_saturday: bool) -> date:
    """`transit_days` carrier business days after `shipped`: Monday to Friday, and Saturday if the
    service delivers on Saturdays; never Sunday. Zero transit days delivers the day it ships."""
    day = shipped
    remaining = transit_days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() == SUNDAY or (day.weekday() == SATURDAY and not delivers_saturday):
            continue
        remaining -= 1
    return day


def ship_and_delivery(costs: NodeCosts, service: CarrierService, zone: int, now: datetime) -> tuple[date, date]:
    """Ship date at the node and delivery date by `service` to a chart `zone` it serves."""
    column = service.served_zone(zone)
    if column is None:
        raise ValueError(f"{service.name} does not serve zone {zone}")
    shipped = ship_date(costs, now)
    return shipped, delivery_date(shipped, service.transit_days[column], service.delivers_saturday)


def _next_ship_day(day: date, weekdays: tuple[int, ...]) -> date:
    while day.weekday() not in weekdays:
        day += timedelta(days=1)
    return day
