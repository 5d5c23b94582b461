"""Who may do what at the gateway: the authorisation matrix (every route x every role, and no key),
isolation between channels and between nodes, key creation, listing and revocation, the rate limit,
and the bootstrap key.

The matrix calls each route with in-scope parameters (the channel key's own channel, the node key's
own node) and checks only the answer of authorisation: 401 without a valid key, 403 for a role the
route does not admit, and anything else (200, 404, 422, 503...) for a role it admits. A route missing
from EXPECTED fails the test, so a new route must say who may call it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from gateway.app import create_app
from models.keys import KeyCreate, Role
from models.records import ShipmentRecord
from models.shipment import ShipmentLine, ShipmentState
from omniroute.config.settings import Settings
from store import Store
from tests.fixtures.db import a_node
from tests.fixtures.gateway import (
    ADMIN_TOKEN,
    a_node_body,
    bearer,
    closed_port_address,
    gateway_app,
    http_to,
    unreachable_temporal,
)
from tests.fixtures.orders import an_order

CHANNEL, OTHER_CHANNEL = "web", "market"
NODE, OTHER_NODE = "dc-1", "dc-2"
SKU = "SKU-1"
SUBSCRIPTION = "sub_0123456789abcdef"

PUBLIC = frozenset({"public"})
# No API key: the sender's signature decides (gateway/signatures.py), so unsigned calls are a 401 whatever the key.
SIGNED = frozenset({"signed by the sender"})
ADMIN_ONLY = frozenset({Role.ADMIN})
OPERATORS = frozenset({Role.OPERATOR, Role.ADMIN})
CHANNELS = frozenset({Role.CHANNEL, Role.ADMIN})
CHANNELS_AND_OPERATORS = frozenset({Role.CHANNEL, Role.OPERATOR, Role.ADMIN})
NODES = frozenset({Role.NODE, Role.ADMIN})
NODES_AND_OPERATORS = frozenset({Role.NODE, Role.OPERATOR, Role.ADMIN})

# (method, path as the app declares it) -> the roles it admits; the concrete path the test calls.
EXPECTED: dict[tuple[str, str], tuple[frozenset[object], str]] = {
    ("GET", "/healthz"): (PUBLIC, "/healthz"),
    ("POST", "/v1/keys"): (ADMIN_ONLY, "/v1/keys"),
    ("GET", "/v1/keys"): (ADMIN_ONLY, "/v1/keys"),
    ("DELETE", "/v1/keys/{key_id}"): (ADMIN_ONLY, "/v1/keys/abc"),
    ("PUT", "/v1/nodes/{node_id}"): (ADMIN_ONLY, f"/v1/nodes/{NODE}"),
    ("GET", "/v1/nodes"): (NODES_AND_OPERATORS, "/v1/nodes"),
    ("GET", "/v1/nodes/{node_id}"): (NODES_AND_OPERATORS, f"/v1/nodes/{NODE}"),
    ("GET", "/v1/nodes/{node_id}/shipments"): (NODES_AND_OPERATORS, f"/v1/nodes/{NODE}/shipments"),
    ("POST", "/v1/nodes/{node_id}/shipments/{shipment_id}/ack"): (
        NODES, f"/v1/nodes/{NODE}/shipments/{CHANNEL}-1-S1/ack"),
    ("PUT", "/v1/inventory/{node_id}/{sku}"): (NODES, f"/v1/inventory/{NODE}/{SKU}"),
    ("POST", "/v1/inventory:batch"): (NODES, "/v1/inventory:batch"),
    ("GET", "/v1/availability"): (CHANNELS_AND_OPERATORS, f"/v1/availability?sku={SKU}"),
    ("POST", "/v1/availability:batch"): (CHANNELS_AND_OPERATORS, "/v1/availability:batch"),
    ("GET", "/v1/safety-stock/defaults"): (OPERATORS, "/v1/safety-stock/defaults"),
    ("PUT", "/v1/safety-stock/defaults"): (ADMIN_ONLY, "/v1/safety-stock/defaults"),
    ("PUT", "/v1/channels/{channel}/allocation"): (ADMIN_ONLY, f"/v1/channels/{CHANNEL}/allocation"),
    ("GET", "/v1/channels/{channel}/allocation"): (CHANNELS_AND_OPERATORS, f"/v1/channels/{CHANNEL}/allocation"),
    ("DELETE", "/v1/channels/{channel}/allocation"): (ADMIN_ONLY, f"/v1/channels/{CHANNEL}/allocation"),
    ("POST", "/v1/orders"): (CHANNELS, "/v1/orders"),
    ("GET", "/v1/orders"): (CHANNELS_AND_OPERATORS, "/v1/orders"),
    ("GET", "/v1/orders/{order_id}"): (CHANNELS_AND_OPERATORS, f"/v1/orders/{CHANNEL}-1"),
    ("POST", "/v1/orders/{order_id}/cancel"): (CHANNELS_AND_OPERATORS, f"/v1/orders/{CHANNEL}-1/cancel"),
    ("POST", "/v1/orders/{order_id}/release"): (OPERATORS, f"/v1/orders/{CHANNEL}-1/release"),
    ("POST", "/v1/orders/{order_id}/shipments/{shipment_id}/reroute"): (
        OPERATORS, f"/v1/orders/{CHANNEL}-1/shipments/{CHANNEL}-1-S1/reroute"),
    ("POST", "/v1/orders/{order_id}/shipments/{shipment_id}/unlock-pickup"): (
        OPERATORS, f"/v1/orders/{CHANNEL}-1/shipments/{CHANNEL}-1-S1/unlock-pickup"),
    ("POST", "/v1/shipments/{shipment_id}/events"): (NODES, f"/v1/shipments/{CHANNEL}-1-S1/events"),
    ("POST", "/v1/returns"): (CHANNELS_AND_OPERATORS, "/v1/returns"),
    ("GET", "/v1/returns/{rma}"): (CHANNELS_AND_OPERATORS, "/v1/returns/RMA-1"),
    ("POST", "/v1/returns/{rma}/events"): (NODES_AND_OPERATORS, "/v1/returns/RMA-1/events"),
    ("PUT", "/v1/sourcing/cost-model"): (ADMIN_ONLY, "/v1/sourcing/cost-model"),
    ("GET", "/v1/sourcing/cost-model"): (OPERATORS, "/v1/sourcing/cost-model"),
    ("PUT", "/v1/sourcing/rules"): (ADMIN_ONLY, "/v1/sourcing/rules"),
    ("GET", "/v1/sourcing/rules"): (OPERATORS, "/v1/sourcing/rules"),
    ("GET", "/v1/sourcing/shadow-prices"): (OPERATORS, "/v1/sourcing/shadow-prices"),
    ("PUT", "/v1/catalog/skus"): (ADMIN_ONLY, "/v1/catalog/skus"),
    ("GET", "/v1/catalog/skus/{sku}"): (CHANNELS_AND_OPERATORS, f"/v1/catalog/skus/{SKU}"),
    ("GET", "/v1/orders/{order_id}/timeline"): (CHANNELS_AND_OPERATORS, f"/v1/orders/{CHANNEL}-1/timeline"),
    ("GET", "/v1/audit"): (OPERATORS, "/v1/audit"),
    ("GET", "/v1/sourcing/cost-model/versions"): (OPERATORS, "/v1/sourcing/cost-model/versions"),
    ("GET", "/v1/sourcing/cost-model/versions/{version}"): (OPERATORS, "/v1/sourcing/cost-model/versions/1"),
    ("GET", "/v1/sourcing/rules/versions"): (OPERATORS, "/v1/sourcing/rules/versions"),
    ("GET", "/v1/sourcing/rules/versions/{version}"): (OPERATORS, "/v1/sourcing/rules/versions/1"),
    ("GET", "/v1/promise"): (CHANNELS_AND_OPERATORS, f"/v1/promise?postal_code=60601&item={SKU}"),
    ("POST", "/v1/subscriptions"): (ADMIN_ONLY, "/v1/subscriptions"),
    ("GET", "/v1/subscriptions"): (OPERATORS, "/v1/subscriptions"),
    ("GET", "/v1/subscriptions/{subscription_id}"): (OPERATORS, f"/v1/subscriptions/{SUBSCRIPTION}"),
    ("PATCH", "/v1/subscriptions/{subscription_id}"): (ADMIN_ONLY, f"/v1/subscriptions/{SUBSCRIPTION}"),
    ("DELETE", "/v1/subscriptions/{subscription_id}"): (ADMIN_ONLY, f"/v1/subscriptions/{SUBSCRIPTION}"),
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries"): (
        OPERATORS, f"/v1/subscriptions/{SUBSCRIPTION}/deliveries"),
    ("POST", "/v1/subscriptions/{subscription_id}/deliveries/{delivery_id}/replay"): (
        OPERATORS, f"/v1/subscriptions/{SUBSCRIPTION}/deliveries/dlv_{'0' * 32}/replay"),
    ("POST", "/codec/decode"): (OPERATORS, "/codec/decode"),
    ("POST", "/codec/encode"): (OPERATORS, "/codec/encode"),
    ("POST", "/webhooks/shipbob"): (SIGNED, "/webhooks/shipbob"),
    ("POST", "/webhooks/easypost"): (SIGNED, "/webhooks/easypost"),
    ("POST", "/webhooks/shopify/{channel}"): (SIGNED, "/webhooks/shopify/web"),
    ("POST", "/webhooks/sendgrid"): (SIGNED, "/webhooks/sendgrid"),
}
CALLERS = ("no key", "unknown key", "revoked key", *Role)


class Gateway:
    """A gateway on a migrated SQLite store with Temporal out of reach, and a key of each role."""

    def __init__(self, store: Store, app_http: httpx.AsyncClient, app: object) -> None:
        self.store, self.http, self.app = store, app_http, app
        self.tokens: dict[object, str] = {}
        self.key_ids: dict[object, str] = {}
        scopes = {Role.CHANNEL: {"channels": [CHANNEL]}, Role.NODE: {"nodes": [NODE]}}
        for role in Role:
            created = store.create_key(KeyCreate(name=f"test {role.value}", role=role, **scopes.get(role, {})))
            self.tokens[role], self.key_ids[role] = created.token, created.key_id
        revoked = store.create_key(KeyCreate(name="revoked", role=Role.ADMIN))
        store.revoke_key(revoked.key_id)
        self.tokens["revoked key"] = revoked.token
        self.tokens["unknown key"] = "omr_0123456789abcdef_" + "x" * 43

    async def call(self, method: str, path: str, caller: object, **kwargs: object) -> httpx.Response:
        headers = bearer(self.tokens[caller]) if caller in self.tokens else {}
        return await self.http.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def gateway(sqlite_store: Store) -> AsyncIterator[Gateway]:
    for node_id in (NODE, OTHER_NODE):
        sqlite_store.upsert_node(a_node(node_id))
    app = gateway_app(sqlite_store, await unreachable_temporal())
    async with http_to(app, token=None) as http:
        yield Gateway(sqlite_store, http, app)


def test_every_route_says_who_may_call_it(gateway: Gateway) -> None:
    paths = gateway.app.openapi()["paths"]  # type: ignore[attr-defined]
    declared = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert declared == set(EXPECTED)


@pytest.mark.parametrize("caller", CALLERS, ids=str)
async def test_each_route_admits_exactly_its_roles(gateway: Gateway, caller: object) -> None:
    wrong: list[str] = []
    for (method, _), (admitted, path) in EXPECTED.items():
        body: dict[str, object] | None = {} if method in ("POST", "PUT") else None
        response = await gateway.call(method, path, caller, json=body)
        expected_ok = admitted == PUBLIC or caller in admitted
        if admitted == SIGNED:
            if response.status_code != 401:
                wrong.append(f"{method} {path}: {response.status_code} unsigned, expected 401")
        elif caller in ("no key", "unknown key", "revoked key") and admitted != PUBLIC:
            if response.status_code != 401 or response.headers.get("www-authenticate") != "Bearer":
                wrong.append(f"{method} {path}: {response.status_code}, expected 401")
        elif not expected_ok:
            if response.status_code != 403:
                wrong.append(f"{method} {path}: {response.status_code}, expected 403")
            elif "needs a key with role" not in response.json()["detail"]:
                wrong.append(f"{method} {path}: the 403 does not name the role needed")
        elif response.status_code in (401, 403, 429) or response.status_code >= 500 and response.status_code != 503:
            wrong.append(f"{method} {path}: {response.status_code} for an admitted role: {response.text[:200]}")
    assert wrong == []


async def test_a_403_names_the_roles_the_route_needs(gateway: Gateway) -> None:
    response = await gateway.call("PUT", "/v1/sourcing/rules", Role.OPERATOR, json={})

    assert response.status_code == 403
    assert response.json()["detail"] == "this route needs a key with role admin; this key's role is operator"


async def test_the_openapi_declares_the_bearer_scheme_and_every_v1_operation_uses_it(gateway: Gateway) -> None:
    document = (await gateway.http.get("/openapi.json")).json()

    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http", "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["ApiKey"]["description"]}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith(("/v1", "/codec")):
                assert operation.get("security") == [{"ApiKey": []}], f"{method} {path}"
                assert {"401", "403", "413", "429"} <= set(operation["responses"]), f"{method} {path}"
            elif path.startswith("/webhooks"):
                scheme = {"/webhooks/shipbob": "ShipBobSignature", "/webhooks/easypost": "EasyPostSignature",
                          "/webhooks/shopify/{channel}": "ShopifySignature",
                          "/webhooks/sendgrid": "SendGridSignature"}[path]
                assert operation.get("security") == [{scheme: []}], f"{method} {path}"
                assert {"401", "413"} <= set(operation["responses"]), f"{method} {path}"
            else:
                assert "security" not in operation, f"{method} {path}"
    assert (await gateway.http.get("/docs")).status_code == 200


async def test_a_token_of_another_scheme_is_a_401(gateway: Gateway) -> None:
    response = await gateway.http.get("/v1/nodes", headers={"Authorization": f"Basic {ADMIN_TOKEN}"})

    assert response.status_code == 401


# -- channels --------------------------------------------------------------------------------------


async def test_a_channel_key_does_not_see_another_channels_order(gateway: Gateway) -> None:
    # Temporal is out of reach: an order of the key's own channel gets as far as the SDK (503); another
    # channel's order is a 404 before anything is asked, worded as for an order that does not exist.
    own = await gateway.call("GET", f"/v1/orders/{CHANNEL}-1", Role.CHANNEL)
    other = await gateway.call("GET", f"/v1/orders/{OTHER_CHANNEL}-1", Role.CHANNEL)
    cancel = await gateway.call("POST", f"/v1/orders/{OTHER_CHANNEL}-1/cancel", Role.CHANNEL, json={})
    operator = await gateway.call("GET", f"/v1/orders/{OTHER_CHANNEL}-1", Role.OPERATOR)

    assert own.status_code == 503
    assert other.status_code == 404
    assert other.json() == {"detail": f"unknown order '{OTHER_CHANNEL}-1'"}
    assert cancel.status_code == 404
    assert operator.status_code == 503


async def test_a_channel_key_places_orders_for_its_own_channels_only(gateway: Gateway) -> None:
    order = an_order((SKU, 1), channel=OTHER_CHANNEL).model_dump(mode="json")

    other = await gateway.call("POST", "/v1/orders", Role.CHANNEL, json=order)
    own = await gateway.call("POST", "/v1/orders", Role.CHANNEL, json=order | {"channel": CHANNEL})

    assert other.status_code == 403
    assert OTHER_CHANNEL in other.json()["detail"]
    assert own.status_code == 503  # admitted: it reached the SDK


async def test_a_channel_key_starts_returns_of_its_own_orders_only(gateway: Gateway) -> None:
    request = {"rma": "RMA-9", "order_id": f"{OTHER_CHANNEL}-1", "lines": [{"sku": SKU, "quantity": 1}]}

    other = await gateway.call("POST", "/v1/returns", Role.CHANNEL, json=request)
    own = await gateway.call("POST", "/v1/returns", Role.CHANNEL, json=request | {"order_id": f"{CHANNEL}-1"})

    assert other.status_code == 404
    assert own.status_code == 503


async def test_a_channel_key_sees_availability_as_its_allocation_shows_it(gateway: Gateway) -> None:
    for node_id in (NODE, OTHER_NODE):
        gateway.store.set_on_hand(node_id, SKU, 10, source="count")
    hide = {"hidden_nodes": [OTHER_NODE]}
    assert (await gateway.call("PUT", f"/v1/channels/{CHANNEL}/allocation", Role.ADMIN, json=hide)).status_code == 200

    own_view = await gateway.call("GET", f"/v1/availability?sku={SKU}", Role.CHANNEL)
    network = await gateway.call("GET", f"/v1/availability?sku={SKU}", Role.OPERATOR)
    other = await gateway.call("GET", f"/v1/availability?sku={SKU}&channel={OTHER_CHANNEL}", Role.CHANNEL)
    batch = await gateway.call("POST", "/v1/availability:batch", Role.CHANNEL, json={"skus": [SKU]})

    assert own_view.status_code == 200
    assert own_view.json()["channel"] == CHANNEL
    assert [node["node_id"] for node in own_view.json()["nodes"]] == [NODE]
    assert own_view.json()["total_atp"] == 10
    assert network.json()["total_atp"] == 20
    assert other.status_code == 403
    assert batch.json()["channel"] == CHANNEL
    assert batch.json()["items"][0]["total_atp"] == 10


async def test_a_channel_key_reads_its_own_allocation_only(gateway: Gateway) -> None:
    for channel in (CHANNEL, OTHER_CHANNEL):
        response = await gateway.call("PUT", f"/v1/channels/{channel}/allocation", Role.ADMIN, json={"percent": 50})
        assert response.status_code == 200

    assert (await gateway.call("GET", f"/v1/channels/{CHANNEL}/allocation", Role.CHANNEL)).status_code == 200
    assert (await gateway.call("GET", f"/v1/channels/{OTHER_CHANNEL}/allocation", Role.CHANNEL)).status_code == 404


# -- nodes -----------------------------------------------------------------------------------------


async def test_a_node_key_counts_stock_at_its_own_nodes_only(gateway: Gateway) -> None:
    own = await gateway.call("PUT", f"/v1/inventory/{NODE}/{SKU}", Role.NODE, json={"on_hand": 5})
    other = await gateway.call("PUT", f"/v1/inventory/{OTHER_NODE}/{SKU}", Role.NODE, json={"on_hand": 5})
    mixed = await gateway.call("POST", "/v1/inventory:batch", Role.NODE, json={"items": [
        {"node_id": NODE, "sku": SKU, "delta": 3, "kind": "receipt", "key": "r-1", "source": "wms"},
        {"node_id": OTHER_NODE, "sku": SKU, "delta": 3, "kind": "receipt", "key": "r-2", "source": "wms"},
    ]})

    assert own.status_code == 200
    assert other.status_code == 403
    assert OTHER_NODE in other.json()["detail"]
    assert mixed.status_code == 403
    positions = {p.node_id: p.on_hand for p in gateway.store.positions([SKU])}
    assert positions.get(NODE) == 5  # nothing of the batch applied
    assert positions.get(OTHER_NODE, 0) == 0


async def test_a_node_key_moves_its_own_nodes_shipments_only(gateway: Gateway) -> None:
    for shipment_id, node_id in ((f"{CHANNEL}-1-S1", NODE), (f"{CHANNEL}-1-S2", OTHER_NODE)):
        gateway.store.record_shipment(ShipmentRecord(
            shipment_id=shipment_id, order_id=f"{CHANNEL}-1", node_id=node_id, state=ShipmentState.RELEASED,
            lines=[ShipmentLine(line_no=1, sku=SKU, quantity=1)]))
    event = {"type": "picked", "event_id": "e-1"}

    own = await gateway.call("POST", f"/v1/shipments/{CHANNEL}-1-S1/events", Role.NODE, json=event)
    other = await gateway.call("POST", f"/v1/shipments/{CHANNEL}-1-S2/events", Role.NODE, json=event)
    unknown = await gateway.call("POST", f"/v1/shipments/{CHANNEL}-9-S1/events", Role.NODE, json=event)

    assert own.status_code == 503  # admitted: it reached the SDK
    assert other.status_code == 404
    assert unknown.status_code == 404
    # The same answer as for a shipment that does not exist.
    assert other.json() == {"detail": f"unknown shipment '{CHANNEL}-1-S2'"}
    assert unknown.json() == {"detail": f"unknown shipment '{CHANNEL}-9-S1'"}


async def test_a_node_key_lists_and_reads_its_own_nodes_only(gateway: Gateway) -> None:
    listed = await gateway.call("GET", "/v1/nodes", Role.NODE)
    other = await gateway.call("GET", f"/v1/nodes/{OTHER_NODE}", Role.NODE)

    assert [node["node_id"] for node in listed.json()] == [NODE]
    assert other.status_code == 404


# -- keys ------------------------------------------------------------------------------------------


async def test_a_key_made_over_the_api_works_once_shown_and_stops_when_revoked(gateway: Gateway) -> None:
    created = await gateway.call("POST", "/v1/keys", Role.ADMIN,
                                 json={"name": "web shop", "role": "channel", "channels": [CHANNEL]})
    assert created.status_code == 201
    key_id, token = created.json()["key_id"], created.json()["token"]
    assert token.startswith(f"omr_{key_id}_")

    allowed = await gateway.http.get(f"/v1/channels/{CHANNEL}/allocation", headers=bearer(token))
    listed = await gateway.call("GET", "/v1/keys", Role.ADMIN)
    revoked = await gateway.call("DELETE", f"/v1/keys/{key_id}", Role.ADMIN)
    after = await gateway.http.get(f"/v1/channels/{CHANNEL}/allocation", headers=bearer(token))

    assert allowed.status_code == 404  # admitted: the channel has no rule
    entry = next(item for item in listed.json() if item["key_id"] == key_id)
    assert entry["name"] == "web shop" and entry["channels"] == [CHANNEL]
    assert entry["last_used_at"] is not None
    assert "token" not in entry and token not in listed.text
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert after.status_code == 401
    assert key_id not in [item["key_id"] for item in (await gateway.call("GET", "/v1/keys", Role.ADMIN)).json()]


async def test_only_a_hash_of_the_token_is_kept(gateway: Gateway) -> None:
    token = gateway.tokens[Role.CHANNEL]
    secret = token.split("_", 2)[2]
    with gateway.store.engine.connect() as connection:
        rows = [tuple(str(value) for value in row) for row in connection.execute(sa.text("SELECT * FROM api_keys"))]

    assert rows
    assert not any(secret in value for row in rows for value in row)


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "role": "channel"}, "channels"),
    ({"name": "x", "role": "node", "nodes": []}, "nodes"),
    ({"name": "x", "role": "admin", "channels": [CHANNEL]}, "channels"),
    ({"name": "x", "role": "owner"}, "role"),
])
async def test_a_key_with_a_scope_that_does_not_fit_its_role_is_a_422_naming_it(
    gateway: Gateway, body: dict[str, object], field: str
) -> None:
    response = await gateway.call("POST", "/v1/keys", Role.ADMIN, json=body)

    assert response.status_code == 422
    assert field in response.text


async def test_revoking_an_unknown_key_is_a_404(gateway: Gateway) -> None:
    assert (await gateway.call("DELETE", "/v1/keys/abc123", Role.ADMIN)).status_code == 404


# -- rate limit and bootstrap ----------------------------------------------------------------------


async def test_a_key_over_its_rate_is_a_429_with_retry_after(sqlite_store: Store) -> None:
    app = gateway_app(sqlite_store, await unreachable_temporal(), rate_limit_per_second=0.5, rate_limit_burst=2)
    key = sqlite_store.create_key(KeyCreate(name="busy", role=Role.OPERATOR))
    async with http_to(app, key.token) as http:
        first, second, third = [await http.get("/v1/nodes") for _ in range(3)]
        other_key = await http.get("/v1/nodes", headers=bearer(ADMIN_TOKEN))

    assert (first.status_code, second.status_code) == (200, 200)
    assert third.status_code == 429
    assert 1 <= int(third.headers["Retry-After"]) <= 2
    assert other_key.status_code == 200  # the limit is per key


async def test_outside_development_the_gateway_will_not_start_without_an_admin_key(
    sqlite_url: str, tmp_path: Path
) -> None:
    production = {"database_url": sqlite_url, "temporal_address": closed_port_address(), "data_dir": tmp_path,
                  "environment": "production", "easypost_api_key": "live-key", "easypost_base_url": "https://e.test",
                  "sendgrid_api_key": "live-key", "sendgrid_base_url": "https://s.test",
                  "codec_keys": '{"k1": "' + "A" * 43 + '="}'}
    app = create_app(Settings(**production))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="OMNIROUTE_BOOTSTRAP_ADMIN_KEY"):
        async with app.router.lifespan_context(app):
            pass

    boot = "omr_boot_" + "b" * 43
    bootstrapped = create_app(Settings(**production, bootstrap_admin_key=boot))  # type: ignore[arg-type]
    async with bootstrapped.router.lifespan_context(bootstrapped), http_to(bootstrapped, boot) as http:
        made = await http.post("/v1/keys", json={"name": "first admin", "role": "admin"})
    assert made.status_code == 201

    store = Store.connect(sqlite_url)
    try:
        assert store.has_active_admin_key()
    finally:
        store.dispose()
    with_admin_in_db = create_app(Settings(**production))  # type: ignore[arg-type]
    async with with_admin_in_db.router.lifespan_context(with_admin_in_db), http_to(
            with_admin_in_db, made.json()["token"]) as http:
        assert (await http.get("/v1/nodes")).status_code == 200


async def test_health_and_docs_need_no_key(gateway: Gateway) -> None:
    assert (await gateway.http.get("/openapi.json")).status_code == 200
    assert (await gateway.http.get("/healthz")).status_code in (200, 503)
    assert (await gateway.http.put(f"/v1/nodes/{NODE}", json=a_node_body())).status_code == 401
