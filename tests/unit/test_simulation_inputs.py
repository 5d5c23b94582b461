"""The simulator's input files: good files read as written, bad ones name the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.address import GeoPoint
from models.costs import ServiceLevel
from models.network import NodeKind
from omniroute.files.cost_files import demo_catalog_path, demo_cost_model_path
from omniroute.simulation.inputs import (
    InputError,
    SimLine,
    SimNode,
    SimOrder,
    read_demand,
    read_inventory,
    read_nodes,
    read_orders,
    write_inventory,
    write_nodes,
    write_orders,
)
from omniroute.simulation.literature import read_literature
from omniroute.simulation.pricing import (
    LinearCostFile,
    RateTableCostFile,
    make_pricer,
    read_cost_file,
    write_cost_file,
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_nodes_are_located_by_coordinates_or_postal_code_with_an_optional_daily_capacity(tmp_path: Path) -> None:
    path = write(tmp_path, "nodes.csv", "id,kind,latitude,longitude,postal_code,capacity\n"
                                        "dc-east,dc,40.7,-74.0,,\n"
                                        "store-chi,store,,,60601,25\n")

    east, chicago = read_nodes(path)

    assert (east.node_id, east.kind, east.point, east.capacity) == (
        "dc-east", NodeKind.DC, GeoPoint(latitude=40.7, longitude=-74.0), None)
    assert chicago.kind is NodeKind.STORE and chicago.capacity == 25 and chicago.postal_code == "60601"
    assert 41.8 < chicago.point.latitude < 42.0 and -87.7 < chicago.point.longitude < -87.5


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    ("kind,latitude\ndc,1\n", 1, "id", "missing column"),
    ("id,latitude,longitude\na,40,-74\nb,95,-74\n", 3, "latitude", "less than or equal to 90"),
    ("id,latitude,longitude\na,40,\n", 2, "longitude", "given together"),
    ("id,postal_code\na,00000\n", 2, "postal_code", "unknown US postal code"),
    ("id,latitude,longitude\na,40,-74\na,41,-75\n", 3, "id", "appears twice"),
    ("id,kind,latitude,longitude\na,warehouse,40,-74\n", 2, "kind", "'dc'"),
    ("id,latitude,longitude,capacity\na,40,-74,-1\n", 2, "capacity", "greater than or equal to 0"),
    ("id\na\n", 2, "postal_code", "latitude/longitude or postal_code is required"),
])
def test_a_bad_nodes_file_names_the_file_the_line_and_the_field(
    tmp_path: Path, text: str, line: int, field: str, message: str
) -> None:
    path = write(tmp_path, "nodes.csv", text)

    with pytest.raises(InputError) as caught:
        read_nodes(path)

    assert (caught.value.line, caught.value.field) == (line, field)
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{path}, line {line}, field {field}: ")


def test_inventory_positions_are_read_and_must_be_at_known_nodes(tmp_path: Path) -> None:
    good = write(tmp_path, "inventory.csv", "node,sku,quantity\ndc-east,MUG,5\ndc-east,CAP,0\n")
    assert read_inventory(good, ["dc-east"]) == {("dc-east", "MUG"): 5, ("dc-east", "CAP"): 0}

    unknown = write(tmp_path, "unknown.csv", "node,sku,quantity\ndc-east,MUG,5\ndc-west,MUG,1\n")
    with pytest.raises(InputError, match=r"line 3, field node: unknown node 'dc-west'"):
        read_inventory(unknown, ["dc-east"])
    negative = write(tmp_path, "negative.csv", "node,sku,quantity\ndc-east,MUG,-2\n")
    with pytest.raises(InputError, match=r"line 2, field quantity: .*greater than or equal to 0"):
        read_inventory(negative)
    twice = write(tmp_path, "twice.csv", "node,sku,quantity\ndc-east,MUG,1\ndc-east,MUG,2\n")
    with pytest.raises(InputError, match=r"line 3, field sku: position dc-east/MUG appears twice"):
        read_inventory(twice)


def test_orders_in_json_lines_keep_their_arrival_order(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.jsonl",
                 '{"id": "o2", "latitude": 40.7, "longitude": -74.0, "lines": [{"sku": "MUG", "quantity": 2}]}\n'
                 "\n"
                 '{"id": "o1", "postal_code": "60601", "day": 1, "lines": [{"sku": "MUG", "quantity": 1},'
                 ' {"sku": "CAP", "quantity": 3}]}\n')

    first, second = read_orders(path)

    assert [first.order_id, second.order_id] == ["o2", "o1"]
    assert first.lines == (SimLine(sku="MUG", quantity=2),) and first.day == 0
    assert second.day == 1 and second.postal_code == "60601" and len(second.lines) == 2


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    ('{"id": "o1", "latitude": 1, "longitude": 2, "lines": [{"sku": "A", "quantity": 1}]}\n{"id": ', 2, None,
     "not JSON"),
    ('{"id": "o1", "latitude": 1, "longitude": 2, "lines": [{"sku": "A", "quantity": 0}]}\n', 1,
     "lines.0.quantity", "greater than 0"),
    ('{"id": "o1", "latitude": 1, "longitude": 2, "lines": []}\n', 1, "lines", "at least 1 item"),
    ('{"id": "o1", "latitude": 1, "longitude": 2}\n', 1, "lines", "required"),
    ('[1, 2]\n', 1, None, "one JSON object"),
    ('{"id": "o1", "latitude": 1, "longitude": 2, "lines": [{"sku": "A", "quantity": 1}]}\n'
     '{"id": "o1", "latitude": 1, "longitude": 2, "lines": [{"sku": "A", "quantity": 1}]}\n', 2, "id",
     "appears twice"),
])
def test_a_bad_orders_file_names_the_line_and_the_field(
    tmp_path: Path, text: str, line: int, field: str | None, message: str
) -> None:
    path = write(tmp_path, "orders.jsonl", text)

    with pytest.raises(InputError) as caught:
        read_orders(path)

    assert (caught.value.path, caught.value.line, caught.value.field) == (str(path), line, field)
    assert message in caught.value.message


def test_orders_in_csv_have_one_row_per_line_and_an_orders_rows_stay_together(tmp_path: Path) -> None:
    good = write(tmp_path, "orders.csv", "id,latitude,longitude,sku,quantity\n"
                                         "o1,40,-74,MUG,1\no1,40,-74,CAP,2\no2,41,-87,MUG,1\n")
    assert [(o.order_id, [(line.sku, line.quantity) for line in o.lines]) for o in read_orders(good)] == [
        ("o1", [("MUG", 1), ("CAP", 2)]), ("o2", [("MUG", 1)])]

    scattered = write(tmp_path, "scattered.csv", "id,latitude,longitude,sku,quantity\n"
                                                 "o1,40,-74,MUG,1\no2,41,-87,MUG,1\no1,40,-74,CAP,2\n")
    with pytest.raises(InputError, match=r"line 4, field id: order 'o1' appears again after other orders"):
        read_orders(scattered)
    moved = write(tmp_path, "moved.csv", "id,latitude,longitude,sku,quantity\no1,40,-74,MUG,1\no1,41,-74,CAP,2\n")
    with pytest.raises(InputError, match=r"line 3, field latitude: differs from the order's first row"):
        read_orders(moved)


def test_a_demand_forecast_is_units_per_order_per_place_and_sku(tmp_path: Path) -> None:
    path = write(tmp_path, "demand.csv", "latitude,longitude,sku,units_per_order\n40,-74,MUG,0.25\n")
    (rate,) = read_demand(path)
    assert (rate.point, rate.sku, rate.units_per_order) == (GeoPoint(latitude=40, longitude=-74), "MUG", 0.25)

    bad = write(tmp_path, "bad.csv", "latitude,longitude,sku,units_per_order\n40,-74,MUG,lots\n")
    with pytest.raises(InputError, match=r"line 2, field units_per_order: .*valid number"):
        read_demand(bad)


def test_the_literature_files_are_read_without_header_byte_order_mark_or_carriage_returns(tmp_path: Path) -> None:
    (tmp_path / "cities_warmup.csv").write_bytes(
        b"\xef\xbb\xbfNew York,New York,40.6943,-73.9249,18680025\r\nChicago,Illinois,41.8375,-87.6866,8586888\r\n")
    (tmp_path / "fulfillment_centers_warmup.csv").write_bytes(b"\xef\xbb\xbfIND1,IN,39.9797,-86.3833\r\n")

    cities, centres = read_literature(tmp_path, "small")

    assert [(c.name, c.region, c.population) for c in cities] == [("New York", "New York", 18680025),
                                                                  ("Chicago", "Illinois", 8586888)]
    assert centres[0].name == "IND1" and centres[0].point == GeoPoint(latitude=39.9797, longitude=-86.3833)


def test_a_bad_literature_file_names_the_line_and_the_column(tmp_path: Path) -> None:
    (tmp_path / "cities.csv").write_bytes(b"\xef\xbb\xbfNew York,New York,40.6943,-73.9249,many\r\n")
    (tmp_path / "fulfillment_centers.csv").write_bytes(b"IND1,IN,39.9797\r\n")

    with pytest.raises(InputError, match=r"cities.csv, line 1, field population: .*valid integer"):
        read_literature(tmp_path, "large")
    (tmp_path / "cities.csv").write_bytes(b"New York,New York,40.6943,-73.9249,1\r\n")
    with pytest.raises(InputError, match=r"fulfillment_centers.csv, line 1: 4 columns expected .* got 3"):
        read_literature(tmp_path, "large")
    with pytest.raises(InputError, match=r"field setup: must be 'small' or 'large'"):
        read_literature(tmp_path, "medium")


def test_written_inputs_read_back_unchanged(tmp_path: Path) -> None:
    nodes = [SimNode(node_id="dc-a", point=GeoPoint(latitude=40.5, longitude=-74.25), capacity=3),
             SimNode(node_id="st-b", kind=NodeKind.STORE, point=GeoPoint(latitude=41.0, longitude=-87.5))]
    orders = [SimOrder(order_id="o1", destination=GeoPoint(latitude=39.0, longitude=-77.0), day=2,
                       lines=(SimLine(sku="A", quantity=1), SimLine(sku="B", quantity=4)))]
    stock = {("dc-a", "A"): 3, ("st-b", "B"): 7}

    write_nodes(nodes, tmp_path / "nodes.csv")
    write_orders(orders, tmp_path / "orders.jsonl")
    write_inventory(stock, tmp_path / "inventory.csv")

    assert read_nodes(tmp_path / "nodes.csv") == nodes
    assert read_orders(tmp_path / "orders.jsonl") == orders
    assert read_inventory(tmp_path / "inventory.csv") == stock


def test_the_linear_cost_file_defaults_to_the_literatures_figures_and_round_trips(tmp_path: Path) -> None:
    path = write(tmp_path, "costs.yaml", "model: linear\npromise_miles: 600\nsplit_penalty_cents: 50\n")

    cost = read_cost_file(path)

    assert isinstance(cost, LinearCostFile)
    assert (cost.fixed_per_shipment_cents, cost.per_unit_cents, cost.per_unit_mile_cents) == (875.9, 42.3, 0.0541)
    assert cost.promise_miles == 600 and cost.cost_model().split_penalty_cents == 50
    write_cost_file(cost, tmp_path / "again.yaml")
    assert read_cost_file(tmp_path / "again.yaml") == cost
    json_file = write(tmp_path, "costs.json", '{"model": "linear", "per_unit_cents": 10}')
    assert read_cost_file(json_file).model_dump()["per_unit_cents"] == 10


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    ("model: linear\nper_unit_cents: 1\nper_unit_mile_cents: -1\n", 3, "per_unit_mile_cents",
     "greater than or equal to 0"),
    ("model: linear\nfixed_cost: 5\n", 2, "fixed_cost", "Extra inputs"),
    ("model: zones\n", 1, "model", "must be 'linear' or 'rate-table'"),
    ("model: rate-table\ncost_model: {services: []}\n", 2, "cost_model.services", "at least 1 item"),
    ("model: linear\n  bad: [\n", 2, None, "not YAML/JSON"),
])
def test_a_bad_cost_file_names_the_line_and_the_field(
    tmp_path: Path, text: str, line: int, field: str | None, message: str
) -> None:
    path = write(tmp_path, "costs.yaml", text)

    with pytest.raises(InputError) as caught:
        read_cost_file(path)

    assert (caught.value.line, caught.value.field) == (line, field)
    assert message in caught.value.message


def test_a_rate_table_cost_file_may_name_omniroutes_cost_model_and_catalogue_files(tmp_path: Path) -> None:
    (tmp_path / "model.yaml").write_text(demo_cost_model_path().read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "catalog.csv").write_text(demo_catalog_path().read_text(encoding="utf-8"), encoding="utf-8")
    path = write(tmp_path, "costs.yaml", "model: rate-table\ncost_model: model.yaml\ncatalog: catalog.csv\n"
                                         "service_level: two_day\n")
    cost = read_cost_file(path)
    assert isinstance(cost, RateTableCostFile) and cost.service_level is ServiceLevel.TWO_DAY
    nodes = [SimNode(node_id="dc-a", point=GeoPoint(latitude=41.88, longitude=-87.63))]
    order = SimOrder(order_id="o1", destination=GeoPoint(latitude=40.71, longitude=-74.0),
                     lines=(SimLine(sku="MUG", quantity=1),))

    problem = make_pricer(cost, nodes).problem(order, {"dc-a": {"MUG": 4}}, {})

    (candidate,) = problem.candidates
    assert candidate.delivery_date is not None and candidate.shipment_cost > 0 and candidate.atp == {"MUG": 4}

    missing = write(tmp_path, "missing.yaml", "model: rate-table\ncost_model: nowhere.yaml\n")
    with pytest.raises(InputError, match=r"line 2, field cost_model: .*cannot be read"):
        read_cost_file(missing)
