"""The EasyPost sandbox's trackers and their event webhooks, over real HTTP, with the official SDK's
webhook validator (easypost.util.validate_webhook) as the judge of our signatures."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from easypost.errors import SignatureVerificationError
from easypost.util import validate_webhook
from fastapi import FastAPI, Request

from integrations.carriers.easypost import EasyPostClient, Parcel
from integrations.carriers.sandbox import create_easypost_sandbox
from integrations.carriers.sandbox_trackers import DELIVERY_WORKERS, TrackerBook, TrackingPlan, WebhookIn
from integrations.carriers.tracking import sign
from integrations.sandbox import SandboxServer
from integrations.sandbox_store import SandboxStore
from models.address import Address
from tests.fixtures.eventually import eventually

pytestmark = pytest.mark.conformance

KEY = "EZTK-trackers-test"
# Not in NFKD form (a composed é and the "fi" ligature): EasyPost normalises the secret before keying.
SECRET = "caf\u00e9-\ufb01nal-secret"
CUSTOMER = Address(name="Ada Lovelace", line1="179 N Harbor Dr", city="Redondo Beach", region="CA",
                   postal_code="90277")
DC = Address(name="Chicago DC", line1="2200 S Halsted St", city="Chicago", region="IL", postal_code="60608")


@dataclass
class Receiver:
    """A webhook endpoint that keeps every delivery (raw body and headers)."""

    url: str = ""
    deliveries: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for body, _ in self.deliveries]

    def statuses(self, tracking_code: str) -> list[str]:
        return [e["result"]["status"] for e in self.events() if e["result"]["tracking_code"] == tracking_code]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    kept = Receiver()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> dict[str, str]:
        with kept.lock:
            kept.deliveries.append((await request.body(), dict(request.headers)))
        return {}

    with SandboxServer(app) as server:
        kept.url = f"{server.url}/hook"
        yield kept


@pytest.fixture
def carrier(receiver: Receiver) -> Iterator[str]:
    """An EasyPost sandbox of its own (its plan is this test's), with the receiver registered."""
    app = create_easypost_sandbox(KEY, webhooks=[WebhookIn(url=receiver.url, webhook_secret=SECRET)])
    with SandboxServer(app) as server:
        yield server.url
        httpx.delete(f"{server.url}/_sandbox/tracking", timeout=5)


def buy_label(base_url: str) -> tuple[str, str]:
    """A label bought through our EasyPost client: (tracking code, the tracker id the purchase answered)."""
    with EasyPostClient(base_url, KEY) as client:
        shipment = client.create_shipment(to_address=CUSTOMER, from_address=DC,
                                          parcel=Parcel(length=10, width=8, height=4, weight=20),
                                          reference=f"trk-{uuid.uuid4().hex[:8]}")
        bought = client.buy(shipment.id, shipment.rates[0].id)
    raw = httpx.get(f"{base_url}/shipments/{shipment.id}", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert bought.tracking_code == raw["tracking_code"]
    return raw["tracking_code"], raw["tracker"]["id"]


def put_plan(base_url: str, **plan: object) -> None:
    httpx.put(f"{base_url}/_sandbox/tracking", json=plan, timeout=5).raise_for_status()


def tracking_stats(base_url: str) -> dict[str, int]:
    return dict(httpx.get(f"{base_url}/_sandbox/tracking/stats", timeout=5).json())


def advance(base_url: str, code: str, status: str | None = None) -> dict[str, Any]:
    body = None if status is None else {"status": status}
    response = httpx.post(f"{base_url}/_sandbox/trackers/{code}/advance", json=body, timeout=5)
    response.raise_for_status()
    return dict(response.json())


def test_our_signature_is_the_one_the_sdk_validates() -> None:
    body = json.dumps({"id": "evt_1", "object": "Event", "description": "tracker.updated"}).encode()

    assert validate_webhook(body, {"X-Hmac-Signature": sign(body, SECRET)}, SECRET)["id"] == "evt_1"
    with pytest.raises(SignatureVerificationError):
        validate_webhook(body, {"X-Hmac-Signature": sign(body, "another secret")}, SECRET)
    with pytest.raises(SignatureVerificationError):
        validate_webhook(body + b" ", {"X-Hmac-Signature": sign(body, SECRET)}, SECRET)


def test_a_bought_label_has_a_tracker_and_post_trackers_finds_or_makes_one(carrier: str) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    code, tracker_id = buy_label(carrier)

    tracker = httpx.get(f"{carrier}/trackers/{tracker_id}", headers=auth).json()
    again = httpx.post(f"{carrier}/trackers", json={"tracker": {"tracking_code": code}}, headers=auth)
    test_code = httpx.post(f"{carrier}/trackers", json={"tracker": {"tracking_code": "EZ4000000004",
                                                                    "carrier": "USPS"}}, headers=auth)
    missing = httpx.post(f"{carrier}/trackers", json={"tracker": {}}, headers=auth)

    assert tracker["object"] == "Tracker" and tracker["tracking_code"] == code
    assert tracker["status"] == "pre_transit" and tracker["tracking_details"][0]["status"] == "pre_transit"
    assert again.json()["id"] == tracker_id
    assert test_code.json()["status"] == "delivered"
    assert missing.status_code == 422
    assert missing.json()["error"]["errors"][0]["field"] == "tracker.tracking_code"


async def test_a_tracker_walks_to_delivered_posting_signed_events_in_order(carrier: str, receiver: Receiver) -> None:
    put_plan(carrier, step_s=0.05)
    code, _ = buy_label(carrier)

    await eventually(lambda: receiver.statuses(code) == ["in_transit", "out_for_delivery", "delivered"],
                     "the three events of the tracker")
    for body, headers in receiver.deliveries:
        event = validate_webhook(body, {"X-Hmac-Signature": headers["x-hmac-signature"]}, SECRET)
        assert event["object"] == "Event" and event["description"] == "tracker.updated"
        assert event["id"].startswith("evt_") and event["result"]["object"] == "Tracker"
    delivered = receiver.events()[-1]
    assert delivered["previous_attributes"] == {"status": "out_for_delivery"}
    assert [d["status"] for d in delivered["result"]["tracking_details"]] == [
        "pre_transit", "in_transit", "out_for_delivery", "delivered"]


async def test_knobs_inject_an_exception_drop_a_status_and_send_twice(carrier: str, receiver: Receiver) -> None:
    put_plan(carrier, step_s=0.05, exception="failure", exception_every=2, drop=["in_transit"], duplicate=True)
    plain, _ = buy_label(carrier)
    failing, _ = buy_label(carrier)

    await eventually(lambda: receiver.statuses(failing).count("delivered") == 2, "the second tracker delivered")
    await eventually(lambda: receiver.statuses(plain).count("delivered") == 2, "the first tracker delivered")
    assert receiver.statuses(plain) == ["out_for_delivery", "out_for_delivery", "delivered", "delivered"]
    assert receiver.statuses(failing) == [status for status in
                                          ["out_for_delivery", "failure", "out_for_delivery", "delivered"]
                                          for _ in range(2)]
    ids = [event["id"] for event in receiver.events()]
    assert all(ids.count(event_id) == 2 for event_id in ids)
    stats = tracking_stats(carrier)
    assert stats["exceptions"] == 1 and stats["webhooks_dropped"] == 2


async def test_without_a_step_a_tracker_moves_only_when_advanced(carrier: str, receiver: Receiver) -> None:
    code, tracker_id = buy_label(carrier)

    moved = advance(carrier, code)
    forced = advance(carrier, code, "return_to_sender")

    assert moved["status"] == "in_transit" and moved["id"] == tracker_id
    assert forced["status"] == "return_to_sender" and forced["finalized"] is True
    await eventually(lambda: receiver.statuses(code) == ["in_transit", "return_to_sender"])
    assert tracking_stats(carrier)["pending"] == 0


@dataclass
class SlowHook:
    """A webhook receiver called in the sender's thread: the first two deliveries wait for each other (so
    two must be in flight at once), every tracker's first event fails once, and a tracker with two
    deliveries in flight at once is noted."""

    meet: threading.Barrier = field(default_factory=lambda: threading.Barrier(2, timeout=10))
    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: int = 0
    in_flight: dict[str, int] = field(default_factory=dict)
    overlapped: set[str] = field(default_factory=set)
    failed_once: set[str] = field(default_factory=set)
    delivered: dict[str, list[str]] = field(default_factory=dict)

    def seen(self) -> dict[str, list[str]]:
        with self.lock:
            return {code: list(statuses) for code, statuses in self.delivered.items() if len(statuses) == 3}

    def __call__(self, url: str, body: bytes, secret: str | None) -> None:
        tracker = json.loads(body)["result"]
        code, status = tracker["tracking_code"], tracker["status"]
        with self.lock:
            self.calls += 1
            first_two = self.calls <= 2
            self.in_flight[code] = self.in_flight.get(code, 0) + 1
            if self.in_flight[code] > 1:
                self.overlapped.add(code)
        try:
            if first_two:
                self.meet.wait()
            with self.lock:
                if code not in self.failed_once:
                    self.failed_once.add(code)
                    raise httpx.ConnectError("the receiver is not up yet")
                self.delivered.setdefault(code, []).append(status)
        finally:
            with self.lock:
                self.in_flight[code] -= 1


async def test_webhooks_go_out_from_a_pool_and_each_trackers_events_stay_in_order() -> None:
    hook = SlowHook()
    book = TrackerBook(SandboxStore(None), TrackingPlan(step_s=0), send=hook)
    book.add_webhook(WebhookIn(url="http://receiver.invalid/hook", webhook_secret=SECRET))
    codes = [f"EZ{uuid.uuid4().hex[:12].upper()}" for _ in range(3 * DELIVERY_WORKERS)]
    for code in codes:
        book.create(code, "USPS")

    path = ["in_transit", "out_for_delivery", "delivered"]
    await eventually(lambda: book.stats()["pending"] == 0 and len(hook.seen()) == len(codes), "every tracker's events")
    assert hook.seen() == dict.fromkeys(codes, path), "a retried first event was overtaken by its tracker's next one"
    assert hook.overlapped == set(), "two events of one tracker were sent at once"
    assert not hook.meet.broken, "the first two deliveries never were in flight together"
    stats = book.stats()
    assert (stats["webhooks_sent"], stats["webhooks_failed"]) == (3 * len(codes), len(codes))
