"""`make demo`: start the embedded stack, run the demo scenario, print the figures and the UI link."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from omniroute.config.settings import Settings
from omniroute.demo.api import GatewayApi, GatewayError
from omniroute.demo.network import load_network
from omniroute.demo.sandbox import CarrierPlan, ProviderSandboxes
from omniroute.demo.scenario import (
    DEFAULT_ORDERS,
    DEFAULT_RETURNS,
    DEFAULT_SEED,
    MAX_RUN_S,
    STALL_S,
    DemoPlan,
    DemoScenario,
)
from omniroute.demo.summary import DemoSummary, render_summary
from omniroute.demo.wms import WEBHOOK_DC, WebhookWms
from omniroute.devstack.keys import admin_token, keys_path
from omniroute.devstack.stack import DevStack, StackError

SHOWN_PROBLEMS = 25
# Carrier tracking in the demo: the EasyPost sandbox's trackers move each labelled parcel a status every
# DEMO_TRACKING_STEP_S seconds (OMNIROUTE_SANDBOX_TRACKING_STEP_S when that is set above 0), the first
# scan DEMO_FIRST_SCAN_S after the label is bought (time for the warehouse to post shipped first, even
# on a loaded machine where each event takes seconds), and every
# DEMO_EXCEPTION_EVERY-th parcel meets a failed delivery attempt before it is delivered.
DEMO_TRACKING_STEP_S = 2.0
DEMO_FIRST_SCAN_S = 20.0
DEMO_EXCEPTION_EVERY = 15


def run_demo(
    settings: Settings,
    *,
    orders: int = DEFAULT_ORDERS,
    returns: int = DEFAULT_RETURNS,
    seed: int = DEFAULT_SEED,
    keep: bool = False,
    console: Console | None = None,
    gateway_url: str | None = None,
    stall_s: float = STALL_S,
    max_s: float = MAX_RUN_S,
) -> int:
    """Run the demo and return the exit code: 0 when every order and return reached a final state,
    1 otherwise (nothing moved for `stall_s`, or the run passed `max_s`), 2 when the stack could not
    start. With `gateway_url` the demo uses that running stack instead of starting one; with `keep`
    the stack it started stays up until Ctrl-C."""
    console = console or Console()
    started = time.monotonic()
    # The demo's stack tracks parcels (`omniroute dev` keeps the setting as it is, 0 by default).
    settings = settings.model_copy(update={
        "sandbox_tracking_step_s": settings.sandbox_tracking_step_s or DEMO_TRACKING_STEP_S})
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
        try:
            summary, problems, gave_up = asyncio.run(
                _run(gateway_url or settings.gateway_url, plan, console, stall_s=stall_s, max_s=max_s,
                     admin_token=stack.admin_key.token if stack and stack.admin_key else admin_token(settings),
                     keys_file=keys_path(settings), wms=_webhook_wms(settings, gateway_url or settings.gateway_url),
                     settings=settings))
        except (GatewayError, httpx.TransportError) as err:  # the network or configuration did not load
            console.print("[red]The demo could not load its network:[/red]", escape(str(err)))
            return 1
        summary = replace(summary, elapsed_s=time.monotonic() - started)
        _report(console, settings, summary, problems)
        if gave_up:
            console.print(f"[red]The demo gave up: {gave_up}.[/red]")
        if keep and stack is not None:
            _wait_for_ctrl_c(console)
        return 0 if summary.all_final else 1
    finally:
        if stack is not None:
            stack.stop()


async def _run(
    gateway_url: str, plan: DemoPlan, console: Console, *, stall_s: float, max_s: float,
    admin_token: str | None, keys_file: Path, settings: Settings, wms: WebhookWms | None = None,
) -> tuple[DemoSummary, list[str], str | None]:
    network = load_network()
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    )
    carrier_plan = CarrierPlan(step_s=settings.sandbox_tracking_step_s or DEMO_TRACKING_STEP_S,
                               first_scan_s=DEMO_FIRST_SCAN_S, exception_every=DEMO_EXCEPTION_EVERY)
    async with GatewayApi(gateway_url, admin_token=admin_token) as api, \
            ProviderSandboxes(settings.sandbox_url) as sandboxes:
        scenario = DemoScenario(api, network, plan, progress, keys_file=keys_file, wms=wms,
                                sandbox_url=settings.sandbox_url, gateway_url=gateway_url,
                                secret_for=settings.partner_secret, sandboxes=sandboxes, carrier_plan=carrier_plan)
        with progress:
            summary = await scenario.run(stall_s=stall_s, max_s=max_s)
        return summary, scenario.problems(), scenario.gave_up


def _webhook_wms(settings: Settings, gateway_url: str) -> WebhookWms:
    """One demo DC's WMS is the sandbox's, told by signed webhook (the others pull their shipments)."""
    secret_ref = f"wms-{WEBHOOK_DC}"
    return WebhookWms(wms_url=f"{settings.sandbox_url}/wms", gateway_url=gateway_url, secret_ref=secret_ref,
                      secret=settings.partner_secret(secret_ref), deliver=False)  # the carrier's tracker delivers


def _report(console: Console, settings: Settings, summary: DemoSummary, problems: list[str]) -> None:
    console.print(render_summary(summary))
    workflows_url = f"{settings.ui_url}/namespaces/{settings.temporal_namespace}/workflows"
    console.print(f"Temporal UI: [link={workflows_url}]{workflows_url}[/link]")
    console.print(f"API keys (admin, demo channels, demo nodes, demo operator): {keys_path(settings)}",
                  highlight=False, markup=False)
    console.print(
        "List them: temporal workflow list "
        f"--address {settings.temporal_address} --query 'OrderStatus=\"completed\"'",
        highlight=False, markup=False,
    )
    if problems:
        console.print(f"[red]{len(problems)} not final[/red] when the demo stopped, each with what it waits for:")
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
