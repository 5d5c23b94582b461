"""The ShipBob order client against the ShipBob sandbox over real HTTP (there is no official Python SDK
to use as an oracle), and the sandbox's webhooks checked against the signature ShipBob documents,
computed here by hand (HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the decoded secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from integrations.http import PermanentProviderError, RetryPolicy
from integrations.sandbox import SandboxServer
from integrations.threepl.sandbox import DEV_WEBHOOK_SECRET, create_shipbob_sandbox
from integrations.threepl.shipbob import ShipBobClient
from integrations.threepl.shipbob_orders import NewShipBobOrder, ShipBobAddress, ShipBobProduct, ShipBobRecipient
from tests.fixtures.eventually import eventually

TOKEN = "shipbob-test-token"
SECRET = "whsec_" + base64.b64encode(b"a test secret of 24 bytes!").decode()


@dataclass
class Receiver:
    """An HTTP endpoint that keeps every POST it gets (raw body and headers), answering `status`."""

    url: str = ""
    status: int = 200
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return list(self.got)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        body = await request.body()
        with found.lock:
            found.got.append((dict(request.headers), body))
        return Response(status_code=found.status)

    with SandboxServer(app) as server:
        found.url = f"{server.url}/hook"
        yield found


@pytest.fixture
def shipbob(receiver: Receiver) -> Iterator[str]:
    app = create_shipbob_sandbox(TOKEN, webhook_secret=SECRET)
    with SandboxServer(app) as server:
        httpx.post(f"{server.url}/2026-07/webhook", json={"topics": ["order.shipped", "order.shipment.cancelled",
                                                                      "order.shipment.delivered"],
                                                           "url": receiver.url},
                   headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).raise_for_status()
        yield server.url


def an_order(reference: str | None = None, quantity: int = 2) -> NewShipBobOrder:
    return NewShipBobOrder(
        reference_id=reference or f"web-{uuid.uuid4().hex[:8]}-S1", shipping_method="Standard",
        recipient=ShipBobRecipient(name="Ada Lovelace", email="ada@example.com", address=ShipBobAddress(
            address1="1 Main St", city="Chicago", state="IL", country="US", zip_code="60601")),
        products=[ShipBobProduct(reference_id="SKU-1", name="SKU-1", quantity=quantity, external_line_id="1")])


def ship(sandbox_url: str, order_id: int) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/orders/{order_id}/ship", timeout=5).raise_for_status()


def set_knobs(sandbox_url: str, **knobs: object) -> None:
    httpx.put(f"{sandbox_url}/_sandbox/orders/knobs", json=knobs, timeout=5).raise_for_status()


def webhook_log(sandbox_url: str) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = httpx.get(f"{sandbox_url}/_sandbox/webhooks", timeout=5).json()
    return log


def signature_by_hand(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_an_order_is_created_by_reference_and_a_retried_create_finds_it_instead_of_a_second(shipbob: str) -> None:
    order = an_order()
    with ShipBobClient(shipbob, TOKEN) as client:
        first, created = client.create_order(order)
        again, created_again = client.create_order(order)
        found = client.find_order(order.reference_id)
        read = client.get_order(first.id)
    assert (created, created_again) == (True, False)
    assert again.id == first.id == read.id and found is not None and found.id == first.id
    assert read.reference_id == order.reference_id and read.status == "Processing"
    everything = httpx.get(f"{shipbob}/_sandbox/orders", timeout=5).json()
    assert [o["reference_id"] for o in everything] == [order.reference_id]
    assert everything[0]["products"] == [{"reference_id": "SKU-1", "name": "SKU-1", "quantity": 2,
                                          "external_line_id": "1"}]


def test_a_create_missing_a_field_is_refused_naming_it(shipbob: str) -> None:
    body = an_order().model_dump(mode="json")
    del body["recipient"]["address"]["city"]
    with ShipBobClient(shipbob, TOKEN) as client:
        channel = client.channel_id()
    response = httpx.post(f"{shipbob}/2026-07/order", json=body, timeout=5,
                          headers={"Authorization": f"Bearer {TOKEN}", "shipbob_channel_id": channel})
    assert response.status_code == 400
    assert list(response.json()) == ["recipient.address.city"]
    no_channel = httpx.post(f"{shipbob}/2026-07/order", json=an_order().model_dump(mode="json"), timeout=5,
                            headers={"Authorization": f"Bearer {TOKEN}"})
    assert no_channel.status_code == 400 and "shipbob_channel_id" in no_channel.json()


def test_a_cancel_before_shipping_cancels_and_one_after_shipping_is_refused(shipbob: str) -> None:
    with ShipBobClient(shipbob, TOKEN) as client:
        early, _ = client.create_order(an_order())
        late, _ = client.create_order(an_order())
        ship(shipbob, late.id)
        cancelled = client.cancel_order(early.id)
        refused = client.cancel_order(late.id)
        after = client.get_order(late.id)
    assert cancelled.cancelled and cancelled.order.status == "Cancelled"
    assert not refused.cancelled and refused.refusal == "The shipment has already shipped."
    assert after.status == "Fulfilled" and after.shipments[0].tracking is not None


def test_the_refuse_cancel_knob_refuses_a_cancel_of_an_order_that_has_not_shipped(shipbob: str) -> None:
    set_knobs(shipbob, refuse_cancel=True)
    with ShipBobClient(shipbob, TOKEN) as client:
        order, _ = client.create_order(an_order())
        answer = client.cancel_order(order.id)
    assert not answer.cancelled and "being packed" in (answer.refusal or "")


async def test_webhooks_carry_the_documented_standard_webhooks_signature_over_the_exact_body(
        shipbob: str, receiver: Receiver) -> None:
    with ShipBobClient(shipbob, TOKEN) as client:
        order, _ = client.create_order(an_order())
    ship(shipbob, order.id)

    [(headers, body)] = await eventually(receiver.received, what="the order.shipped webhook")
    assert headers["x-webhook-topic"] == "order.shipped"
    assert headers["webhook-id"].startswith("msg_")
    assert headers["webhook-signature"] == signature_by_hand(SECRET, headers["webhook-id"],
                                                             headers["webhook-timestamp"], body)
    assert headers["webhook-signature"] != signature_by_hand(DEV_WEBHOOK_SECRET, headers["webhook-id"],
                                                             headers["webhook-timestamp"], body)
    payload: dict[str, Any] = httpx.Response(200, content=body).json()
    assert payload["reference_id"] == order.reference_id and payload["order_id"] == order.id
    assert payload["tracking"]["carrier"] == "USPS" and payload["tracking"]["tracking_id"]


async def test_a_webhook_not_acknowledged_is_sent_again_under_the_same_id(shipbob: str, receiver: Receiver) -> None:
    receiver.status = 503
    set_knobs(shipbob, retry_delays_seconds=[0.05, 0.05])
    with ShipBobClient(shipbob, TOKEN) as client:
        order, _ = client.create_order(an_order())
    ship(shipbob, order.id)

    tries = await eventually(lambda: receiver.received() if len(receiver.received()) == 3 else None,
                       what="the first delivery and its two retries")
    assert len({headers["webhook-id"] for headers, _ in tries}) == 1


async def test_the_drop_and_duplicate_knobs_lose_or_repeat_a_delivery(shipbob: str, receiver: Receiver) -> None:
    set_knobs(shipbob, drop_next=1)
    with ShipBobClient(shipbob, TOKEN) as client:
        dropped, _ = client.create_order(an_order())
        doubled, _ = client.create_order(an_order())
    ship(shipbob, dropped.id)
    set_knobs(shipbob, duplicate=True)
    ship(shipbob, doubled.id)

    got = await eventually(lambda: receiver.received() if len(receiver.received()) == 2 else None,
                     what="the duplicated delivery")
    assert {headers["webhook-id"] for headers, _ in got} == {got[0][0]["webhook-id"]}
    dropped_log = [entry["status"] for entry in webhook_log(shipbob) if entry["payload"]["order_id"] == dropped.id]
    assert dropped_log == ["dropped"]


def test_order_calls_count_against_the_rate_limit_and_a_long_wait_is_raised(shipbob: str) -> None:
    httpx.put(f"{shipbob}/_sandbox/rate-limit", json={"limit": 2, "window_seconds": 60}, timeout=5)
    with ShipBobClient(shipbob, TOKEN, channel_id="100101", retry=RetryPolicy(max_retries=1, max_wait=1)) as client:
        client.create_order(an_order())
        client.create_order(an_order())
        with pytest.raises(Exception) as caught:
            client.create_order(an_order())
    assert getattr(caught.value, "retry_after", None) is not None and caught.value.retry_after > 1


def test_a_bad_token_is_a_permanent_refusal(shipbob: str) -> None:
    with ShipBobClient(shipbob, "wrong") as client, pytest.raises(PermanentProviderError) as caught:
        client.create_order(an_order())
    assert caught.value.status == 401
