"""`omniroute sourcing load|show` and `omniroute orders explain` against a real app DB (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

from typer.testing import CliRunner

from models.address import Address
from models.costs import LookAheadSettings, NodeSkuPrice, ShadowPriceSet, WaveSettings
from models.order import Customer, OrderLineIn, OrderStatus
from models.plan import CostPart, RunnerUpPlan, ShipmentCost, SourcingDecision
from models.records import OrderRecord
from omniroute.cli.app import app
from omniroute.files.cost_files import demo_catalog_path, demo_cost_model_path, load_cost_model
from store import Store

DEMO_RULES = resources.files("omniroute.demo") / "data" / "rules.yaml"


def demo_files() -> list[str]:
    return ["--cost-model", str(demo_cost_model_path()), "--rules", str(DEMO_RULES), "--catalog",
            str(demo_catalog_path())]


def test_load_stores_the_three_files_and_prints_their_versions(runner: CliRunner, store: Store) -> None:
    result = runner.invoke(app, ["sourcing", "load", *demo_files()])
    again = runner.invoke(app, ["sourcing", "load", "--cost-model", str(demo_cost_model_path())])

    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│")}
    assert "version 1" in rows["cost"] and "version 1" in rows["rules"] and "50 SKUs written" in rows["catalogue"]
    assert again.exit_code == 0, again.output
    assert "version 2" in again.output
    cost_model = store.cost_model()
    rules = store.rules()
    assert cost_model is not None and cost_model[1] == 2
    assert [s.name for s in cost_model[0].services] == ["ups-ground", "ups-2nd-day-air", "ups-next-day-air"]
    assert rules is not None and rules[0].rules[0].id == "hold-high-value"
    assert store.catalog(["MUG-CERAMIC"]).skus["MUG-CERAMIC"].weight_lb == 1.0


def test_a_bad_cost_model_stores_nothing_and_names_file_and_field(
    runner: CliRunner, store: Store, tmp_path: Path
) -> None:
    bad = tmp_path / "costs.yaml"
    bad.write_text(demo_cost_model_path().read_text(encoding="utf-8").replace("level: two_day", "level: overnight"))

    result = runner.invoke(app, ["sourcing", "load", "--cost-model", str(bad), "--rules", str(DEMO_RULES)])

    assert result.exit_code == 1, result.output
    assert "costs.yaml: services.1.level" in result.output.replace("\n", "")
    assert store.cost_model() is None and store.rules() is None


def test_a_bad_rule_names_its_path_into_the_file(runner: CliRunner, store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("version: 1\nrules:\n  - id: r1\n    description: d\n    when: {channel_in: []}\n"
                   "    then: [{hold: h}]\n")

    result = runner.invoke(app, ["sourcing", "load", "--rules", str(bad)])

    assert result.exit_code == 1, result.output
    assert "rules[0].when.channel_in" in result.output
    assert str(bad) in result.output.replace("\n", "")
    assert store.rules() is None


def test_a_bad_catalogue_line_is_named_with_its_line_number(runner: CliRunner, store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "catalog.csv"
    bad.write_text("sku,weight_lb\nMUG-1,1.5\nTEE-1,-2\n")

    result = runner.invoke(app, ["sourcing", "load", "--catalog", str(bad)])

    assert result.exit_code == 1, result.output
    assert "catalog.csv line 3: weight_lb" in result.output
    assert store.catalog().skus == {}


def test_load_without_a_file_or_with_a_missing_one_is_a_usage_error(runner: CliRunner) -> None:
    nothing = runner.invoke(app, ["sourcing", "load"])
    # Relative to the runner's folder (the test's tmp_path): a long absolute path (a pytest-xdist worker's
    # tmp folder) would be broken across lines of the 80-column error box.
    missing = runner.invoke(app, ["sourcing", "load", "--rules", "nowhere.yaml"])

    assert nothing.exit_code == 2
    assert "give --cost-model, --rules and/or --catalog" in nothing.output
    assert missing.exit_code == 2
    assert "nowhere.yaml" in missing.output


def test_show_says_what_is_not_configured_then_summarises_what_is(runner: CliRunner) -> None:
    empty = runner.invoke(app, ["sourcing", "show"])
    runner.invoke(app, ["sourcing", "load", *demo_files()])
    loaded = runner.invoke(app, ["sourcing", "show"])

    assert empty.exit_code == 0, empty.output
    assert "cost model: not configured" in empty.output and "rules: not configured" in empty.output
    assert "catalogue: 0 SKUs" in empty.output
    assert loaded.exit_code == 0, loaded.output
    assert "cost model version 1: USD, split penalty 1.50 USD" in loaded.output
    (ground,) = [line for line in loaded.output.splitlines() if "ups-ground" in line]
    assert "UPS Ground" in ground and "standard" in ground and "2-8" in ground and "70" in ground
    assert "rules version 1:" in loaded.output and "hold-high-value" in loaded.output
    assert "catalogue: 50 SKUs" in loaded.output
    assert "look-ahead: off" in loaded.output and "release waves: off" in loaded.output


def test_show_reports_look_ahead_waves_and_the_last_prices(runner: CliRunner, store: Store) -> None:
    model = load_cost_model(demo_cost_model_path())
    store.set_cost_model(model.model_copy(update={"look_ahead": LookAheadSettings(max_age_minutes=60),
                                                  "waves": WaveSettings(hold_minutes=15)}))
    store.set_shadow_prices(ShadowPriceSet(computed_at=datetime.now(UTC), orders_seen=120, forecast_units=40.0,
                                           regions=4, solve_ms=3.0,
                                           prices=[NodeSkuPrice(node_id="dc-chi", sku="TEE", cents=55.0)]))

    shown = runner.invoke(app, ["sourcing", "show"])

    assert shown.exit_code == 0, shown.output
    assert "look-ahead: on, price weight 1.5" in shown.output
    assert "look-ahead prices version 1:" in shown.output
    assert "from 120 orders, 1 non-zero prices, in use" in shown.output
    assert "release waves: on, orders hold 15 min (until 30 min before a cut-off" in shown.output


def an_order(order_id: str, status: OrderStatus = OrderStatus.FULFILLING) -> OrderRecord:
    return OrderRecord(
        order_id=order_id,
        workflow_id=f"order-{order_id}",
        channel="web",
        channel_order_id=order_id.removeprefix("web-"),
        status=status,
        currency="USD",
        customer=Customer(email="ada@example.com", name="Ada Lovelace"),
        ship_to=Address(name="Ada Lovelace", line1="1 Main St", city="New York", region="NY", postal_code="10003"),
        lines=[OrderLineIn(sku="TEE-1", quantity=1, unit_price=1999), OrderLineIn(sku="MUG-1", quantity=1,
                                                                                  unit_price=1500)],
        created_at=datetime(2025, 6, 2, 15, 0, tzinfo=UTC),
    )


def a_split_decision() -> SourcingDecision:
    """Two parcels: the tee from Chicago (1210 + 150 + 35) and the mug from the NYC store (1135 + 350 + 75)."""
    return SourcingDecision(
        strategy="optimal",
        method="milp",
        status="optimal",
        solve_ms=4.2,
        total_cents=1395 + 1560 + 150,
        split_penalty_cents=150,
        model_cost_cents=3105.0,
        shipments=[
            ShipmentCost(node_id="dc-chi", service="ups-ground", zone=5, billable_weight_lb=1,
                         ship_date=date(2025, 6, 2), delivery_date=date(2025, 6, 5),
                         parts=[CostPart(label="carrier", cents=1210), CostPart(label="handling per order", cents=150),
                                CostPart(label="handling per unit", cents=35)],
                         total_cents=1395),
            ShipmentCost(node_id="store-nyc", service="ups-ground", zone=2, billable_weight_lb=2,
                         ship_date=date(2025, 6, 2), delivery_date=date(2025, 6, 3),
                         parts=[CostPart(label="carrier", cents=1135), CostPart(label="handling per order", cents=350),
                                CostPart(label="handling per unit", cents=75)],
                         total_cents=1560),
        ],
        runners_up=[RunnerUpPlan(label="single node", nodes=["dc-chi"], model_cost_cents=3420.0,
                                 reason="dc-chi has no MUG-1")],
        rules_fired=["rule hold-fraud-risk (fraud): hold"],
        service_level="standard",
        deliver_by=date(2025, 6, 6),
        promise_kept=True,
        candidates=2,
        cost_model_version=3,
        rules_version=1,
    )


def test_explain_prints_shipments_costs_runners_up_rules_and_the_promise(runner: CliRunner, store: Store) -> None:
    store.record_order(an_order("web-7001"))
    store.set_order_decision("web-7001", a_split_decision())

    result = runner.invoke(app, ["orders", "explain", "web-7001"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "order web-7001: optimal by milp optimal in 4.2 ms over 2 candidate nodes (cost model v3, rules v1)" \
        in result.output
    (chicago,) = [line for line in lines if "dc-chi" in line and "ups-ground" in line]
    assert "2025-06-05" in chicago and "carrier 12.10 USD" in chicago and "13.95 USD" in chicago
    (store_row,) = [line for line in lines if "store-nyc" in line]
    assert "2025-06-03" in store_row and "15.60 USD" in store_row
    (penalty,) = [line for line in lines if "split penalty" in line]
    assert "1.50 USD" in penalty
    (total,) = [line for line in lines if "total" in line and "│" in line]
    assert "31.05 USD" in total
    (loser,) = [line for line in lines if "single node" in line]
    assert "34.20" in loser and "dc-chi has no MUG-1" in loser
    assert "rule hold-fraud-risk (fraud): hold" in result.output
    assert "promise (standard, by 2025-06-06): kept" in result.output


def test_explain_says_when_the_promise_was_not_kept_and_nothing_else_was_weighed(
    runner: CliRunner, store: Store
) -> None:
    store.record_order(an_order("web-7002"))
    decision = a_split_decision().model_copy(update={"promise_kept": False, "runners_up": [], "rules_fired": []})
    store.set_order_decision("web-7002", decision)

    result = runner.invoke(app, ["orders", "explain", "web-7002"])

    assert result.exit_code == 0, result.output
    assert "promise (standard, by 2025-06-06): not kept" in result.output
    assert "runners-up: none" in result.output
    assert "rules fired: none" in result.output


def test_explain_exits_1_for_an_unknown_or_unplanned_order(runner: CliRunner, store: Store) -> None:
    store.record_order(an_order("web-7003", OrderStatus.HELD))

    unknown = runner.invoke(app, ["orders", "explain", "web-nope"])
    unplanned = runner.invoke(app, ["orders", "explain", "web-7003"])

    assert unknown.exit_code == 1
    assert "unknown order 'web-nope'" in unknown.output
    assert unplanned.exit_code == 1
    assert "not planned yet (status held)" in unplanned.output


def test_simulate_is_a_command_of_the_main_cli() -> None:
    result = CliRunner().invoke(app, ["simulate", "--help"])

    assert result.exit_code == 0, result.output
    assert "--strategy" in result.output
