"""The demo's data files: valid nodes, real postal codes, SKUs and stock that refer to each other."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import zipcodes

from models.network import Node, NodeKind
from omniroute.demo.network import DemoDataError, default_data_dir, load_network


def test_every_node_in_the_data_file_is_a_valid_node() -> None:
    raw = json.loads((default_data_dir() / "nodes.json").read_text(encoding="utf-8"))

    nodes = [Node.model_validate(item) for item in raw]

    assert 9 <= len(nodes) <= 11
    assert all(n.postal_code and n.city and n.region for n in nodes)


def test_the_network_has_dcs_stores_and_a_3pl() -> None:
    kinds = Counter(node.kind for node in load_network().nodes)

    assert 3 <= kinds[NodeKind.DC] <= 4
    assert 4 <= kinds[NodeKind.STORE] <= 5
    assert kinds[NodeKind.THREE_PL] == 1


def test_node_postal_codes_are_real_and_match_city_region_and_coordinates() -> None:
    for node in load_network().nodes:
        match = zipcodes.matching(node.postal_code or "")
        assert match, f"{node.node_id}: {node.postal_code} is not a US ZIP"
        assert (match[0]["city"], match[0]["state"]) == (node.city, node.region)
        assert node.latitude == pytest.approx(float(match[0]["lat"]), abs=0.01)
        assert node.longitude == pytest.approx(float(match[0]["long"]), abs=0.01)


def test_customer_postal_codes_resolve_across_the_country() -> None:
    ship_to = load_network().ship_to

    for where in ship_to:
        match = zipcodes.matching(where.postal_code)
        assert match and match[0]["state"] == where.region, where
    assert len({where.region for where in ship_to}) >= 30


def test_there_are_fifty_skus_with_positive_prices_and_weights() -> None:
    skus = load_network().skus

    assert len(skus) == 50
    assert all(s.price_cents > 0 and s.weight_oz > 0 for s in skus)


def test_stock_refers_to_known_nodes_and_skus_and_every_sku_is_stocked() -> None:
    network = load_network()

    assert {row.sku for row in network.inventory} == {s.sku for s in network.skus}
    assert {row.node_id for row in network.inventory} <= {n.node_id for n in network.nodes}


def test_some_skus_are_scarce_and_some_are_stocked_at_a_single_node() -> None:
    network = load_network()

    assert any(network.network_on_hand(s.sku) <= 3 for s in network.skus)
    assert any(len(network.nodes_stocking(s.sku)) == 1 for s in network.skus)


def test_stock_naming_an_unknown_node_is_refused_with_the_file_named(tmp_path: Path) -> None:
    source = default_data_dir()
    for name in ("nodes.json", "skus.csv", "customers.csv"):
        (tmp_path / name).write_text((source / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "inventory.csv").write_text("node_id,sku,on_hand\nnowhere,TEE-CREW-BLK,3\n", encoding="utf-8")

    with pytest.raises(DemoDataError, match="inventory.csv: unknown node_id 'nowhere'"):
        load_network(tmp_path)


def test_a_negative_count_is_refused_with_file_line_and_column(tmp_path: Path) -> None:
    source = default_data_dir()
    for name in ("nodes.json", "skus.csv", "customers.csv"):
        (tmp_path / name).write_text((source / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "inventory.csv").write_text("node_id,sku,on_hand\ndc-edison-nj,TEE-CREW-BLK,-1\n", encoding="utf-8")

    with pytest.raises(DemoDataError, match="inventory.csv line 2: on_hand must not be negative"):
        load_network(tmp_path)


def test_the_dropship_vendor_takes_signed_pos_and_carries_skus_few_others_stock() -> None:
    network = load_network()
    [vendor] = [node for node in network.nodes if node.kind is NodeKind.DROPSHIP]

    assert vendor.provider is not None and vendor.provider.provider == "omniroute-po"
    assert vendor.sla is not None and vendor.sla.accept_minutes == 1
    carried = [row.sku for row in network.inventory if row.node_id == vendor.node_id and row.on_hand > 0]
    assert carried and all(len(network.nodes_stocking(sku)) <= 2 for sku in carried)
