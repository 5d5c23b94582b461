"""`make demo`: start the embedded stack, run the demo scenario, print the figures and the UI link."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from omniroute.demo.api import GatewayApi
from omniroute.demo.network import load_network
from omniroute.demo.scenario import DemoPlan, DemoScenario
from omniroute.demo.summary import DemoSummary, render_summary
from omniroute.devstack import DevStack, StackError
from omniroute.settings import Settings

DEMO_TIMEOUT_S = 300.0
DEFAULT_SEED = 7
SHOWN_PROBLEMS = 25


def run_demo(
    settings: Settings,
    *,
    orders: int = 200,
    returns: int = 20,
    seed: int = DEFAULT_SEED,
    keep: bool = False,
    console: Console | None = None,
    gateway_url: str | None = None,
    timeout_s: float = DEMO_TIMEOUT_S,
) -> int:
    """Run the demo and return the exit code: 0 when every order and return reached a final state
    within `timeout_s` (counted from the start, stack start-up included), 1 otherwise, 2 when the
    stack could not start. With `gateway_url` the demo uses that running stack instead of starting
    one; with `keep` the stack it started stays up until Ctrl-C."""
    console = console or Console()
    started = time.monotonic()
    stack = None
    if gateway_url is None:
        stack = DevStack(settings, console=console)
        try:
            stack.start()
        except StackError as err:  # start() has stopped whatever it had started
            console.print("[red]The stack did not start:[/red]", escape(str(err)))
            return 2
    try:
        plan = DemoPlan(orders=orders, returns=returns, seed=seed, run_tag=datetime.now(UTC).strftime("%y%m%d%H%M%S"))
        remaining = max(1.0, timeout_s - (time.monotonic() - started))
        summary, problems, timed_out = asyncio.run(
            _run(gateway_url or settings.gateway_url, plan, console, remaining))
        summary = replace(summary, elapsed_s=time.monotonic() - started)
        _report(console, settings, summary, problems)
        if timed_out:
            console.print(f"[red]The demo ran out of time ({timeout_s:.0f} s, stack start-up included).[/red]")
        if keep and stack is not None:
            _wait_for_ctrl_c(console)
        return 0 if summary.all_final else 1
    finally:
        if stack is not None:
            stack.stop()


async def _run(
    gateway_url: str, plan: DemoPlan, console: Console, timeout_s: float
) -> tuple[DemoSummary, list[str], bool]:
    network = load_network()
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    )
    async with GatewayApi(gateway_url) as api:
        scenario = DemoScenario(api, network, plan, progress)
        with progress:
            summary = await scenario.run(timeout_s=timeout_s)
        return summary, scenario.problems(), scenario.timed_out


def _report(console: Console, settings: Settings, summary: DemoSummary, problems: list[str]) -> None:
    console.print(render_summary(summary))
    workflows_url = f"{settings.ui_url}/namespaces/{settings.temporal_namespace}/workflows"
    console.print(f"Temporal UI: [link={workflows_url}]{workflows_url}[/link]")
    console.print(
        "List them: temporal workflow list "
        f"--address {settings.temporal_address} --query 'OrderStatus=\"completed\"'",
        highlight=False, markup=False,
    )
    if problems:
        console.print(f"[red]{len(problems)} not final[/red] when the demo stopped:")
        for line in problems[:SHOWN_PROBLEMS]:
            console.print(f"  {line}", markup=False, highlight=False)
        if len(problems) > SHOWN_PROBLEMS:
            console.print(f"  ... and {len(problems) - SHOWN_PROBLEMS} more")
    else:
        console.print("[green]Every order and return reached a final state.[/green]")


def _wait_for_ctrl_c(console: Console) -> None:
    console.print("The stack keeps running so that you can browse the UI; press Ctrl-C to stop it.")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("Stopping.")
