"""`make demo` end to end, small: the whole stack as child processes on free ports, in a tmp folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from omniroute.config.settings import Settings
from omniroute.demo import run_demo
from omniroute.demo.network import load_network
from omniroute.demo.orders import OrderKind, generate_orders
from omniroute.demo.scenario import DEFAULT_ORDERS, DEFAULT_RETURNS, DEFAULT_SEED
from omniroute.devstack.ports import free_port

pytestmark = pytest.mark.e2e


def _figures(text: str) -> dict[str, str]:
    """The summary table's rows, label -> value."""
    figures = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) == 2 and all(cells):
            figures[cells[0]] = cells[1]
    return figures


# The default scenario costs about two CPU-minutes of the stack's processes; on a loaded 2-core machine the
# run took up to 177 s. The demo's own cap (max_s) ends it, with its report of what is stuck, before pytest
# would cut it off without one.
@pytest.mark.timeout(900)
def test_the_demo_a_newcomer_runs_takes_every_path_to_its_end_and_counts_each(tmp_path: Path) -> None:
    """`omniroute demo` with its default arguments, exactly as `make demo` runs it (on free ports)."""
    settings = Settings(
        data_dir=tmp_path / "data", database_url=None,
        temporal_address=f"127.0.0.1:{free_port()}", temporal_ui_port=free_port(),
        gateway_port=free_port(), sandbox_port=free_port(),
    )
    console = Console(record=True, width=120)

    exit_code = run_demo(settings, console=console, max_s=720)

    text = console.export_text()
    assert exit_code == 0, text
    figures = _figures(text)
    placed = int(figures["Orders placed"])
    completed, cancelled, failed = (int(figures[f"Orders {s}"]) for s in ("completed", "cancelled", "failed"))
    assert placed == DEFAULT_ORDERS and completed + cancelled + failed == placed and failed == 0
    assert figures["Orders not final"] == "0"
    assert int(figures["Shipments"]) >= completed
    assert not figures["Split rate"].startswith("0.0%")
    assert int(figures["Orders held by rules, then released"]) >= 1
    assert int(figures["Orders cancelled by the customer"]) >= 1
    assert int(figures["Units on cancelled lines"]) >= 1
    filled, backordered = (int(n) for n in figures["Orders backordered, then filled"].split(" of "))
    assert backordered >= 1 and filled == backordered
    assert int(figures["Units received for backorders"]) >= 1
    assert figures["Returns received and restocked"] == f"{DEFAULT_RETURNS} of {DEFAULT_RETURNS}"
    assert int(figures["Dropship shipped (by the vendor)"]) >= 1
    assert int(figures["Handed back by a node and re-sourced"]) >= 1
    # Every node-kind path: stores (BOPIS, curbside, pickups nobody collects, rejects and short picks
    # sourced again), the 3PL, and the carriers' trackers with their exceptions.
    orders = generate_orders(load_network(), DEFAULT_ORDERS, seed=DEFAULT_SEED)
    expired = sum(1 for o in orders if o.kind is OrderKind.PICKUP and not o.customer_comes)
    bopis = sum(1 for o in orders if o.kind is OrderKind.PICKUP)
    curbside = sum(1 for o in orders if o.kind is OrderKind.CURBSIDE)
    assert expired >= 1 and bopis > expired and curbside >= 1
    assert figures["Picked up in store (BOPIS)"] == f"{bopis - expired} of {bopis}"
    assert figures["Curbside collected"] == f"{curbside} of {curbside}"
    assert figures["Pickups not collected (expired)"] == str(expired)
    assert int(figures["Rejected or short picked by a store, re-sourced"]) >= 1
    assert int(figures["3PL shipped (by ShipBob)"]) >= 1
    assert int(figures["Tracking exceptions (carrier)"]) >= 1
    # Customers who asked for SMS get texts as well as e-mail (at least the order confirmation each).
    texted = sum(1 for o in orders if o.order.customer.sms)
    sent, _, customers = figures["SMS sent (to customers who asked)"].partition(" to ")
    assert texted >= 1 and customers == f"{texted} customers" and int(sent) >= texted
    assert f"{settings.ui_url}/namespaces/default/workflows" in text
