"""The store's side of the audit trail: who each ledger movement names, the versions a migration keeps,
and the audit log's filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command

from models.audit import SYSTEM, Actor, ActorRole, AuditEntryIn, AuditFilter, AuditKind
from models.inventory import MovementKind, ReservationItem
from models.keys import Role
from omniroute.files.cost_files import demo_cost_model_path, load_cost_model
from store import Store, upgrade_database
from store.engine import create_store_engine
from store.migrate import alembic_config
from tests.fixtures.db import a_node

WMS = Actor.key("k1", Role.NODE)


def test_each_movement_names_the_key_the_workflow_or_the_system_behind_it(store: Store) -> None:
    store.upsert_node(a_node("dc-a"))
    store.set_on_hand("dc-a", "MUG-1", 10, source="wms", actor=WMS)
    store.reserve([ReservationItem(key="web-1-S1:MUG-1", node_id="dc-a", sku="MUG-1", quantity=2),
                   ReservationItem(key="web-1-S2:MUG-1", node_id="dc-a", sku="MUG-1", quantity=1)],
                  order_id="web-1", expires_at=None, source="order:web-1")
    store.commit(["web-1-S1:MUG-1"], source="shipment")
    store.release(["web-1-S2:MUG-1"], source="sweep", reason="reservation expired")
    store.restock("dc-a", "MUG-1", 1, key="RMA-1:MUG-1", source="return:RMA-1", reason="return restock")

    actors = [(m.kind, m.actor) for m in store.ledger(node_id="dc-a")]

    order = Actor.workflow("order-web-1")
    assert actors == [
        (MovementKind.COUNT, WMS),
        (MovementKind.RESERVE, order), (MovementKind.RESERVE, order),
        (MovementKind.COMMIT, order), (MovementKind.RELEASE, order),
        (MovementKind.RETURN_RESTOCK, Actor.workflow("return-RMA-1")),
    ]
    assert [m.kind for m in store.order_movements("web-1")] == [
        MovementKind.RESERVE, MovementKind.RESERVE, MovementKind.COMMIT, MovementKind.RELEASE]


def test_an_orders_movements_include_a_short_pick_written_off(store: Store) -> None:
    store.upsert_node(a_node("dc-a"))
    store.set_on_hand("dc-a", "MUG-1", 5, source="test")
    store.reserve([ReservationItem(key="web-2-S1:MUG-1", node_id="dc-a", sku="MUG-1", quantity=3)],
                  order_id="web-2", expires_at=None, source="order:web-2")
    store.short_pick("web-2-S1:MUG-1", 2, source="short pick", reason="2 of SKU MUG-1 not found")

    [reserve, short] = store.order_movements("web-2")
    assert (reserve.kind, short.kind) == (MovementKind.RESERVE, MovementKind.SHORT_PICK)
    assert (short.on_hand_delta, short.reserved_delta, short.reason) == (-2, -2, "2 of SKU MUG-1 not found")


def test_a_feed_without_a_key_names_the_system(store: Store) -> None:
    store.upsert_node(a_node("dc-a"))
    store.set_on_hand("dc-a", "MUG-1", 3, source="shipbob")

    assert [m.actor for m in store.ledger(node_id="dc-a")] == [SYSTEM]


def test_the_audit_log_filters_by_actor_role_kind_order_and_time(store: Store) -> None:
    admin = Actor.key("a1", Role.ADMIN)
    entries = [
        store.record_audit(AuditEntryIn(kind=AuditKind.NODE_PUT, subject="dc-a", actor=admin)),
        store.record_audit(AuditEntryIn(kind=AuditKind.INVENTORY_COUNT, subject="dc-a", actor=WMS,
                                        detail={"sku": "MUG-1", "on_hand": 3})),
        store.record_audit(AuditEntryIn(kind=AuditKind.ORDER_CANCEL, subject="web-1", actor=admin,
                                        order_id="web-1", detail={"lines": [1]})),
    ]
    later = entries[-1].at + timedelta(seconds=1)

    def ids(**wanted: object) -> list[int]:
        return [entry.id for entry in store.audit_entries(AuditFilter.model_validate(wanted))]

    assert ids() == [entries[2].id, entries[1].id, entries[0].id]
    assert ids(actor_id="k1") == [entries[1].id]
    assert ids(role=ActorRole.ADMIN, kind=AuditKind.NODE_PUT) == [entries[0].id]
    assert ids(order_id="web-1") == [entries[2].id]
    assert ids(since=entries[1].at) == [entries[2].id, entries[1].id]
    assert ids(until=entries[1].at) == [entries[0].id]
    assert ids(since=later) == []
    assert store.audit_entries(AuditFilter(), before_id=entries[2].id, limit=1)[0].detail == {
        "sku": "MUG-1", "on_hand": 3}


def test_the_migration_keeps_the_documents_in_force_as_their_first_kept_versions(unmigrated_database_url: str) -> None:
    command.upgrade(alembic_config(unmigrated_database_url), "0005")
    engine = create_store_engine(unmigrated_database_url)
    document = load_cost_model(demo_cost_model_path()).model_dump(mode="json")
    stored_at = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO sourcing_documents (name, document, version, updated_at) "
                        "VALUES ('cost_model', :document, 4, :at), ('shadow_prices', '{}', 9, :at)")
                .bindparams(sa.bindparam("document", type_=sa.JSON), sa.bindparam("at", type_=sa.DateTime(True))),
                {"document": document, "at": stored_at},
            )
    finally:
        engine.dispose()
    upgrade_database(unmigrated_database_url)
    store = Store.connect(unmigrated_database_url)
    try:
        [kept] = store.cost_model_versions()
        assert (kept.version, kept.created_at, kept.actor) == (4, stored_at, SYSTEM)
        assert store.cost_model_at(4) == load_cost_model(demo_cost_model_path())
        assert store.rules_versions() == []
        assert store.set_cost_model(load_cost_model(demo_cost_model_path()), actor=WMS) == 5
        assert [v.version for v in store.cost_model_versions()] == [5, 4]
    finally:
        store.dispose()
