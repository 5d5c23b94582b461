"""`make demo` end to end, small: the whole stack as child processes on free ports, in a tmp folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from omniroute.demo import run_demo
from omniroute.ports import free_port
from omniroute.settings import Settings

pytestmark = pytest.mark.e2e


def _figures(text: str) -> dict[str, str]:
    """The summary table's rows, label -> value."""
    figures = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) == 2 and all(cells):
            figures[cells[0]] = cells[1]
    return figures


def test_the_demo_brings_every_order_and_return_to_an_end_and_counts_them(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=None,
        temporal_address=f"127.0.0.1:{free_port()}", temporal_ui_port=free_port(),
        gateway_port=free_port(), sandbox_port=free_port(),
    )
    console = Console(record=True, width=120)

    exit_code = run_demo(settings, orders=12, returns=2, seed=3, console=console, timeout_s=240)

    text = console.export_text()
    assert exit_code == 0, text
    figures = _figures(text)
    completed, cancelled, failed = (int(figures[f"Orders {s}"]) for s in ("completed", "cancelled", "failed"))
    assert figures["Orders placed"] == "12"
    assert completed + cancelled + failed == 12
    assert cancelled >= 1  # one of a dozen is cancelled by the customer before it ships
    assert figures["Orders not final"] == "0"
    assert int(figures["Shipments"]) >= completed
    assert not figures["Split rate"].startswith("0.0%")  # a dozen orders hold one that must split
    assert int(figures["Units on cancelled lines"]) >= 2  # the scarce line and the cancelled order
    assert figures["Returns restocked"] == "2 of 2"
    assert f"{settings.ui_url}/namespaces/default/workflows" in text
