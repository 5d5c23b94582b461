"""Live look-ahead prices: recent orders and ATP in, a shadow price per (node, SKU) out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activities.sourcing import SourcingConfig
from models.costs import LookAheadSettings, NodeSkuPrice, ShadowPriceSet
from sourcing.forecast import Regions, observed_demand, region_of
from sourcing.network_prices import lane_estimates, network_shadow_prices
from tests.fixtures.sourcing import ORIGIN, TUESDAY_10AM_CHICAGO, at_miles, catalog, cost_model, node

NEAR, FAR = at_miles(100), at_miles(2000)
SETTINGS = LookAheadSettings(history_days=7, horizon_days=7)


def test_the_forecast_is_the_regional_mix_times_the_sku_mix_scaled_to_the_orders_ahead() -> None:
    regions = Regions()
    history = [(NEAR, [("A", 2)]), (NEAR, [("B", 1)]), (FAR, [("A", 1)]), (FAR, [("A", 0)])]
    demand = observed_demand(history, 8, regions)
    # Half the orders go to each region; 3 units of A and 1 of B in 4 orders; 8 orders ahead.
    assert demand == {
        (region_of(NEAR), "A"): pytest.approx(3.0), (region_of(NEAR), "B"): pytest.approx(1.0),
        (region_of(FAR), "A"): pytest.approx(3.0), (region_of(FAR), "B"): pytest.approx(1.0),
    }
    assert observed_demand([], 8, Regions()) == {}
    with pytest.raises(ValueError, match="orders_ahead"):
        observed_demand(history, -1, Regions())


def test_the_unit_a_nearby_region_will_need_is_priced_at_what_serving_it_from_afar_would_cost() -> None:
    """Orders keep coming to the customer by the near DC. Its one unit is worth the difference between
    the far lane and the near one to that demand; the far DC's surplus is worth nothing."""
    near_dc, far_dc = node("dc-near", point=NEAR), node("dc-far", point=FAR)
    history = [(ORIGIN, [("A", 1)])] * 5
    atp = {"dc-near": {"A": 1}, "dc-far": {"A": 100}}
    model, items = cost_model(), catalog()

    found = network_shadow_prices(history, [near_dc, far_dc], atp, model=model, catalog=items,
                                  settings=SETTINGS, now=TUESDAY_10AM_CHICAGO)

    lanes = lane_estimates(model, items, [near_dc, far_dc], {region_of(ORIGIN): ORIGIN}, TUESDAY_10AM_CHICAGO)
    near_lane, far_lane = lanes[("dc-near", region_of(ORIGIN))], lanes[("dc-far", region_of(ORIGIN))]
    assert far_lane > near_lane
    assert found.prices == {("dc-near", "A"): pytest.approx(far_lane - near_lane)}
    assert (found.orders_seen, found.regions) == (5, 1)
    assert found.forecast_units == pytest.approx(5.0)


def test_no_recent_orders_or_no_stock_prices_nothing() -> None:
    near_dc = node("dc-near", point=NEAR)
    quiet = network_shadow_prices([], [near_dc], {"dc-near": {"A": 3}}, model=cost_model(), catalog=catalog(),
                                  settings=SETTINGS, now=TUESDAY_10AM_CHICAGO)
    assert quiet.prices == {} and quiet.orders_seen == 0
    empty = network_shadow_prices([(ORIGIN, [("A", 1)])], [near_dc], {"dc-near": {"A": 0}}, model=cost_model(),
                                  catalog=catalog(), settings=SETTINGS, now=TUESDAY_10AM_CHICAGO)
    assert empty.prices == {} and empty.orders_seen == 1


def test_orders_get_the_prices_times_the_weight_while_they_are_fresh_and_none_after() -> None:
    computed = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)
    model = cost_model().model_copy(update={"look_ahead": LookAheadSettings(price_weight=2.0, max_age_minutes=60)})
    refresh = ShadowPriceSet(computed_at=computed, orders_seen=3, forecast_units=3.0, regions=1, solve_ms=1.0,
                             prices=[NodeSkuPrice(node_id="dc-near", sku="A", cents=7.5)])
    config = SourcingConfig(model, 1, None, None, refresh, 1).with_weighted_prices()

    assert config.look_ahead_prices(computed + timedelta(minutes=30)) == {("dc-near", "A"): 15.0}
    assert config.look_ahead_prices(computed + timedelta(minutes=61)) is None
    off = SourcingConfig(cost_model(), 1, None, None, refresh, 1).with_weighted_prices()
    assert off.look_ahead_prices(computed) is None and off.weighted_prices == {}
