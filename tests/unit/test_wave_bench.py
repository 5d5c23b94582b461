"""The release-wave benchmark on a tiny network: its figures hold together and render."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress

from omniroute.bench.kit.waves import WaveSizes, render_waves, run_wave_bench


def test_waves_never_cost_more_than_the_myopic_plans_and_every_figure_is_reported() -> None:
    sizes = WaveSizes(nodes=6, skus=12, orders=80, wave_orders=(20, 40), history_orders=80)
    with Progress(console=Console(quiet=True)) as progress:
        figures = run_wave_bench(sizes, progress)

    assert [run.wave_orders for run in figures.runs] == [20, 40]
    for run in figures.runs:
        assert 0 < run.planned <= sizes.orders and 1 <= run.waves <= -(-sizes.orders // run.wave_orders)
        assert run.wave_cents <= run.myopic_cents + 1e-6
        assert (run.orders_changed == 0) == (run.wave_cents == run.myopic_cents)
        assert run.shipments_wave <= run.shipments_myopic + run.orders_changed
    assert figures.refresh_orders == 80
    text = render_waves(figures, section=8)
    assert text.startswith("## 8. Release waves") and text.count("| **") == 2
