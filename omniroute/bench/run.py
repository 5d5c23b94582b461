"""`make bench`: orders per second against a trivial workflow, and worker memory per open order; then the
inventory, sourcing, wave and order search parts on scratch databases.

Starts the embedded stack on free ports in a temporary directory, measures, writes the Markdown
report (bench/RESULTS.md) and stops everything it started. `run_search_only` measures the order search
alone and replaces its section of an existing report.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from models.address import Address
from models.order import Customer, OrderLineIn, PlaceOrder
from omniroute.bench.kit.db_port import DbOrderReader
from omniroute.bench.kit.inventory import InventorySizes, render_inventory, run_inventory_bench
from omniroute.bench.kit.order_search import (
    SEARCH_SECTION,
    SearchSizes,
    render_search,
    run_search_bench,
    with_search_section,
)
from omniroute.bench.kit.report import BenchResults, Machine, render_results, throughput_ratio
from omniroute.bench.kit.runs import measure_open_orders, run_baseline, run_orders
from omniroute.bench.kit.sdk_port import SdkWarehousePort
from omniroute.bench.kit.sourcing import SourcingSizes, render_sourcing, run_sourcing_bench
from omniroute.bench.kit.waves import WaveSizes, render_waves, run_wave_bench
from omniroute.client import OmnirouteClient
from omniroute.config.codec import data_converter_for
from omniroute.config.settings import Settings
from omniroute.demo.api import GatewayApi
from omniroute.demo.network import DemoNetwork, default_data_dir, load_network
from omniroute.devstack.keys import admin_token
from omniroute.devstack.ports import free_port
from omniroute.devstack.stack import DevStack
from omniroute.files.cost_files import demo_catalog_path, load_catalog
from store import Store

BENCH_NODE = "dc-joliet-il"
BENCH_SKU = "BENCH-MUG"
BENCH_PRICE = 1600
WARM_UP = 5
PHASE_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class BenchSizes:
    orders: int
    open_orders: int

    @classmethod
    def for_mode(cls, quick: bool) -> BenchSizes:
        return cls(orders=30, open_orders=50) if quick else cls(orders=300, open_orders=500)


def run_bench(
    out_path: Path, *, quick: bool = False, console: Console | None = None,
    events_via: Literal["sdk", "gateway"] = "sdk",
) -> None:
    """Measure and write the report to `out_path`. Raises the stack's errors if it cannot start,
    and BenchError if an order does not complete; nothing is written then."""
    console = console or Console()
    sizes = BenchSizes.for_mode(quick)
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="omniroute-bench-") as tmp:
        settings = _bench_settings(Path(tmp))
        with DevStack(settings, log_dir=Path(tmp) / "logs", console=console) as stack:
            results = asyncio.run(_measure(settings, sizes, stack.pid("worker"), console, events_via=events_via))
    # After the stack has stopped, so that its processes do not compete for the cores.
    with Progress(SpinnerColumn(), TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:
        inventory = run_inventory_bench(InventorySizes.for_mode(quick), progress)
        sourcing = run_sourcing_bench(SourcingSizes.for_mode(quick), progress)
        waves = run_wave_bench(WaveSizes.for_mode(quick), progress)
        search = run_search_bench(SearchSizes.for_mode(quick), progress)
    load_note = (f"Load: the 1-minute load average was {load_at_start:.2f} when the run started "
                 f"(other processes on the machine compete for its cores).")
    results = replace(results, command=_command(), quick=quick, method=[*results.method, load_note])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    report = [render_results(results), render_inventory(inventory), render_sourcing(sourcing, section=6),
              render_waves(waves, section=8), render_search(search, section=SEARCH_SECTION)]
    out_path.write_text("\n".join(report), encoding="utf-8")
    ratio = throughput_ratio(results.orders, results.baseline)
    console.print(f"Orders: {results.orders.per_second:.2f}/s, trivial: {results.baseline.per_second:.2f}/s, "
                  f"ratio {ratio:.2f}. Written to {out_path}")


def run_search_only(out_path: Path, *, quick: bool = False, console: Console | None = None) -> None:
    """Measure the order search alone and put its section into the report at `out_path` (replacing the
    one there, else added at the end), leaving the other sections as they are."""
    console = console or Console()
    load_at_start = os.getloadavg()[0]
    with Progress(SpinnerColumn(), TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:
        search = run_search_bench(SearchSizes.for_mode(quick), progress)
    note = (f"Measured alone by `{_command()}`{' (quick mode)' if quick else ''} on "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, 1-minute load average {load_at_start:.2f} at its start; the "
            "other sections come from the run named at the top.")
    section = render_search(search, section=SEARCH_SECTION, note=note)
    existing = out_path.read_text(encoding="utf-8") if out_path.exists() else ""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(with_search_section(existing, section), encoding="utf-8")
    console.print(f"Order search over {search.sizes.orders:,} orders written to {out_path}")


async def _measure(
    settings: Settings, sizes: BenchSizes, worker_pid: int, console: Console, *, events_via: str
) -> BenchResults:
    network = load_network()
    tag = datetime.now(UTC).strftime("%H%M%S")
    progress = Progress(SpinnerColumn(), TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console)
    sdk = await OmnirouteClient.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                        task_queue=settings.task_queue, data_converter=data_converter_for(settings))
    port = SdkWarehousePort(sdk)
    store = Store.connect(settings.app_database_url)
    reader = DbOrderReader(store)
    try:
        return await _run_phases(settings, sizes, worker_pid, sdk, port, reader, progress, network, tag,
                                 events_via=events_via)
    finally:
        store.dispose()


async def _run_phases(
    settings: Settings, sizes: BenchSizes, worker_pid: int, sdk: OmnirouteClient, port: SdkWarehousePort,
    reader: DbOrderReader, progress: Progress, network: DemoNetwork, tag: str, *, events_via: str,
) -> BenchResults:
    async with GatewayApi(settings.gateway_url, admin_token=admin_token(settings)) as api:
        sender = port if events_via == "sdk" else api
        with progress:
            await api.put_node(next(n for n in network.nodes if n.node_id == BENCH_NODE))
            # Orders are priced as in production: the demo rate cards and SKU weights (no order rules).
            rate_cards = default_data_dir().joinpath("cost_model.yaml").read_text("utf-8")
            await api.put_sourcing_document("cost-model", rate_cards)
            await api.put_skus(list(load_catalog(demo_catalog_path()).skus.values()))
            await api.put_stock(BENCH_NODE, BENCH_SKU, WARM_UP + sizes.orders + sizes.open_orders + 10)
            async with asyncio.timeout(PHASE_TIMEOUT_S):
                await run_orders(sdk, _orders(network, f"w{tag}", WARM_UP), reader, sender, progress,
                                 label="warm-up")
                # Memory first, while the worker's heap holds only the warm-up: freed memory that later
                # runs leave behind would otherwise be reused and hide the growth.
                memory = await measure_open_orders(
                    sdk, _orders(network, f"m{tag}", sizes.open_orders), reader, worker_pid, progress)
                baseline = await run_baseline(sdk.temporal, settings, sizes.orders, progress)
                orders = await run_orders(sdk, _orders(network, f"t{tag}", sizes.orders), reader, sender, progress,
                                          label="OrderWorkflow (1 shipment)")
    return BenchResults(
        command="", date=datetime.now(UTC), machine=Machine.detect(), quick=False,
        orders=orders, baseline=baseline, memory=memory, method=_method(sizes, settings, events_via),
    )


def _orders(network: DemoNetwork, tag: str, count: int) -> list[PlaceOrder]:
    """Single-line orders of the one stocked SKU, so each has exactly one shipment."""
    orders = []
    for n in range(count):
        where = network.ship_to[n % len(network.ship_to)]
        orders.append(PlaceOrder(
            channel="web", channel_order_id=f"bench-{tag}-{n}", currency="USD",
            customer=Customer(email=f"bench.{n}@example.com", name=f"Bench Customer {n}"),
            ship_to=Address(name=f"Bench Customer {n}", line1=f"{100 + n} Main St", city=where.city,
                            region=where.region, postal_code=where.postal_code),
            lines=[OrderLineIn(sku=BENCH_SKU, quantity=1, unit_price=BENCH_PRICE)],
        ))
    return orders


def _method(sizes: BenchSizes, settings: Settings, events_via: str) -> list[str]:
    events = ("as updates through the channel SDK (`OmnirouteClient.send_shipment_event`)" if events_via == "sdk"
              else "through the gateway (`POST /v1/shipments/{id}/events`, one update each)")
    return [
        "Embedded stack: Temporal dev server (SQLite file), provider sandboxes, one worker process and the "
        "gateway, as child processes on free ports with a temporary data directory.",
        f"Orders: {sizes.orders} single-line orders (one SKU stocked at one DC, so one shipment each), placed "
        "through the channel SDK (`OmnirouteClient.place_order`), at most 16 starts in flight, all running "
        "together. Each one records itself, evaluates the order rules (none loaded), plans with the demo cost "
        "model (pricing, the MILP strategy, exact quotes, the decision stored) and reserves stock (local "
        "activities), rates and buys a label "
        "at the EasyPost sandbox, notifies through the SendGrid sandbox, commits the stock and completes on "
        "delivery.",
        "Warehouse: the simulated warehouse learns that a shipment is released, and that an order is final, from "
        "the app DB's read model (standing in for the WMS hand-off, so its polling loads neither the worker nor "
        f"the Temporal server), and sends picked, packed, shipped and delivered {events}, 0-10 ms apart.",
        f"Baseline: {sizes.orders} workflows of three local activities that return at once, on their own task "
        "queue, served by a worker inside the benchmark process with the same cache, slots and pollers as "
        "Omniroute's worker, started the same way against the same server in the same run.",
        "Durations: from the earliest workflow start to the latest close, as the server recorded them. "
        f"{WARM_UP} orders run first, unmeasured, to warm the worker.",
        f"Memory, measured right after the warm-up: {sizes.open_orders} orders placed and left waiting for the "
        "warehouse (label bought, shipment released: the order and its shipment's fulfilment workflow both "
        "open); the worker's VmRSS from /proc before placing them and "
        f"3 s after all were waiting, divided by their number. The worker caches up to "
        f"{settings.worker_max_cached_workflows} workflows, so all of them stay in its cache; they stay open "
        "(and cached) while the throughput runs follow.",
    ]


def _bench_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir, temporal_address=f"127.0.0.1:{free_port()}", temporal_ui_port=free_port(),
        gateway_port=free_port(), sandbox_port=free_port(),
        # The benchmark measures orders, not the per-key rate limit.
        rate_limit_per_second=1e9, rate_limit_burst=10**9,
    )


def _command() -> str:
    argv = sys.argv
    program = Path(argv[0]).name if argv else "omniroute"
    return shlex.join([program, *argv[1:]])
