"""The sourcing configuration the store keeps: SKU attributes, the cost model and the rule set."""

from __future__ import annotations

import pytest

from models.catalog import SkuAttributes
from omniroute.files.cost_files import demo_catalog_path, demo_cost_model_path, load_catalog, load_cost_model
from omniroute.files.rule_files import load_rules
from store import Store

DEMO_RULES = "omniroute/demo/data/rules.yaml"


def test_nothing_is_configured_on_a_new_database(store: Store) -> None:
    assert store.cost_model() is None
    assert store.rules() is None
    assert store.sourcing_versions() == {}
    assert store.catalog().skus == {}


def test_the_demo_cost_model_and_rules_come_back_equal_and_versioned(store: Store) -> None:
    model = load_cost_model(demo_cost_model_path())
    rules = load_rules(DEMO_RULES)

    assert store.set_cost_model(model) == 1
    assert store.set_rules(rules) == 1
    assert store.set_cost_model(model) == 2

    assert store.cost_model() == (model, 2)
    assert store.rules() == (rules, 1)
    assert store.sourcing_versions() == {"cost_model": 2, "rules": 1}


def test_sku_attributes_are_inserted_then_replaced(store: Store) -> None:
    demo = load_catalog(demo_catalog_path())
    assert store.upsert_skus(list(demo.skus.values())) == len(demo.skus)
    first = next(iter(demo.skus))
    heavier = SkuAttributes(sku=first, weight_lb=9.5, length_in=1, width_in=2, height_in=3, tags=["oversize"])

    store.upsert_skus([heavier])

    catalog = store.catalog([first, "NOT-IN-CATALOG"])
    assert catalog.skus == {first: heavier}
    assert catalog.get("NOT-IN-CATALOG").weight_lb == catalog.default_weight_lb
    assert len(store.catalog().skus) == len(demo.skus)


def test_an_unknown_document_name_is_refused(store: Store) -> None:
    from store.engine import Database
    from store.sourcing_config import SourcingConfigRepository

    with pytest.raises(ValueError, match="unknown sourcing document 'pricing'"):
        SourcingConfigRepository(Database(store.engine)).put_document("pricing", {})
