"""The `omniroute` command. Each command imports what it needs when it runs, so `--help` stays fast.

Configuration comes from OMNIROUTE_* environment variables (and a .env file), see omniroute.config.settings.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from omniroute.cli.audit import audit
from omniroute.cli.keys import keys_app
from omniroute.cli.orders import add_order_commands
from omniroute.cli.reroute import orders_reroute
from omniroute.cli.sourcing import orders_app, sourcing_app
from omniroute.cli.support import console, load_settings
from omniroute.cli.timeline import orders_timeline
from omniroute.simulation.command import simulate

app = typer.Typer(
    name="omniroute",
    help="Omniroute: distributed order management on Temporal. Configure with OMNIROUTE_* variables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The app database (inventory ledger, network, read models).", no_args_is_help=True)
app.add_typer(db_app, name="db")
inventory_app = typer.Typer(help="The inventory ledger and positions.", no_args_is_help=True)
app.add_typer(inventory_app, name="inventory")
app.add_typer(sourcing_app, name="sourcing")
app.add_typer(orders_app, name="orders")
orders_app.command("reroute")(orders_reroute)
orders_app.command("timeline")(orders_timeline)
app.add_typer(keys_app, name="keys")
add_order_commands(orders_app)


@app.command()
def dev() -> None:
    """Run the whole embedded stack in the foreground until Ctrl-C.

    Starts the Temporal dev server (SQLite file and UI), migrates the app DB, then starts the provider
    sandboxes, one worker and the gateway, prints where each one is, and stops them all within
    seconds on Ctrl-C, SIGTERM or SIGHUP. A service that crashes, the Temporal server included (its
    SQLite file keeps the workflows), is restarted after a backoff (0.5 s, doubling up to 30 s; the
    count resets after 30 s of healthy running), and the console says which, with its exit status,
    when it restarts and where its log is. Exits 1 at once if a port it needs is taken or a service
    fails to start, and when a service crashes 6 times in a row, naming it with its log tail.
    Each service logs to <data dir>/logs/<service>.log.
    """
    from omniroute.devstack.stack import DevStack, PortInUseError, RestartPolicy, StackError

    settings = load_settings()
    out = Console()
    # A child still busy after 5 s is SIGKILLed: Temporal retries whatever a killed worker was doing.
    stack = DevStack(settings, console=out, stop_timeout=5.0)
    # Set explicitly: a shell starts a background job with SIGINT ignored, and Python then keeps it
    # ignored, so a stack started by a script or CI job would not stop on SIGINT at all.
    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _interrupt)
    try:
        stack.start()
        out.print(stack.table())
        out.print("Ctrl-C stops everything.")
        stack.supervise(restart=RestartPolicy())
    except PortInUseError as err:
        console.print(f"[red]cannot start:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(1) from None
    except StackError as err:
        console.print(f"[red]stack failed:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        out.print("stopping the stack...")
    finally:
        # A second Ctrl-C must not cut the clean-up short: stop() escalates to SIGKILL on its own.
        for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(stop_signal, signal.SIG_IGN)
        stack.stop()
    out.print("stopped.")


@app.command()
def worker() -> None:
    """Run one worker (order and return workflows, inventory syncs, look-ahead prices, release waves).

    Polls OMNIROUTE_TASK_QUEUE on OMNIROUTE_TEMPORAL_ADDRESS until SIGTERM or Ctrl-C, then shuts down
    gracefully. Run as many workers as you like. Creates or updates the reservation-sweep,
    shadow-prices (OMNIROUTE_LOOKAHEAD_REFRESH_MINUTES), release-waves (OMNIROUTE_WAVE_MINUTES) and
    backorder-sweep (OMNIROUTE_BACKORDER_SWEEP_MINUTES) schedules.
    """
    settings = load_settings(providers=True)
    from workers.main import run_worker

    run_worker(settings)


@app.command()
def gateway() -> None:
    """Serve the HTTP gateway (OpenAPI docs at /docs).

    Order intake, ATP, shipment events and returns, on OMNIROUTE_GATEWAY_HOST:OMNIROUTE_GATEWAY_PORT,
    until SIGTERM or Ctrl-C.
    """
    settings = load_settings()
    import uvicorn

    _until_signalled(lambda: uvicorn.run("gateway.app:create_app", factory=True, host=settings.gateway_host,
                                         port=settings.gateway_port, log_level="info"))


@app.command()
def sandbox() -> None:
    """Serve the provider sandboxes (EasyPost, Shippo, SendGrid, Twilio, Stripe, ShipBob, Shopify, a webhook WMS,
    dropship vendors) for development and tests.

    They speak each provider's wire format, at /easypost/v2, /shippo, /sendgrid, /twilio, /stripe, /shipbob,
    /shopify, /wms and /dropship on 127.0.0.1:OMNIROUTE_SANDBOX_PORT, until SIGTERM or Ctrl-C. Their state
    (shipments, labels, messages, payments, stock, the WMS's nodes, the vendors' POs) is kept in
    OMNIROUTE_SANDBOX_STATE_PATH, <data dir>/sandboxes.db by default, and is there again after a restart
    (injected faults and webhook deliveries in flight are not).
    """
    settings = load_settings()
    from integrations.carriers.sandbox_trackers import TrackingPlan, WebhookIn
    from integrations.sandbox import serve
    from omniroute.devstack.stack_services import gateway_url

    # EasyPost's tracker webhooks go to the gateway, signed with its secret; trackers move on their own
    # when OMNIROUTE_SANDBOX_TRACKING_STEP_S is above 0 (else through /_sandbox/trackers/{code}/advance).
    hook = WebhookIn(url=f"{gateway_url(settings)}/webhooks/easypost",
                     webhook_secret=settings.easypost_webhook_secret.get_secret_value())
    step = settings.sandbox_tracking_step_s or None
    _until_signalled(lambda: serve("127.0.0.1", settings.sandbox_port,
                                   easypost_key=settings.easypost_api_key.get_secret_value(),
                                   sendgrid_key=settings.sendgrid_api_key.get_secret_value(),
                                   shipbob_key=settings.shipbob_api_key.get_secret_value(),
                                   shopify_token=settings.shopify_api_key.get_secret_value(),
                                   state_path=settings.sandbox_state_file,
                                   shipbob_webhook_secret=settings.partner_secret(settings.shipbob_webhook_secret_ref),
                                   shipbob_webhook_url=settings.shipbob_webhook_target,
                                   shipbob_ship_after_seconds=settings.shipbob_sandbox_ship_after_seconds,
                                   easypost_tracking=TrackingPlan(step_s=step), easypost_webhooks=[hook]))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the app database to the newest schema.

    The database is OMNIROUTE_DATABASE_URL, else the SQLite file under the data dir. Safe to run again,
    and from several processes at once.
    """
    settings = load_settings()
    from omniroute.devstack.stack_env import redact_url
    from store import upgrade_database

    if settings.database_url is None:  # the default SQLite file lives under the data dir
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.app_database_url)
    console.print(f"app DB at the newest schema: {escape(redact_url(settings.app_database_url))}")


@inventory_app.command("verify")
def inventory_verify() -> None:
    """Rebuild every position from the ledger and compare it with the positions table.

    Prints the (node, SKU) positions whose on_hand or reserved differ and exits 1, or exits 0 when all
    match. The database is OMNIROUTE_DATABASE_URL, else the SQLite file under the data dir.
    """
    settings = load_settings()
    from rich.table import Table

    from omniroute.files.inventory_verify import find_mismatches
    from store import Store

    store = Store.connect(settings.app_database_url)
    try:
        with console.status("rebuilding positions from the ledger..."):
            compared, mismatches = find_mismatches(store)
    finally:
        store.dispose()
    if not mismatches:
        Console().print(f"all {compared} positions match the ledger")
        return
    table = Table(title=f"{len(mismatches)} of {compared} positions differ from the ledger")
    for column in ("node", "SKU", "on_hand (table)", "on_hand (ledger)", "reserved (table)", "reserved (ledger)"):
        table.add_column(column, justify="left" if column in ("node", "SKU") else "right")
    for m in mismatches:
        table.add_row(escape(m.node_id), escape(m.sku), str(m.stored_on_hand), str(m.ledger_on_hand),
                      str(m.stored_reserved), str(m.ledger_reserved))
    Console(width=120).print(table)
    raise typer.Exit(1)


@app.command()
def demo(
    orders: Annotated[int, typer.Option(min=1, help="orders to place")] = 200,
    returns: Annotated[int, typer.Option(min=0, help="returns customers start as their orders are delivered")] = 20,
    seed: Annotated[int, typer.Option(help="random seed of the order generator")] = 7,
    keep: Annotated[bool, typer.Option("--keep", help="keep the stack running afterwards, until Ctrl-C")] = False,
    gateway_url: Annotated[str | None, typer.Option(
        help="use the stack already running behind this gateway instead of starting one")] = None,
    stall_seconds: Annotated[float, typer.Option(
        min=1, help="give up when no order or return has moved for this long")] = 120.0,
    max_minutes: Annotated[float, typer.Option(min=1, help="give up after this long in all")] = 30.0,
) -> None:
    """Run the demo: orders and returns through every path, on the embedded stack.

    Starts the embedded stack (unless --gateway-url names a running one), loads the demo network and
    places orders through the gateway: some split, some are held by the rules until the demo's operator
    releases them, some are cancelled by their customer, some lines are cancelled because nobody can
    fill them and some wait on backorder until the demo's warehouse receives the missing stock; a
    simulated warehouse picks, packs and ships at the DCs and stores (some stores reject or short pick,
    and the lines are sourced again), ShipBob's and the vendor's sandboxes ship theirs, customers
    collect BOPIS and curbside orders with the code from their e-mail (a few never come and their
    pickups expire), the EasyPost sandbox's trackers deliver the labelled parcels (a few after a
    failed attempt), and customers return part of delivered orders while the rest still run. Prints
    the figures and the Temporal UI link. Exits 0 when every order and return reached a final state;
    1 when some did not (each is named with what it waits for) because nothing moved for
    --stall-seconds or the run passed --max-minutes; 2 when the stack could not start.
    """
    settings = load_settings()
    from omniroute.demo import run_demo

    code = run_demo(settings, orders=orders, returns=returns, seed=seed, keep=keep, console=Console(),
                    gateway_url=gateway_url, stall_s=stall_seconds, max_s=max_minutes * 60)
    raise typer.Exit(code)


@app.command()
def bench(
    out: Annotated[Path, typer.Option(help="where to write the Markdown report")] = Path("bench/RESULTS.md"),
    quick: Annotated[bool, typer.Option("--quick", help="small sizes, for a smoke run")] = False,
    events_via: Annotated[str, typer.Option(
        help="how warehouse events reach the orders: sdk (signals) or gateway (HTTP)")] = "sdk",
    only: Annotated[str | None, typer.Option(
        help="run one part alone and replace its section in --out, keeping the others: search")] = None,
) -> None:
    """Benchmark orders, inventory and sourcing, and write a Markdown report.

    Runs an embedded stack on free ports in a temporary directory, measures orders end to end against
    a trivial workflow on the same server and worker memory per open order; then reservations against
    a raw conditional UPDATE, ATP lookups, sourcing strategies against the hindsight bound on a
    generated 50-node network, release waves against myopic plans, the look-ahead refresh, and the
    latency of typical order searches over a million generated orders; then writes --out.
    With --only search, measures the order search alone (no stack) and replaces its section of --out.
    Exits 1, writing nothing, if the stack does not start or an order does not complete.
    """
    if events_via not in ("sdk", "gateway"):
        raise typer.BadParameter("must be sdk or gateway", param_hint="--events-via")
    if only is not None:
        if only != "search":
            raise typer.BadParameter("the one part that runs alone is search", param_hint="--only")
        from omniroute.bench.run import run_search_only

        run_search_only(out, quick=quick, console=Console())
        return
    via: Literal["sdk", "gateway"] = "sdk" if events_via == "sdk" else "gateway"
    from omniroute.bench.kit.runs import BenchError
    from omniroute.bench.run import run_bench
    from omniroute.devstack.stack import StackError

    try:
        run_bench(out, quick=quick, console=Console(), events_via=via)
    except (StackError, BenchError) as err:
        console.print(f"[red]benchmark failed, nothing written:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(1) from None


# Light at import (it imports HiGHS and matplotlib only when it runs), so --help stays fast.
app.command("simulate")(simulate)
app.command("audit")(audit)


def _interrupt(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


class _StopRequested(Exception):
    pass


def _request_stop(signum: int, frame: object) -> NoReturn:
    raise _StopRequested


def _until_signalled(serve: Callable[[], None]) -> None:
    """Run a uvicorn server so that a stop by SIGTERM/SIGINT exits 0. uvicorn shuts down gracefully,
    then raises the signal again to die by it (status 143); with these handlers that ends the command
    normally instead, so the exit status tells a clean stop from a crash."""
    previous = {sig: signal.signal(sig, _request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        serve()
    except _StopRequested:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main() -> NoReturn:
    """Entry point: run the command, then exit with its status without interpreter teardown.

    Exit handlers (logging, the dev stack's clean-up) run first; then os._exit skips the garbage
    collection of whatever the Temporal SDK's native runtime left behind, which has crashed a process
    here after its work was done and would turn a success into a failure exit status.
    """
    try:
        app()
        code = 0
    except SystemExit as exit_:
        code = _status(exit_.code)
    except KeyboardInterrupt:
        code = 130
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
