"""Property: any sequence of ledger operations keeps positions equal to the ledger replayed.

SQLite only (one database for the whole property; every example uses its own node and SKU names).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.inventory import ReservationItem, ReservationState
from store import Store
from tests.fixtures.db import a_node

NODES = ("a", "b")
SKUS = ("x", "y")
KEYS = tuple(f"k{i}" for i in range(6))

node_names = st.sampled_from(NODES)
sku_names = st.sampled_from(SKUS)
keys = st.sampled_from(KEYS)


@dataclass(frozen=True)
class Count:
    node: str
    sku: str
    on_hand: int


@dataclass(frozen=True)
class SafetyStock:
    node: str
    sku: str
    units: int


@dataclass(frozen=True)
class Reserve:
    items: tuple[tuple[str, str, str, int], ...]  # (key, node, sku, quantity)


@dataclass(frozen=True)
class Commit:
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Release:
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Restock:
    node: str
    sku: str
    quantity: int
    key: str


Operation = Count | SafetyStock | Reserve | Commit | Release | Restock

operations = st.one_of(
    st.builds(Count, node_names, sku_names, st.integers(0, 8)),
    st.builds(SafetyStock, node_names, sku_names, st.integers(0, 3)),
    st.builds(
        Reserve, st.lists(st.tuples(keys, node_names, sku_names, st.integers(1, 4)), min_size=1, max_size=3).map(tuple)
    ),
    st.builds(Commit, st.lists(keys, min_size=1, max_size=2).map(tuple)),
    st.builds(Release, st.lists(keys, min_size=1, max_size=2).map(tuple)),
    st.builds(Restock, node_names, sku_names, st.integers(1, 3), st.sampled_from(("r1", "r2"))),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(operations, min_size=1, max_size=14))
def test_positions_always_equal_the_replayed_ledger(sqlite_store: Store, steps: list[Operation]) -> None:
    run = uuid.uuid4().hex[:8]
    node_id = {name: f"{run}-{name}" for name in NODES}
    sku = {name: f"{run}-{name}" for name in SKUS}
    key = {name: f"{run}-{name}" for name in (*KEYS, "r1", "r2")}
    order_id = f"order-{run}"
    for name in NODES:
        sqlite_store.upsert_node(a_node(node_id[name]))

    for step in steps:
        match step:
            case Count(node, item_sku, on_hand):
                sqlite_store.set_on_hand(node_id[node], sku[item_sku], on_hand, source="wms")
            case SafetyStock(node, item_sku, units):
                sqlite_store.set_safety_stock(node_id[node], sku[item_sku], units, source="planner")
            case Reserve(items):
                reservation = [
                    ReservationItem(key=key[k], node_id=node_id[n], sku=sku[s], quantity=q) for k, n, s, q in items
                ]
                sqlite_store.reserve(reservation, order_id=order_id, expires_at=None, source="order")
            case Commit(commit_keys):
                sqlite_store.commit([key[k] for k in commit_keys], source="ship")
            case Release(release_keys):
                sqlite_store.release([key[k] for k in release_keys], source="cancel", reason="cancelled")
            case Restock(node, item_sku, quantity, restock_key):
                sqlite_store.restock(
                    node_id[node], sku[item_sku], quantity, key=key[restock_key], source="returns", reason="A"
                )

    positions = sqlite_store.positions(list(sku.values()))
    as_tuples = {(p.node_id, p.sku): (p.on_hand, p.reserved) for p in positions}
    replayed = {k: v for k, v in sqlite_store.replay_positions().items() if k[1] in sku.values()}
    assert as_tuples == replayed
    assert all(p.on_hand >= 0 and p.reserved >= 0 and p.atp >= 0 for p in positions)

    active: dict[tuple[str, str], int] = defaultdict(int)
    for view in sqlite_store.reservations(order_id):
        if view.state is ReservationState.ACTIVE:
            active[(view.node_id, view.sku)] += view.quantity
    assert {k: reserved for k, (_, reserved) in as_tuples.items() if reserved} == dict(active)
