"""POST /webhooks/sendgrid through an in-process gateway on a SQLite store: events the SendGrid sandbox builds
for a message our notify activity sent (its custom args and categories), signed as the sandbox signs them,
are recorded on the order's timeline once per sg_event_id; a bad or missing signature records nothing;
events for no message of ours are ignored. Temporal is out of reach: the timeline answers from the DB."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from integrations.notify.sandbox_events import EventDesk
from models.audit import AuditFilter, AuditKind
from models.notify import MessageChannel, NotificationKind
from models.order import OrderStatus
from models.records import OrderRecord
from models.sendgrid_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, new_signing_key, sign_events
from models.timeline import TimelineKind
from store import Store
from store.message_ledger import MessageState
from tests.fixtures.gateway import SENDGRID_EVENT_KEY, gateway_app, http_to, unreachable_temporal
from tests.fixtures.orders import an_order

Json = dict[str, Any]


@dataclass
class Mail:
    """One shipped-notice e-mail our notify activity sent about an order, as the ledger and SendGrid know it."""

    order_id: str
    key: str
    message: Json


@pytest.fixture
async def http(sqlite_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with http_to(gateway_app(sqlite_store, await unreachable_temporal())) as client:
        yield client


@pytest.fixture
async def desk() -> EventDesk:
    """The SendGrid sandbox's event desk, signing with the tests' key, every event type it makes switched on
    through SendGrid's settings endpoint as the sandbox serves it."""
    desk = EventDesk(SENDGRID_EVENT_KEY)
    app = FastAPI()
    app.include_router(desk.router())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sendgrid") as client:
        flags = {"enabled": True, "url": "http://gateway/webhooks/sendgrid", "processed": True, "delivered": True,
                 "bounce": True, "dropped": True}
        assert (await client.patch("/v3/user/webhooks/event/settings", json=flags)).status_code == 200
    return desk


@pytest.fixture
def mail(sqlite_store: Store) -> Mail:
    order = an_order(("MUG-1", 1))
    now = datetime.now(UTC)
    assert sqlite_store.record_order(OrderRecord(
        order_id=order.order_id, workflow_id=f"order-{order.order_id}", channel=order.channel,
        channel_order_id=order.channel_order_id, status=OrderStatus.SHIPPED, currency="USD",
        customer=order.customer, ship_to=order.ship_to, lines=order.lines, created_at=now))
    key = f"notify-{uuid.uuid4().hex}"
    kind = NotificationKind.SHIPPED.value
    assert sqlite_store.begin_message(key, MessageChannel.EMAIL.value, kind=kind, recipient="digest",
                                      language="en", now=now) is None
    sqlite_store.finish_message(key, MessageChannel.EMAIL.value, MessageState.SENT, now=now,
                                provider_message_id="msg-1")
    # What activities/notify.py hands SendGrid: the kind as the category, reference/kind/message_key as custom args.
    message = {"message_id": uuid.uuid4().hex, "categories": [kind],
               "custom_args": {"reference": order.order_id, "kind": kind, "message_key": key}}
    return Mail(order.order_id, key, message)


def signed(events: list[Json], *, key: Any = SENDGRID_EVENT_KEY) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(events).encode()
    return body, {"Content-Type": "application/json", **sign_events(key, body, str(int(time.time())))}


async def post(http: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await http.post("/webhooks/sendgrid", content=body, headers=headers)


async def test_delivered_and_bounced_mail_shows_on_the_orders_timeline(
        http: httpx.AsyncClient, sqlite_store: Store, desk: EventDesk, mail: Mail) -> None:
    events = desk.events(mail.message, {"ada@example.com": "delivered", "bob@example.com": "bounce"})
    assert [e["event"] for e in events] == ["processed", "delivered", "processed", "bounce"]

    response = await post(http, *signed(events))

    assert response.status_code == 200, response.text
    assert response.json() == {"recorded": 2, "ignored": 2, "replays": 0}
    timeline = await http.get(f"/v1/orders/{mail.order_id}/timeline")
    assert timeline.status_code == 200, timeline.text
    messages = [e for e in timeline.json()["events"] if e["kind"] == TimelineKind.MESSAGE.value]
    assert [e["summary"] for e in messages] == ["shipped e-mail delivered", "shipped e-mail bounced"]
    assert all(e["actor"] == {"role": "system", "id": "sendgrid"} for e in messages)
    entries = sqlite_store.audit_entries(AuditFilter(order_id=mail.order_id, kind=AuditKind.MESSAGE_EVENT))
    assert {entry.subject for entry in entries} == {mail.key}
    assert "example.com" not in json.dumps([entry.model_dump(mode="json") for entry in entries])


async def test_a_repeated_sg_event_id_is_a_replay_and_recorded_once(
        http: httpx.AsyncClient, sqlite_store: Store, desk: EventDesk, mail: Mail) -> None:
    events = desk.events(mail.message, {"ada@example.com": "dropped"})
    assert (await post(http, *signed(events))).json() == {"recorded": 1, "ignored": 0, "replays": 0}

    again = await post(http, *signed(events + events))

    assert again.status_code == 200
    assert again.json() == {"recorded": 0, "ignored": 0, "replays": 2}
    entries = sqlite_store.audit_entries(AuditFilter(order_id=mail.order_id, kind=AuditKind.MESSAGE_EVENT))
    assert [(entry.detail["event"], entry.detail["message_kind"]) for entry in entries] == [("dropped", "shipped")]


@pytest.mark.parametrize("headers", ["missing", "another key", "changed body", "garbage"])
async def test_a_bad_or_missing_signature_is_401_and_records_nothing(
        http: httpx.AsyncClient, sqlite_store: Store, desk: EventDesk, mail: Mail, headers: str) -> None:
    events = desk.events(mail.message, {"ada@example.com": "delivered"})
    body, sent = signed(events, key=new_signing_key() if headers == "another key" else SENDGRID_EVENT_KEY)
    if headers == "missing":
        sent = {"Content-Type": "application/json"}
    elif headers == "changed body":
        body = body.replace(b"delivered", b"bounce")
    elif headers == "garbage":
        sent = {**sent, SIGNATURE_HEADER: "not base64!", TIMESTAMP_HEADER: "yesterday"}

    response = await post(http, body, sent)

    assert response.status_code == 401
    assert SIGNATURE_HEADER in response.json()["detail"]
    assert sqlite_store.audit_entries(AuditFilter(order_id=mail.order_id, kind=AuditKind.MESSAGE_EVENT)) == []
    # Nothing was remembered either: the same events, signed, are recorded.
    assert (await post(http, *signed(events))).json()["recorded"] == 1


async def test_an_event_for_no_message_of_ours_is_ignored(
        http: httpx.AsyncClient, sqlite_store: Store, desk: EventDesk, mail: Mail) -> None:
    strangers = [
        {"message_id": uuid.uuid4().hex, "categories": ["newsletter"], "custom_args": {}},
        {"message_id": uuid.uuid4().hex, "categories": ["shipped"],
         "custom_args": {"reference": "web-nosuchorder", "kind": "shipped", "message_key": "notify-unknown"}},
        {"message_id": uuid.uuid4().hex, "categories": ["x"],
         "custom_args": {"reference": mail.order_id, "kind": "not_ours", "message_key": "notify-unknown"}},
    ]
    events = [event for message in strangers for event in desk.events(message, {"ada@example.com": "delivered"})]

    response = await post(http, *signed(events))

    assert response.status_code == 200
    assert response.json() == {"recorded": 0, "ignored": 6, "replays": 0}
    assert sqlite_store.audit_entries(AuditFilter(order_id=mail.order_id, kind=AuditKind.MESSAGE_EVENT)) == []


async def test_a_signed_event_without_its_sg_event_id_is_a_422_naming_the_field(
        http: httpx.AsyncClient, desk: EventDesk, mail: Mail) -> None:
    event = desk.events(mail.message, {"ada@example.com": "delivered"})[0]
    del event["sg_event_id"]

    response = await post(http, *signed([event]))

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 0, "sg_event_id"]


async def test_without_a_public_key_every_post_is_a_503_even_in_test(
        sqlite_store: Store, desk: EventDesk, mail: Mail) -> None:
    app = gateway_app(sqlite_store, await unreachable_temporal(), sendgrid_webhook_public_key=None)
    async with http_to(app, token=None) as http:
        response = await post(http, *signed(desk.events(mail.message, {"ada@example.com": "delivered"})))

    assert response.status_code == 503
    assert "OMNIROUTE_SENDGRID_WEBHOOK_PUBLIC_KEY" in response.json()["detail"]
