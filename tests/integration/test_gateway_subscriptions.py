"""Event subscriptions through the gateway (a migrated SQLite store, Temporal out of reach: these routes never
need it): the secret shown once and kept sealed, validation naming the field, changes, the log and replay."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa

from models.events import DeliveryState
from omniroute.config.codec_keys import DEV_KEY_RING
from omniroute.config.sealed_secrets import SealedSecretError, open_sealed
from store import Store
from tests.fixtures.events import an_order
from tests.fixtures.gateway import field_locs, gateway_app, http_to, unreachable_temporal


@pytest.fixture
async def gateway(sqlite_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with http_to(gateway_app(sqlite_store, await unreachable_temporal())) as http:
        yield http


async def create(http: httpx.AsyncClient, **body: object) -> httpx.Response:
    return await http.post("/v1/subscriptions", json={"url": "https://erp.example.com/hooks",
                                                      "event_types": ["order.accepted"]} | body)


async def test_a_subscription_shows_its_secret_once_and_keeps_it_sealed(
        gateway: httpx.AsyncClient, sqlite_store: Store) -> None:
    created = await create(gateway, description="ERP")
    assert created.status_code == 201, created.text
    body = created.json()
    subscription_id, secret = body["subscription_id"], body["secret"]

    listed = await gateway.get("/v1/subscriptions")
    one = await gateway.get(f"/v1/subscriptions/{subscription_id}")

    assert secret.startswith("whsec_")
    assert body["enabled"] is True and body["event_types"] == ["order.accepted"]
    assert [s["subscription_id"] for s in listed.json()] == [subscription_id]
    assert "secret" not in one.json() and "secret" not in listed.json()[0]
    with sqlite_store.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT secret_sealed FROM event_subscriptions")).scalar_one()
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert open_sealed(DEV_KEY_RING, subscription_id, stored) == secret
    with pytest.raises(SealedSecretError):
        open_sealed(DEV_KEY_RING, "sub_someoneelse00", stored)


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "ftp://erp.example.com/hooks"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"event_types": ["order.shipped"]}, "event_types"),
    ({"event_types": []}, "event_types"),
    ({"extra": 1}, "extra"),
    ({"description": "ERP\x00"}, "description"),
])
async def test_a_bad_subscription_is_a_422_naming_the_field(gateway: httpx.AsyncClient, body: dict[str, object],
                                                            field: str) -> None:
    response = await create(gateway, **body)

    assert response.status_code == 422
    assert field in [loc[1] for loc in field_locs(response)]


async def test_a_subscription_is_changed_disabled_and_deleted(gateway: httpx.AsyncClient) -> None:
    subscription_id = (await create(gateway)).json()["subscription_id"]

    changed = await gateway.patch(f"/v1/subscriptions/{subscription_id}", json={
        "url": "http://erp.example.com/v2", "event_types": ["shipment.shipped", "refund.issued"], "enabled": False})
    bad = await gateway.patch(f"/v1/subscriptions/{subscription_id}", json={"event_types": ["nope"]})
    deleted = await gateway.delete(f"/v1/subscriptions/{subscription_id}")

    assert changed.status_code == 200
    assert (changed.json()["url"], changed.json()["event_types"], changed.json()["enabled"]) == (
        "http://erp.example.com/v2", ["shipment.shipped", "refund.issued"], False)
    assert bad.status_code == 422 and "event_types" in [loc[1] for loc in field_locs(bad)]
    assert deleted.status_code == 204
    assert (await gateway.get(f"/v1/subscriptions/{subscription_id}")).status_code == 404
    assert (await gateway.delete(f"/v1/subscriptions/{subscription_id}")).status_code == 404


async def test_the_log_lists_deliveries_newest_first_and_a_replay_is_a_new_pending_delivery(
        gateway: httpx.AsyncClient, sqlite_store: Store) -> None:
    subscription_id = (await create(gateway)).json()["subscription_id"]
    for n in range(3):
        sqlite_store.record_order(an_order(f"web-300{n}"))
    sqlite_store.fan_out_events()

    first = await gateway.get(f"/v1/subscriptions/{subscription_id}/deliveries", params={"limit": 2})
    rest = await gateway.get(f"/v1/subscriptions/{subscription_id}/deliveries",
                             params={"limit": 2, "before": first.json()["next_before"]})
    original = rest.json()["deliveries"][0]
    replay = await gateway.post(f"/v1/subscriptions/{subscription_id}/deliveries/{original['delivery_id']}/replay")
    unknown = await gateway.post(f"/v1/subscriptions/{subscription_id}/deliveries/dlv_{'0' * 32}/replay")
    newest = await gateway.get(f"/v1/subscriptions/{subscription_id}/deliveries", params={"limit": 1})

    assert [len(first.json()["deliveries"]), len(rest.json()["deliveries"])] == [2, 1]
    assert rest.json()["next_before"] is None
    assert replay.status_code == 202
    assert (replay.json()["event_id"], replay.json()["replay_of"], replay.json()["state"]) == (
        original["event_id"], original["delivery_id"], DeliveryState.PENDING.value)
    assert newest.json()["deliveries"][0]["delivery_id"] == replay.json()["delivery_id"]
    assert unknown.status_code == 404
