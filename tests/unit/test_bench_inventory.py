"""The inventory benchmark's pure parts: percentiles, rates, ratios and its Markdown section."""

from __future__ import annotations

import pytest

from omniroute.bench.kit.atp import AtpRun
from omniroute.bench.kit.inventory import InventoryResults, MultiItemRun, ReserveRun, render_inventory
from omniroute.bench.kit.scratch import format_ratio, rate
from omniroute.simulation.stats import percentile


def test_percentiles_use_the_nearest_rank() -> None:
    values = [float(n) for n in range(100, 0, -1)]  # 100..1, unsorted on purpose

    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0


def test_a_percentile_of_nothing_or_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="0..100"):
        percentile([1.0], 101)


def test_a_run_that_took_no_time_has_no_rate() -> None:
    assert rate(300, 2.0) == 150.0
    with pytest.raises(ValueError, match="must take some time"):
        rate(3, 0.0)


def test_the_reserve_ratio_is_omniroutes_rate_over_the_raw_updates_rate() -> None:
    run = ReserveRun("SQLite", "one hot SKU", store_count=700, store_seconds=1.0, raw_count=1000, raw_seconds=1.0,
                     driver_count=1400, driver_seconds=1.0)

    assert run.ratio == pytest.approx(0.7)
    assert format_ratio(run.ratio) == "0.70×"


def test_the_driver_ratio_sets_omniroutes_rate_against_the_bare_driver_update() -> None:
    run = ReserveRun("PostgreSQL", "random SKUs", store_count=600, store_seconds=2.0, raw_count=900, raw_seconds=2.0,
                     driver_count=1200, driver_seconds=1.5)

    assert run.driver_per_second == pytest.approx(800.0)
    assert run.driver_ratio == pytest.approx(300 / 800)
    assert run.ratio == pytest.approx(300 / 450)


def test_multi_item_runs_count_items_not_calls() -> None:
    run = MultiItemRun("SQLite", items_per_call=5, store_calls=200, store_seconds=2.0, raw_calls=400, raw_seconds=1.0)

    assert run.store_items_per_second == pytest.approx(500.0)
    assert run.raw_items_per_second == pytest.approx(2000.0)
    assert run.ratio == pytest.approx(0.25)


def test_the_inventory_section_shows_each_database_and_the_atp_figures() -> None:
    results = InventoryResults(
        reserves=[ReserveRun("SQLite", "one hot SKU", 500, 1.0, 1000, 1.0, 2000, 1.0),
                  ReserveRun("PostgreSQL", "random SKUs", 300, 1.0, 400, 1.0, 600, 1.0)],
        multi_item=[MultiItemRun("SQLite", 5, 100, 1.0, 300, 1.0), MultiItemRun("PostgreSQL", 5, 60, 1.0, 80, 2.0)],
        atp=AtpRun(nodes=50, skus=10_000, lookups=2000, p50_ms=1.234, p99_ms=5.5, gateway_requests=900,
                   gateway_seconds=3.0, process_requests=1000, process_seconds=2.0),
        method=["Scratch databases."],
    )

    text = render_inventory(results)

    assert "| SQLite | one hot SKU | 500 | 1000 | 2000 | 0.50× | 0.25× |" in text
    assert "| PostgreSQL | random SKUs | 300 | 400 | 600 | 0.75× | 0.50× |" in text
    assert "| SQLite | 5 | 500 | 1500 | 0.33× |" in text
    assert "| PostgreSQL | 5 | 300 | 200 | 1.50× |" in text
    assert "## 5. ATP lookups, 50 nodes × 10000 SKUs" in text
    assert "| 2000 | 1.23 ms | 5.50 ms |" in text
    assert "| gateway in the bench's process (`GET /v1/availability?sku=`) | 900 | | | 300 |" in text
    assert "| gateway in its own process (`GET /v1/availability?sku=`) | 1000 | | | 500 |" in text
    assert "- Scratch databases." in text
