"""A customer who asked for SMS, on real Temporal with the worker as deployed: the order's confirmation comes
by e-mail (text and HTML) and by SMS, in the customer's language, keyed by the workflow so that each goes
once; a customer who did not ask gets no SMS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from models.names import order_workflow_id
from models.notify import MessageChannel, NotificationKind
from models.order import Customer
from omniroute.client import OmnirouteClient
from store import Store
from tests.fixtures.eventually import eventually
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import RunningWorker, worker_settings
from workers.main import running_worker


@pytest.fixture
async def worker(temporal_env: WorkflowEnvironment, worker_store: Store,
                 sandbox: RunningSandbox) -> AsyncIterator[RunningWorker]:
    settings = worker_settings(sandbox)
    async with running_worker(settings, client=temporal_env.client, store=worker_store):
        yield RunningWorker(sdk=OmnirouteClient(temporal_env.client, task_queue=settings.task_queue),
                            temporal=temporal_env.client, task_queue=settings.task_queue, store=worker_store,
                            sandbox=sandbox, settings=settings)


def texts(sandbox: RunningSandbox, to: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{sandbox.url}/twilio/_sandbox/messages", params={"to": to}, timeout=5)
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()
    return result


def confirmations(sandbox: RunningSandbox, email: str) -> list[dict[str, Any]]:
    return [m for m in sandbox.messages(to=email) if NotificationKind.ORDER_CONFIRMED.value in m["categories"]]


async def test_a_customer_who_asked_for_sms_gets_the_confirmation_by_email_and_sms_in_french(
        worker: RunningWorker) -> None:
    w, phone = worker, "+1415" + str(uuid.uuid4().int)[:7]
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-1", 10, source="test")
    order = an_order(("SKU-1", 1))
    order = order.model_copy(update={"customer": Customer(email=order.customer.email, name="Zoé", phone=phone,
                                                          sms=True, locale="fr")})

    await w.sdk.place_order(order)
    [mail] = await eventually(lambda: confirmations(w.sandbox, str(order.customer.email)))
    [text] = await eventually(lambda: texts(w.sandbox, phone))

    assert mail["subject"].startswith("Nous avons bien reçu votre commande") and mail["html"]
    assert text["body"].startswith("Omniroute : votre commande") and order.order_id in text["body"]
    key = mail["custom_args"]["message_key"]
    assert key.startswith(f"{order_workflow_id(order.order_id)}/order_confirmed/")
    record = w.store.message_record(key, MessageChannel.SMS.value)
    assert record is not None and record.provider_message_id == text["sid"]


async def test_a_customer_who_did_not_ask_gets_no_sms(worker: RunningWorker) -> None:
    w = worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-1", 10, source="test")
    order = an_order(("SKU-1", 1))

    await w.sdk.place_order(order)
    [mail] = await eventually(lambda: confirmations(w.sandbox, str(order.customer.email)))

    assert mail["subject"].startswith("We have your order")
    assert w.store.message_record(mail["custom_args"]["message_key"], MessageChannel.SMS.value) is None
