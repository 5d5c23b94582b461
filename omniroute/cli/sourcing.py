"""`omniroute sourcing` (load and show the cost model, rules and catalogue) and `omniroute orders`
(explain a planned order). Each command imports what it needs when it runs."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from omniroute.cli.support import console, load_settings

if TYPE_CHECKING:
    from models.plan import SourcingDecision

sourcing_app = typer.Typer(help="Sourcing configuration: cost model, order rules, SKU catalogue.", no_args_is_help=True)
orders_app = typer.Typer(
    help="Orders: find them in the app DB's read model; show, cancel or release one through its workflow; explain "
         "where a planned one ships from.", no_args_is_help=True)


@sourcing_app.command("load")
def sourcing_load(
    cost_model: Annotated[Path | None, typer.Option(
        "--cost-model", exists=True, dir_okay=False, help="cost model, .yaml/.yml/.json (docs/cost-model.md)")] = None,
    rules: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="order rules, .yaml/.yml/.json (docs/rules.md)")] = None,
    catalog: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="SKU catalogue, .csv/.yaml/.yml/.json (docs/cost-model.md)")] = None,
) -> None:
    """Check sourcing files and store them in the app DB, printing the new versions.

    Every file given is read and checked before anything is written, so one bad file stores nothing:
    exit 1 naming the file and the field. The cost model and the rules replace the stored ones as a
    whole (a new version each); catalogue SKUs are inserted or replaced. Give at least one file.
    """
    if cost_model is None and rules is None and catalog is None:
        console.print("[red]nothing to load:[/red] give --cost-model, --rules and/or --catalog")
        raise typer.Exit(2)
    settings = load_settings()
    from rich.table import Table

    from omniroute.files.cost_files import CostFileError, load_catalog, load_cost_model
    from omniroute.files.rule_files import RuleFileError, load_rules
    from store import Store

    try:
        model = None if cost_model is None else load_cost_model(cost_model)
        rule_set = None if rules is None else load_rules(rules)
        skus = None if catalog is None else list(load_catalog(catalog).skus.values())
    except (CostFileError, RuleFileError, OSError) as err:
        console.print(f"[red]nothing loaded:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(1) from None
    table = Table(title="loaded into the app DB")
    for column in ("what", "file", "now"):
        table.add_column(column)
    store = Store.connect(settings.app_database_url)
    try:
        if model is not None:
            table.add_row("cost model", escape(str(cost_model)), f"version {store.set_cost_model(model)}")
        if rule_set is not None:
            table.add_row("rules", escape(str(rules)),
                          f"version {store.set_rules(rule_set)} ({len(rule_set.rules)} rules)")
        if skus is not None:
            table.add_row("catalogue", escape(str(catalog)), f"{store.upsert_skus(skus)} SKUs written")
    finally:
        store.dispose()
    Console(width=120).print(table)


@sourcing_app.command("show")
def sourcing_show() -> None:
    """Print the stored cost model, rules and catalogue (versions and a summary of each), whether the
    look-ahead and release waves are on, and the look-ahead's last prices."""
    settings = load_settings()
    from rich.table import Table

    from store import Store

    store = Store.connect(settings.app_database_url)
    try:
        cost, rules, catalog, prices = store.cost_model(), store.rules(), store.catalog(), store.shadow_prices()
    finally:
        store.dispose()
    out = Console(width=120)
    if cost is None:
        out.print("cost model: not configured (omniroute sourcing load --cost-model FILE)")
    else:
        model, version = cost
        kinds = ", ".join(sorted(model.node_defaults)) or "no kind"
        out.print(f"cost model version {version}: {model.currency}, split penalty "
                  f"{_money(model.split_penalty_cents, model.currency)}, {len(model.zone_chart)} zone bands, "
                  f"node defaults for {kinds}, {len(model.nodes)} node overrides", soft_wrap=True)
        services = Table(title="carrier services")
        for column in ("service", "carrier", "level", "zones", "up to lb", "Saturday"):
            services.add_column(column)
        for service in model.services:
            zones = sorted(service.transit_days)
            services.add_row(escape(service.name), escape(f"{service.carrier} {service.service}"), service.level,
                             f"{zones[0]}-{zones[-1]}", str(service.max_weight_lb),
                             "yes" if service.delivers_saturday else "no")
        out.print(services)
    if rules is None:
        out.print("rules: not configured (omniroute sourcing load --rules FILE)")
    else:
        ids = ", ".join(rule.id for rule in rules[0].rules) or "none"
        out.print(f"rules version {rules[1]}: {len(rules[0].rules)} rules ({escape(ids)})", soft_wrap=True)
    out.print(f"catalogue: {len(catalog.skus)} SKUs")
    configured = cost[0] if cost is not None else None
    look_ahead = configured.look_ahead if configured is not None else None
    if look_ahead is None:
        out.print("look-ahead: off (no look_ahead in the cost model)")
    else:
        out.print(f"look-ahead: on, price weight {look_ahead.price_weight}, {look_ahead.history_days:g} days of "
                  f"orders priced over {look_ahead.horizon_days:g} days ahead, prices used for "
                  f"{look_ahead.max_age_minutes} min", soft_wrap=True)
    if prices is not None:
        refresh, version = prices
        fresh = refresh.in_use(look_ahead, datetime.now(UTC))
        out.print(f"look-ahead prices version {version}: {refresh.computed_at:%Y-%m-%d %H:%M} UTC from "
                  f"{refresh.orders_seen} orders, {len(refresh.prices)} non-zero prices, "
                  f"{'in use' if fresh else 'not in use'}", soft_wrap=True)
    waves = configured.waves if configured is not None else None
    if waves is None:
        out.print("release waves: off (no waves in the cost model)")
    else:
        out.print(f"release waves: on, orders hold {waves.hold_minutes} min (until "
                  f"{waves.release_before_cutoff_minutes} min before a cut-off at the latest), a wave changes plans "
                  "when it saves "
                  f"{_money(waves.min_saving_cents, configured.currency if configured else 'USD')}", soft_wrap=True)


@orders_app.command("explain")
def orders_explain(order_id: Annotated[str, typer.Argument(help="the order's id, e.g. web-1001")]) -> None:
    """Why an order ships from where it does: its recorded sourcing decision.

    Prints each shipment with its cost parts and delivery date, the total, the plans that lost with
    their cost and why, the rules that fired and whether the delivery promise was kept. Exits 1 for
    an order the app DB does not know or one not planned yet.
    """
    settings = load_settings()
    from store import Store

    store = Store.connect(settings.app_database_url)
    try:
        order = store.get_order(order_id)
    finally:
        store.dispose()
    if order is None:
        console.print(f"[red]unknown order[/red] {escape(order_id)!r}: the app DB has no such order")
        raise typer.Exit(1)
    if order.decision is None:
        console.print(f"order {escape(order_id)!r} is not planned yet (status {order.status}): "
                      "it has no sourcing decision to explain")
        raise typer.Exit(1)
    _print_decision(order_id, order.decision)


def _print_decision(order_id: str, decision: SourcingDecision) -> None:
    from rich.table import Table

    out = Console(width=140)
    money = functools.partial(_money, currency=decision.currency)
    versions = f"cost model v{decision.cost_model_version or '-'}, rules v{decision.rules_version or '-'}"
    out.print(f"order {escape(order_id)}: {escape(decision.strategy)} by {escape(decision.method)} "
              f"{escape(decision.status)} in {decision.solve_ms:.1f} ms over {decision.candidates} candidate nodes"
              f" ({versions})", soft_wrap=True)
    shipments = Table(title="shipments")
    for column in ("node", "service", "zone", "billable lb", "ships", "arrives", "cost parts", "cost"):
        shipments.add_column(column, overflow="fold",
                             justify="right" if column in ("zone", "billable lb", "cost") else "left")
    for s in decision.shipments:
        parts = " + ".join(f"{escape(part.label)} {money(part.cents)}" for part in s.parts)
        shipments.add_row(escape(s.node_id), escape(s.service), str(s.zone), str(s.billable_weight_lb),
                          s.ship_date.isoformat(), s.delivery_date.isoformat(), parts, money(s.total_cents))
    if decision.split_penalty_cents:
        shipments.add_row("split penalty", "", "", "", "", "", "", money(decision.split_penalty_cents))
    shipments.add_row("[bold]total[/bold]", "", "", "", "", "", "", f"[bold]{money(decision.total_cents)}[/bold]")
    out.print(shipments)
    if decision.runners_up:
        losers = Table(title=f"runners-up (chosen plan: {decision.model_cost_cents / 100:,.2f} in the model)")
        for column in ("plan", "nodes", "model cost", "why it lost"):
            losers.add_column(column, overflow="fold", justify="right" if column == "model cost" else "left")
        for r in decision.runners_up:
            losers.add_row(escape(r.label), escape(", ".join(r.nodes)), f"{r.model_cost_cents / 100:,.2f}",
                           escape(r.reason))
        out.print(losers)
    else:
        out.print("runners-up: none (no other plan was priced)")
    out.print("rules fired:" + "".join(f"\n  {escape(rule)}" for rule in decision.rules_fired) if decision.rules_fired
              else "rules fired: none")
    asked = [decision.service_level or ""]
    if decision.deliver_by is not None:
        asked.append(f"by {decision.deliver_by.isoformat()}")
    kept = "[green]kept[/green]" if decision.promise_kept else "[red]not kept[/red]"
    out.print(f"promise ({escape(', '.join(part for part in asked if part) or 'none asked')}): {kept}")


def _money(cents: int, currency: str) -> str:
    sign = "-" if cents < 0 else ""
    whole, minor = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{minor:02d} {currency}"
