"""The order search benchmark on a small generated history: every typical search is timed, reads an
index of its own, and its section renders."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress

from omniroute.bench.kit.order_search import SearchSizes, render_search, run_search_bench


def test_every_typical_search_is_timed_and_reads_an_index() -> None:
    with Progress(console=Console(quiet=True)) as progress:
        figures = run_search_bench(SearchSizes(orders=3000, searches=10), progress)

    assert figures.load.order_skus >= 3000 and 0 < figures.load.order_nodes < 2 * 3000
    store_timings = [t for t in figures.timings if "gateway" not in t.label]
    assert len(store_timings) == 12 and len(figures.timings) == 13
    for timing in figures.timings:
        assert timing.count == 10 and 0 < timing.p50_ms <= timing.p95_ms, timing
    for timing in store_timings:
        assert timing.indexes and all(index.startswith(("ix_", "sqlite_autoindex")) for index in timing.indexes)
    by_label = {t.label: t for t in figures.timings}
    assert by_label["by SKU"].indexes[0] == "ix_order_skus_sku_created_at_order_id"
    assert by_label["by node"].indexes[0] == "ix_order_nodes_node_id_created_at_order_id"
    assert by_label["by customer e-mail"].indexes == ("ix_orders_customer_email_created_at_order_id",)
    assert by_label["newest orders"].mean_rows == 50

    text = render_search(figures, section=9, note="Measured alone.")
    assert text.startswith("## 9. Order search (`GET /v1/orders`) over 3,000 orders\n\nMeasured alone.")
    assert text.count("\n| ") == 1 + 13  # the header and a row per search
