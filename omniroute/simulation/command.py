"""`omniroute simulate`: replay an order history through sourcing strategies and write the report.

Registered on the main CLI as `app.command("simulate")(simulate)`, and runnable on its own as
`python -m omniroute.simulation`. Imports the heavy parts (HiGHS, matplotlib) only when it runs.
Exit codes: 0 done, 1 the replay failed (a strategy broke a rule), 2 bad input or options.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from omniroute.simulation.runner import Scenario
    from sourcing.problem import Strategy

DEFAULT_STRATEGIES = ["greedy-nearest", "single-node-first", "optimal", "look-ahead"]
LITERATURE_LINES = {"small": 5, "large": 10}


def simulate(
    nodes: Annotated[Path | None, typer.Option(help="nodes CSV: id, kind, latitude, longitude or postal_code, "
                                                    "capacity (shipments per simulated day)")] = None,
    inventory: Annotated[Path | None, typer.Option(help="starting inventory CSV: node, sku, quantity")] = None,
    orders: Annotated[Path | None, typer.Option(help="orders in arrival order, .jsonl or .csv")] = None,
    costs: Annotated[Path | None, typer.Option(
        help="cost file (YAML/JSON): model linear or rate-table; default: the literature's linear cost")] = None,
    demand: Annotated[Path | None, typer.Option(
        help="demand forecast CSV for the look-ahead: latitude, longitude (or postal_code), sku, "
             "units_per_order; default: the mix of the orders decided so far")] = None,
    literature: Annotated[Path | None, typer.Option(
        help="a fulfilment-literature folder (cities and FC files): generate nodes, stock and orders from it "
             "instead of reading them; they are written under <out>/inputs")] = None,
    setup: Annotated[str, typer.Option(help="literature setup: small (10 regions, 5 FCs) or large (99, 10)")]
    = "small",
    generate_orders: Annotated[int, typer.Option(min=1, help="orders to generate (with --literature)")] = 1000,
    skus: Annotated[int, typer.Option(min=1, help="SKUs to generate (with --literature)")] = 200,
    seed: Annotated[int, typer.Option(help="random seed (with --literature)")] = 7,
    strategy: Annotated[list[str] | None, typer.Option(
        "--strategy", "-s", help=f"strategy to replay, repeatable: {', '.join(DEFAULT_STRATEGIES)} (default: all)",
    )] = None,
    rules: Annotated[Path | None, typer.Option(help="a rules file: also replay the rules, then --rules-base")] = None,
    rules_base: Annotated[str, typer.Option(help="the strategy that answers after the rules")] = "optimal",
    reprice_every: Annotated[int, typer.Option(min=1, help="look-ahead: new shadow prices every N orders")] = 100,
    bound: Annotated[bool, typer.Option("--bound/--no-bound", help="also compute the hindsight lower bound")]
    = False,
    bound_time_limit: Annotated[float, typer.Option(min=1.0, help="seconds for the bound's LP solving")] = 120.0,
    time_limit: Annotated[float | None, typer.Option(min=0.0, help="stop each replay after this many seconds")]
    = None,
    out: Annotated[Path, typer.Option(help="folder for report.html, summary.txt and decisions-*.jsonl")]
    = Path("simulation"),
) -> None:
    """Replay orders in arrival order through sourcing strategies on a copy of the stock, side by side.

    Reads the nodes, the starting inventory, the orders and a cost file (or generates them from a
    fulfilment-literature folder), replays every order through each strategy, and writes an HTML
    report with plots, a text summary and one decisions file per strategy. Live stock is never read
    or changed. See docs/simulation.md for the file formats.
    """
    from omniroute.files.cost_files import CostFileError
    from omniroute.files.rule_files import RuleFileError
    from omniroute.simulation.inputs import InputError
    from omniroute.simulation.runner import SimulationError

    err = Console(stderr=True)
    try:
        _run(nodes, inventory, orders, costs, demand, literature, setup, generate_orders, skus, seed,
             strategy or DEFAULT_STRATEGIES, rules, rules_base, reprice_every, bound, bound_time_limit, time_limit, out)
    except (InputError, RuleFileError, CostFileError, _UsageError) as error:
        err.print(f"[red]cannot simulate:[/red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(2) from None
    except SimulationError as error:
        err.print(f"[red]simulation failed:[/red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from None


class _UsageError(ValueError):
    pass


def _run(
    nodes_path: Path | None, inventory_path: Path | None, orders_path: Path | None, costs_path: Path | None,
    demand_path: Path | None, literature: Path | None, setup: str, generate_orders: int, skus: int, seed: int,
    strategy_names: list[str], rules: Path | None, rules_base: str, reprice_every: int, bound: bool,
    bound_time_limit: float, time_limit: float | None, out: Path,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from omniroute.simulation.bound import hindsight_bound
    from omniroute.simulation.inputs import read_demand, read_inventory, read_nodes, read_orders
    from omniroute.simulation.pricing import LinearCostFile, make_pricer, read_cost_file
    from omniroute.simulation.report import TEXT_WIDTH, write_report
    from omniroute.simulation.runner import RunOptions, Scenario
    from omniroute.simulation.runner import simulate as replay

    console = Console()
    if not console.is_terminal:
        console.width = TEXT_WIDTH  # a log or a pipe: the whole table on one line per strategy
    if literature is not None:
        nodes_path, inventory_path, orders_path, costs_path = _generate_literature(
            literature, setup, generate_orders, skus, seed, out / "inputs")
        console.print(f"Generated the {setup} literature setup into {out / 'inputs'}")
    missing = [f"--{name}" for name, path in (("nodes", nodes_path), ("inventory", inventory_path),
                                              ("orders", orders_path)) if path is None]
    if missing:
        raise _UsageError(f"{', '.join(missing)} required (or --literature to generate them)")
    assert nodes_path is not None and inventory_path is not None and orders_path is not None
    network = read_nodes(nodes_path)
    scenario = Scenario(
        nodes=network, inventory=read_inventory(inventory_path, [n.node_id for n in network]),
        orders=read_orders(orders_path),
        pricer=make_pricer(read_cost_file(costs_path) if costs_path else LinearCostFile(), network),
        demand=read_demand(demand_path) if demand_path else None,
    )
    strategies = _strategies(strategy_names, rules, rules_base, scenario)
    options = RunOptions(reprice_every=reprice_every, time_limit_s=time_limit)
    with Progress(SpinnerColumn(), TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:
        runs = replay(scenario, strategies, options, progress)
        lower = None
        if bound:
            task = progress.add_task("hindsight lower bound (LP)", total=1)
            lower = hindsight_bound(scenario, time_limit_s=bound_time_limit)
            progress.advance(task)
    notes = [f"{len(scenario.orders)} orders, {len(scenario.nodes)} nodes, "
             f"{sum(scenario.inventory.values())} units in starting stock.",
             f"Inputs: nodes {nodes_path}, inventory {inventory_path}, orders {orders_path}, "
             f"costs {costs_path or 'the literature linear cost (default)'}.",
             "Look-ahead forecast: " + (f"the demand file {demand_path}" if demand_path else
                                        "the mix of the orders decided so far, scaled to the orders left")
             + f"; shadow prices every {reprice_every} orders."]
    files = write_report(runs, out, bound=lower, notes=notes, console=console)
    console.print(f"Report: {files.html}  Summary: {files.text}  Decisions: {out}/decisions-*.jsonl")


def _strategies(names: list[str], rules: Path | None, rules_base: str, scenario: Scenario) -> list[Strategy]:
    from omniroute.simulation.strategies import make_strategy, rules_strategy

    strategies = [_made(make_strategy, name) for name in dict.fromkeys(names)]
    if rules is not None:
        postal_codes = {o.order_id: o.postal_code for o in scenario.orders if o.postal_code}
        strategies.append(rules_strategy(rules, _made(make_strategy, rules_base), scenario.nodes, postal_codes))
    return strategies


def _made(make: Callable[[str], Strategy], name: str) -> Strategy:
    try:
        return make(name)
    except ValueError as error:
        raise _UsageError(f"--strategy: {error}") from None
    except ImportError as error:
        raise _UsageError(f"--strategy: {name} is not available in this installation ({error})") from None


def _generate_literature(
    folder: Path, setup: str, orders: int, skus: int, seed: int, into: Path
) -> tuple[Path, Path, Path, Path]:
    """Nodes at the setup's FCs, orders to its cities (by population), tight stock; written as input files."""
    from omniroute.simulation.inputs import write_inventory, write_nodes, write_orders
    from omniroute.simulation.literature import read_literature
    from omniroute.simulation.network_gen import generate
    from omniroute.simulation.pricing import LinearCostFile, write_cost_file

    if setup not in LITERATURE_LINES:
        raise _UsageError(f"--setup must be one of {', '.join(LITERATURE_LINES)}, got {setup!r}")
    cities, centres = read_literature(folder, setup)
    network = generate(centres, cities, skus=skus, orders=orders, max_lines=LITERATURE_LINES[setup], seed=seed,
                       quantities=((1, 1.0),))
    into.mkdir(parents=True, exist_ok=True)
    paths = (into / "nodes.csv", into / "inventory.csv", into / "orders.jsonl", into / "costs.yaml")
    write_nodes(network.nodes, paths[0])
    write_inventory(network.inventory, paths[1])
    write_orders(network.orders, paths[2])
    write_cost_file(LinearCostFile(), paths[3])
    return paths
