"""A message provider outage fails no order, and every message goes out once the provider is back: real
Temporal (the dev server, whose Schedules run the message retry sweep), the worker as deployed, SendGrid's
and Twilio's sandboxes over HTTP, a real app DB.

The window: SendGrid and Twilio answer 503 to every call while four orders are placed, shipped and
delivered. It stands for an outage of a few minutes, compressed: it lasts as long as the orders take to
run through every message they send, each one failing after the notify activity's own retries (about
20 s each here, the same policy as in production). Then SendGrid comes back while Twilio is still down,
then Twilio. The sweep runs every 2 s and waits 2 s, doubling to 8 s, between a message's attempts (in
production: every minute, 5 minutes doubling to an hour); what it sends is counted at the sandboxes'
mailboxes by message key.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from temporalio.client import ScheduleIntervalSpec
from temporalio.testing import WorkflowEnvironment

from activities.notify import recipient_key
from models.audit import AuditFilter, AuditKind
from models.names import MESSAGE_RETRY_SCHEDULE, order_workflow_id
from models.notify import MessageChannel, NotificationKind
from models.order import Customer, OrderStatus, OrderView, PlaceOrder
from omniroute.client import OmnirouteClient
from store import Store
from store.tables import notification_messages
from tests.fixtures.eventually import eventually
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import RunningWorker, worker_settings
from tests.fixtures.workflows import all_released, wait_for, warehouse_ships
from workers.main import running_worker
from workers.schedules import ensure_message_retry_schedule

ORDERS = 4
KINDS = {NotificationKind.ORDER_CONFIRMED.value, NotificationKind.SHIPPED.value, NotificationKind.DELIVERED.value}
# Enough failures for the whole window: each failed attempt costs up to 3 calls (the client retries a 503).
OUTAGE_CALLS = 1000
SLOW = 240.0  # seconds: two cores shared with other test runs


@pytest.fixture
def providers_down(sandbox: RunningSandbox) -> Iterator[dict[str, str]]:
    """The fault URLs of SendGrid and Twilio, failing every call from the start; cleared at the end."""
    urls = {provider: f"{sandbox.url}/{provider}/_sandbox/faults" for provider in ("sendgrid", "twilio")}
    for url in urls.values():
        httpx.post(url, json={"status": 503, "count": OUTAGE_CALLS}, timeout=5).raise_for_status()
    yield urls
    for url in urls.values():
        back_up(url)


def back_up(url: str) -> None:
    httpx.delete(url, timeout=5).raise_for_status()


def still_down(url: str) -> bool:
    return int(httpx.get(url, timeout=5).json()["remaining"]) > 0


def customers_order(number: int) -> PlaceOrder:
    """Every other customer asked for SMS too."""
    order = an_order(("SKU-OUT", 1))
    if number % 2:
        phone = "+1415" + str(uuid.uuid4().int)[:7]
        order = order.model_copy(update={"customer": Customer(email=order.customer.email, name="Ada", phone=phone,
                                                              sms=True)})
    return order


def ledger_rows(store: Store, order: PlaceOrder, channel: MessageChannel) -> list[Any]:
    """The order's customer's messages on `channel`, as the ledger has them (by recipient digest)."""
    address = str(order.customer.email) if channel is MessageChannel.EMAIL else str(order.customer.phone)
    table = notification_messages.c
    with store.engine.connect() as connection:
        return list(connection.execute(sa.select(notification_messages).where(
            table.recipient == recipient_key(address), table.channel == channel.value)))


def emails_by_key(sandbox: RunningSandbox, order: PlaceOrder) -> dict[str, list[str]]:
    sent: dict[str, list[str]] = {}
    for mail in sandbox.messages(to=str(order.customer.email)):
        sent.setdefault(mail["custom_args"]["message_key"], []).append(mail["categories"][0])
    return sent


def texts(sandbox: RunningSandbox, order: PlaceOrder) -> list[dict[str, Any]]:
    response = httpx.get(f"{sandbox.url}/twilio/_sandbox/messages", params={"to": order.customer.phone}, timeout=5)
    response.raise_for_status()
    return list(response.json())


def every_row(store: Store, orders: list[PlaceOrder], channel: MessageChannel, state: str) -> bool:
    rows = [ledger_rows(store, order, channel) for order in orders]
    return all(len(found) == len(KINDS) and all(r.state == state for r in found) for found in rows)


async def test_a_message_provider_outage_fails_no_order_and_each_message_goes_once_it_is_back(
        temporal_env: WorkflowEnvironment, worker_store: Store, sandbox: RunningSandbox,
        providers_down: dict[str, str]) -> None:
    settings = worker_settings(sandbox, message_retry_every_seconds=2, message_retry_first_seconds=2,
                               message_retry_longest_wait_seconds=8)
    client = temporal_env.client
    async with running_worker(settings, client=client, store=worker_store):
        w = RunningWorker(sdk=OmnirouteClient(client, task_queue=settings.task_queue), temporal=client,
                          task_queue=settings.task_queue, store=worker_store, sandbox=sandbox, settings=settings)
        await ensure_message_retry_schedule(client, settings)
        try:
            add_node(w.store, "dc-il", "60106")
            w.store.set_on_hand("dc-il", "SKU-OUT", 100, source="test")
            orders = [customers_order(n) for n in range(ORDERS)]
            texting = [order for order in orders if order.customer.sms]

            for order in orders:
                await w.sdk.place_order(order)
            released = [await wait_for(w, order.order_id, all_released, timeout=SLOW) for order in orders]
            await asyncio.gather(*(warehouse_ships(w, view.shipments[0].shipment_id) for view in released))
            results = [await client.get_workflow_handle(order_workflow_id(order.order_id), result_type=OrderView)
                       .result() for order in orders]

            # During the outage: every order completed, each of its messages is kept failed, none went.
            assert [r.status for r in results] == [OrderStatus.COMPLETED] * ORDERS
            assert all(still_down(url) for url in providers_down.values()), "the outage lasted the whole window"
            for order, result in zip(orders, results, strict=True):
                assert any(e.startswith("notification order_confirmed failed") and e.endswith("retried later")
                           for e in result.events), result.events
                rows = ledger_rows(w.store, order, MessageChannel.EMAIL)
                assert {r.kind for r in rows} == KINDS and all(r.state != "sent" for r in rows)
                assert all(r.notification for r in rows), "each kept with its message, to be sent again"
            assert all(sandbox.messages(to=str(order.customer.email)) == [] for order in orders)

            # SendGrid is back, Twilio still down: every e-mail goes, the SMS wait.
            back_up(providers_down["sendgrid"])
            await eventually(lambda: every_row(w.store, orders, MessageChannel.EMAIL, "sent"),
                             "every e-mail sent by the sweep", timeout=SLOW)
            await eventually(lambda: every_row(w.store, texting, MessageChannel.SMS, "failed"),
                             "every SMS tried and failed while Twilio is down", timeout=SLOW)
            assert still_down(providers_down["twilio"])
            assert all(texts(sandbox, order) == [] for order in texting)

            # Twilio is back: every SMS goes.
            back_up(providers_down["twilio"])
            await eventually(lambda: every_row(w.store, texting, MessageChannel.SMS, "sent"),
                             "every SMS sent by the sweep", timeout=SLOW)
            await asyncio.sleep(3 * settings.message_retry_every_seconds)  # a few more sweeps: nothing more goes

            for order in orders:
                sent = emails_by_key(sandbox, order)
                assert sorted(kind for kinds in sent.values() for kind in kinds) == sorted(KINDS)
                assert all(len(kinds) == 1 for kinds in sent.values()), f"an e-mail went twice: {sent}"
                assert {r.message_key for r in ledger_rows(w.store, order, MessageChannel.EMAIL)} == set(sent)
                entries = w.store.audit_entries(AuditFilter(kind=AuditKind.MESSAGE_EVENT, order_id=order.order_id))
                timeline = [str(e.detail["event"]) for e in entries if e.detail["channel"] == "email"]
                assert len(timeline) == len(KINDS) and all(t.startswith("sent after ") for t in timeline), timeline
            for order in texting:
                sids = sorted(text["sid"] for text in texts(sandbox, order))
                rows = ledger_rows(w.store, order, MessageChannel.SMS)
                assert sids == sorted(r.provider_message_id for r in rows), "each SMS once, the one recorded"

            schedule = await client.get_schedule_handle(MESSAGE_RETRY_SCHEDULE).describe()
            assert schedule.schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(seconds=2))]
        finally:
            await client.get_schedule_handle(MESSAGE_RETRY_SCHEDULE).delete()
