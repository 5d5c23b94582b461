"""The inventory benchmark's pure parts: percentiles, rates, ratios and its Markdown section."""

from __future__ import annotations

import pytest

from omniroute.benchkit.inventory import (
    AtpRun,
    InventoryResults,
    ReserveRun,
    format_ratio,
    percentile,
    rate,
    render_inventory,
)


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
    run = ReserveRun("SQLite", "one hot SKU", store_count=700, store_seconds=1.0, raw_count=1000, raw_seconds=1.0)

    assert run.ratio == pytest.approx(0.7)
    assert format_ratio(run.ratio) == "0.70×"


def test_the_inventory_section_shows_each_database_and_the_atp_figures() -> None:
    results = InventoryResults(
        reserves=[ReserveRun("SQLite", "one hot SKU", 500, 1.0, 1000, 1.0),
                  ReserveRun("PostgreSQL", "random SKUs", 300, 1.0, 400, 1.0)],
        atp=AtpRun(nodes=50, skus=10_000, lookups=2000, p50_ms=1.234, p99_ms=5.5, gateway_requests=900,
                   gateway_seconds=3.0),
        method=["Scratch databases."],
    )

    text = render_inventory(results)

    assert "| SQLite | one hot SKU | 500 | 1000 | 0.50× |" in text
    assert "| PostgreSQL | random SKUs | 300 | 400 | 0.75× |" in text
    assert "50 nodes × 10000 SKUs" in text
    assert "| 2000 | 1.23 ms | 5.50 ms |" in text
    assert "| 900 | | | 300 |" in text
    assert "- Scratch databases." in text
