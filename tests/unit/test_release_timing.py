"""When an order held for a release wave stops waiting (sourcing.release)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.costs import WaveSettings
from models.plan import FulfillmentPlan, PlannedShipment
from models.shipment import ShipmentLine
from sourcing.release import release_at
from tests.fixtures.sourcing import TUESDAY_10AM_CHICAGO, cost_model, node

# The test cost model's DCs cut off at 14:00 Chicago: 20:00 UTC on Tuesday 4 March 2025.
DC_CUTOFF = datetime(2025, 3, 4, 20, 0, tzinfo=UTC)
PLAN = FulfillmentPlan(shipments=[PlannedShipment(node_id="dc-1", distance_km=10.0,
                                                  lines=[ShipmentLine(line_no=1, sku="TEE", quantity=1)])])
NETWORK = [node("dc-1")]


def waves(hold_minutes: int, before_cutoff_minutes: int = 30) -> WaveSettings:
    return WaveSettings(hold_minutes=hold_minutes, release_before_cutoff_minutes=before_cutoff_minutes)


def test_a_short_hold_ends_after_hold_minutes() -> None:
    model = cost_model(waves=waves(20))

    assert release_at(model, PLAN, NETWORK, TUESDAY_10AM_CHICAGO) == TUESDAY_10AM_CHICAGO + timedelta(minutes=20)


def test_a_long_hold_ends_early_enough_before_the_nodes_cutoff() -> None:
    model = cost_model(waves=waves(300, before_cutoff_minutes=30))

    assert release_at(model, PLAN, NETWORK, TUESDAY_10AM_CHICAGO) == DC_CUTOFF - timedelta(minutes=30)


def test_too_close_to_the_cutoff_the_order_is_released_at_once() -> None:
    model = cost_model(waves=waves(20, before_cutoff_minutes=30))

    assert release_at(model, PLAN, NETWORK, DC_CUTOFF - timedelta(minutes=15)) is None


def test_without_waves_or_without_shipments_nothing_waits() -> None:
    assert release_at(cost_model(), PLAN, NETWORK, TUESDAY_10AM_CHICAGO) is None
    assert release_at(None, PLAN, NETWORK, TUESDAY_10AM_CHICAGO) is None
    assert release_at(cost_model(waves=waves(20)), FulfillmentPlan(), NETWORK, TUESDAY_10AM_CHICAGO) is None
