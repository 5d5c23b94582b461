"""POST /webhooks/shipbob at the gateway: only a delivery signed with the ShipBob secret gets past the
signature check, and nothing moves otherwise; what a signed delivery cannot apply is a 2xx saying why
(ShipBob would retry anything else for days); Temporal out of reach is the one 503. The move itself,
the replay of a repeated delivery and the cancel answers run end to end in
tests/workflow/test_threepl_fulfilment.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from models.audit import AuditFilter
from models.network import Node, NodeKind, ProviderSettings
from models.records import ShipmentRecord
from models.shipment import ShipmentLine, ShipmentState
from omniroute.config.settings import Settings
from store import Store
from tests.fixtures.gateway import gateway_app, http_to, unreachable_temporal
from tests.fixtures.network import add_node

SECRET = Settings(environment="test").partner_secret("shipbob-webhooks")
SHIPMENT = "web-hook1-S1"


def signed(body: bytes, *, secret: str = SECRET, message_id: str = "msg_1", at: datetime | None = None,
           topic: str = "order.shipped") -> dict[str, str]:
    when = at or datetime.now(UTC)
    return {"content-type": "application/json", "webhook-id": message_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, when, body), "x-webhook-topic": topic}


def shipped(reference: str = SHIPMENT) -> bytes:
    return json.dumps({"event_time": "2026-12-05T10:00:00Z", "order_id": 100000001, "reference_id": reference,
                       "status": "Completed", "tracking": {"carrier": "USPS", "tracking_id": "9400111"}}).encode()


@pytest.fixture
async def gateway(sqlite_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    add_node(sqlite_store, "3pl-tn", "38118", kind=NodeKind.THREE_PL)
    sqlite_store.record_shipment(ShipmentRecord(
        shipment_id=SHIPMENT, order_id="web-hook1", node_id="3pl-tn", state=ShipmentState.RELEASED,
        lines=[ShipmentLine(line_no=1, sku="SKU-1", quantity=1)], currency="USD"))
    async with http_to(gateway_app(sqlite_store, await unreachable_temporal()), token=None) as http:
        yield http


@pytest.mark.parametrize("headers", [
    pytest.param(lambda body: {"content-type": "application/json"}, id="no signature"),
    pytest.param(lambda body: signed(body, secret="whsec_" + "QUJD" * 8), id="another secret"),
    pytest.param(lambda body: signed(body, at=datetime.now(UTC) - timedelta(minutes=6)), id="too old"),
    pytest.param(lambda body: signed(body + b" "), id="body changed after signing"),
])
async def test_a_delivery_without_a_valid_signature_is_a_401_and_moves_nothing(
        gateway: httpx.AsyncClient, sqlite_store: Store, headers: object) -> None:
    body = shipped()
    response = await gateway.post("/webhooks/shipbob", content=body, headers=headers(body))  # type: ignore[operator]

    assert response.status_code == 401
    assert "webhook-signature" in response.json()["detail"]
    assert sqlite_store.audit_entries(AuditFilter(subject=SHIPMENT)) == []


async def test_a_signed_delivery_reaches_temporal_and_is_a_503_to_retry_when_it_is_out_of_reach(
        gateway: httpx.AsyncClient) -> None:
    body = shipped()
    response = await gateway.post("/webhooks/shipbob", content=body, headers=signed(body))

    assert response.status_code == 503


async def test_an_order_that_is_not_one_of_our_3pl_shipments_is_acknowledged_and_ignored(
        gateway: httpx.AsyncClient) -> None:
    body = shipped(reference="made-by-another-system")
    response = await gateway.post("/webhooks/shipbob", content=body, headers=signed(body))

    assert response.status_code == 200
    assert response.json()["applied"] is False
    assert "not a shipment from a 3PL node" in response.json()["note"]


async def test_a_topic_that_moves_nothing_is_acknowledged(gateway: httpx.AsyncClient) -> None:
    body = shipped()
    response = await gateway.post("/webhooks/shipbob", content=body,
                                  headers=signed(body, topic="order.shipment.on_hold"))

    assert response.status_code == 200
    assert response.json() == {"webhook_id": "msg_1", "topic": "order.shipment.on_hold", "shipment_id": SHIPMENT,
                               "applied": False, "replay": False,
                               "note": "topic order.shipment.on_hold (Completed) moves nothing"}


async def test_a_signed_body_without_a_reference_is_a_422_naming_it(gateway: httpx.AsyncClient) -> None:
    body = json.dumps({"order_id": 1, "status": "Completed"}).encode()
    response = await gateway.post("/webhooks/shipbob", content=body, headers=signed(body))

    assert response.status_code == 422
    assert ["body", "reference_id"] in [error["loc"] for error in response.json()["detail"]]


ACCOUNT_A = "shipbob-east-webhooks"
ACCOUNT_B = "shipbob-west-webhooks"


def _secret(name: str) -> str:
    return Settings(environment="test").partner_secret(name)


@pytest.fixture
async def two_accounts(sqlite_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """Three 3PL nodes: two ShipBob accounts with webhook secrets of their own, one on the deployment's."""
    for node_id, ref in (("3pl-east", ACCOUNT_A), ("3pl-west", ACCOUNT_B), ("3pl-tn", None)):
        sqlite_store.upsert_node(Node(
            node_id=node_id, name=node_id.upper(), kind=NodeKind.THREE_PL, postal_code="38118",
            provider=ProviderSettings(provider="shipbob", credentials_ref=f"{node_id}-token", webhook_secret_ref=ref)))
        sqlite_store.record_shipment(ShipmentRecord(
            shipment_id=f"web-{node_id}-S1", order_id=f"web-{node_id}", node_id=node_id, state=ShipmentState.RELEASED,
            lines=[ShipmentLine(line_no=1, sku="SKU-1", quantity=1)], currency="USD"))
    async with http_to(gateway_app(sqlite_store, await unreachable_temporal()), token=None) as http:
        yield http


@pytest.mark.parametrize(("node_id", "signed_with", "expected"), [
    pytest.param("3pl-east", ACCOUNT_A, 503, id="its own account's secret: verified (then Temporal is out of reach)"),
    pytest.param("3pl-east", ACCOUNT_B, 401, id="another account's secret"),
    pytest.param("3pl-east", "shipbob-webhooks", 401, id="the deployment's secret, the node naming its own"),
    pytest.param("3pl-tn", "shipbob-webhooks", 503, id="a node naming none: the deployment's secret"),
    pytest.param("3pl-tn", ACCOUNT_A, 401, id="a node naming none, signed with an account's secret"),
])
async def test_a_delivery_is_verified_with_the_secret_of_the_node_its_order_belongs_to(
        two_accounts: httpx.AsyncClient, sqlite_store: Store, node_id: str, signed_with: str, expected: int) -> None:
    shipment_id = f"web-{node_id}-S1"
    body = shipped(reference=shipment_id)

    headers = signed(body, secret=_secret(signed_with))
    response = await two_accounts.post("/webhooks/shipbob", content=body, headers=headers)

    assert response.status_code == expected, response.text
    if expected == 401:
        assert "webhook-signature" in response.json()["detail"]
        assert sqlite_store.audit_entries(AuditFilter(subject=shipment_id)) == []
        assert sqlite_store.get_shipment(shipment_id).state is ShipmentState.RELEASED  # type: ignore[union-attr]


async def test_a_body_naming_no_shipment_of_ours_is_verified_with_the_deployments_secret(
        two_accounts: httpx.AsyncClient) -> None:
    body = shipped(reference="made-by-another-system")
    assert (await two_accounts.post("/webhooks/shipbob", content=body,
                                    headers=signed(body, secret=_secret(ACCOUNT_A)))).status_code == 401
    response = await two_accounts.post("/webhooks/shipbob", content=body, headers=signed(body))
    assert response.status_code == 200 and response.json()["applied"] is False
