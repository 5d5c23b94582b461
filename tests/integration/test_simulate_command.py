"""`omniroute simulate` end to end on files in a temporary folder (run as `python -m omniroute.simulation`'s app)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.address import GeoPoint
from omniroute.simulation.__main__ import app
from omniroute.simulation.inputs import read_nodes, read_orders
from sourcing.geo import haversine_km

FIXED, PER_UNIT, PER_MILE, UNFILLED = 875.9, 42.3, 0.0541, 5000.0


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "nodes.csv").write_text(
        "id,kind,latitude,longitude,postal_code,capacity\n"
        "dc-east,dc,40.71,-74.01,,\n"
        "dc-west,dc,34.05,-118.24,,\n"
        "store-chi,store,,,60601,2\n", encoding="utf-8")
    (folder / "inventory.csv").write_text(
        "node,sku,quantity\n"
        "dc-east,MUG,3\ndc-east,CAP,1\ndc-west,MUG,4\ndc-west,CAP,2\nstore-chi,MUG,2\nstore-chi,TEE,1\n",
        encoding="utf-8")
    orders = [
        ("o1", 40.0, -75.0, [("MUG", 1), ("CAP", 1)]),
        ("o2", 41.9, -87.6, [("MUG", 2)]),
        ("o3", 34.0, -118.0, [("CAP", 2), ("MUG", 1)]),
        ("o4", 41.9, -87.7, [("TEE", 1), ("MUG", 1)]),
        ("o5", 39.0, -77.0, [("MUG", 3)]),
        ("o6", 33.0, -117.0, [("CAP", 1)]),
    ]
    with (folder / "orders.jsonl").open("w", encoding="utf-8") as handle:
        for order_id, lat, lon, lines in orders:
            handle.write(json.dumps({"id": order_id, "latitude": lat, "longitude": lon,
                                     "lines": [{"sku": s, "quantity": q} for s, q in lines]}) + "\n")
    (folder / "costs.yaml").write_text(
        f"model: linear\nfixed_per_shipment_cents: {FIXED}\nper_unit_cents: {PER_UNIT}\n"
        f"per_unit_mile_cents: {PER_MILE}\nunfilled_penalty_cents: {UNFILLED}\npromise_miles: 800\n",
        encoding="utf-8")
    return folder


def file_options(folder: Path) -> list[str]:
    return ["--nodes", str(folder / "nodes.csv"), "--inventory", str(folder / "inventory.csv"),
            "--orders", str(folder / "orders.jsonl"), "--costs", str(folder / "costs.yaml")]


def rescored_total(decisions: Path, nodes: dict[str, GeoPoint], destinations: dict[str, GeoPoint]) -> float:
    """The total cost of a decisions file, priced again from the nodes and orders files."""
    total = 0.0
    for row in map(json.loads, decisions.read_text(encoding="utf-8").splitlines()):
        used = {line["node"] for line in row["lines"] if line["node"]}
        cost = FIXED * len(used)
        for line in row["lines"]:
            if line["node"] is None:
                cost += UNFILLED * line["quantity"]
            else:
                miles = haversine_km(nodes[line["node"]], destinations[row["order_id"]]) / 1.609344
                cost += line["quantity"] * (PER_UNIT + PER_MILE * miles)
        assert row["cost"] == pytest.approx(cost, rel=1e-9)
        total += cost
    return total


def test_simulate_writes_the_report_and_decisions_that_price_again_to_the_summary(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"

    result = CliRunner().invoke(app, [*file_options(inputs), "-s", "greedy-nearest", "-s", "optimal", "--bound",
                                      "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "greedy-nearest" in result.output and "Hindsight lower bound" in result.output
    assert (out / "report.html").read_text(encoding="utf-8").count("<svg") == 4
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    nodes = {node.node_id: node.point for node in read_nodes(inputs / "nodes.csv")}
    destinations = {order.order_id: order.destination for order in read_orders(inputs / "orders.jsonl")}
    for name in ("greedy-nearest", "optimal"):
        decisions = out / f"decisions-{name}.jsonl"
        assert len(decisions.read_text(encoding="utf-8").splitlines()) == 6
        row = next(line for line in summary.splitlines() if line.strip("│ ").startswith(name))
        assert f"{rescored_total(decisions, nodes, destinations) / 100:,.2f}" in row
        ratio = float(row.split("│")[5])
        assert ratio >= 1.0


def test_bad_input_exits_2_naming_the_file_line_and_field(inputs: Path, tmp_path: Path) -> None:
    with (inputs / "inventory.csv").open("a", encoding="utf-8") as handle:
        handle.write("dc-north,MUG,1\n")

    result = CliRunner().invoke(app, [*file_options(inputs), "-s", "optimal", "--out", str(tmp_path / "out")])

    assert result.exit_code == 2
    assert "inventory.csv, line 8, field node: unknown node 'dc-north'" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_missing_inputs_and_unknown_strategies_exit_2(inputs: Path, tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["--nodes", str(inputs / "nodes.csv"), "--out", str(tmp_path / "out")])
    unknown = CliRunner().invoke(app, [*file_options(inputs), "-s", "cheapest", "--out", str(tmp_path / "out")])

    assert missing.exit_code == 2 and "--inventory, --orders required" in missing.output
    assert unknown.exit_code == 2 and "unknown strategy 'cheapest'" in unknown.output


def test_a_rules_file_is_replayed_next_to_the_strategies(inputs: Path, tmp_path: Path) -> None:
    (inputs / "rules.yaml").write_text(
        "version: 1\nrules:\n  - id: no-west\n    description: keep the west DC for wholesale\n"
        "    when: {always: true}\n    then:\n      - exclude_nodes: {node_ids: [dc-west]}\n", encoding="utf-8")
    out = tmp_path / "out"

    result = CliRunner().invoke(app, [*file_options(inputs), "-s", "optimal", "--rules", str(inputs / "rules.yaml"),
                                      "--out", str(out)])

    assert result.exit_code == 0, result.output
    plain = [json.loads(line) for line in (out / "decisions-optimal.jsonl").read_text(encoding="utf-8").splitlines()]
    ruled = [json.loads(line) for line in
             (out / "decisions-rules-optimal.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(line["node"] == "dc-west" for row in plain for line in row["lines"])
    assert all(line["node"] != "dc-west" for row in ruled for line in row["lines"])


def test_the_literature_setup_is_generated_as_input_files_that_replay_the_same(tmp_path: Path) -> None:
    literature = tmp_path / "literature"
    literature.mkdir()
    (literature / "cities_warmup.csv").write_bytes(
        b"\xef\xbb\xbfNew York,New York,40.6943,-73.9249,18680025\r\nLos Angeles,California,34.1141,-118.4068,"
        b"12531334\r\nChicago,Illinois,41.8375,-87.6866,8586888\r\n")
    (literature / "fulfillment_centers_warmup.csv").write_bytes(
        b"\xef\xbb\xbfOAK4,CA,37.7448,-121.3985\r\nIND1,IN,39.9797,-86.3833\r\nAVP3,PA,41.2776,-75.4973\r\n")
    first, second = tmp_path / "first", tmp_path / "second"

    generated = CliRunner().invoke(app, ["--literature", str(literature), "--setup", "small", "--generate-orders",
                                         "40", "--skus", "15", "-s", "greedy-nearest", "--out", str(first)])
    generated_inputs = first / "inputs"
    replayed = CliRunner().invoke(app, ["--nodes", str(generated_inputs / "nodes.csv"),
                                        "--inventory", str(generated_inputs / "inventory.csv"),
                                        "--orders", str(generated_inputs / "orders.jsonl"),
                                        "--costs", str(generated_inputs / "costs.yaml"),
                                        "-s", "greedy-nearest", "--out", str(second)])

    assert generated.exit_code == 0, generated.output
    assert replayed.exit_code == 0, replayed.output
    assert [n.node_id for n in read_nodes(generated_inputs / "nodes.csv")] == ["dc-oak4", "dc-ind1", "dc-avp3"]
    orders = read_orders(generated_inputs / "orders.jsonl")
    assert len(orders) == 40 and all(1 <= len(o.lines) <= 5 for o in orders)
    assert ((first / "decisions-greedy-nearest.jsonl").read_text(encoding="utf-8")
            == (second / "decisions-greedy-nearest.jsonl").read_text(encoding="utf-8"))
