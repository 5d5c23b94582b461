"""The per-recipient message limit on real Temporal: bogus return requests against one order are each
rejected, and the order's customer gets at most the limit of "could not accept your return" e-mails; a
message held back never fails the workflow that sent it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from temporalio.testing import WorkflowEnvironment

from activities.notify import LIMIT_WINDOW, recipient_key
from models.names import return_workflow_id
from models.notify import NotificationKind
from models.order import OrderStatus
from models.returns import ReturnStatus, ReturnView
from omniroute.client import OmnirouteClient
from store import Store
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.returns import a_return, delivered_order
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import RunningWorker, worker_settings
from tests.fixtures.workflows import all_released, wait_for
from workers.main import running_worker

LIMIT = 3
BOGUS_REQUESTS = 7


@asynccontextmanager
async def worker_with_limit(env: WorkflowEnvironment, store: Store, sandbox: RunningSandbox,
                            limit: int) -> AsyncIterator[RunningWorker]:
    settings = worker_settings(sandbox, notify_per_recipient_per_hour=limit)
    async with running_worker(settings, client=env.client, store=store):
        yield RunningWorker(sdk=OmnirouteClient(env.client, task_queue=settings.task_queue), temporal=env.client,
                            task_queue=settings.task_queue, store=store, sandbox=sandbox, settings=settings)


def mails(sandbox: RunningSandbox, to: str, kind: NotificationKind) -> list[dict[str, Any]]:
    return [m for m in sandbox.messages(to=to) if kind.value in m["categories"]]


async def test_bogus_returns_against_one_order_send_its_customer_at_most_the_limit_of_emails(
    temporal_env: WorkflowEnvironment, worker_store: Store, sandbox: RunningSandbox
) -> None:
    async with worker_with_limit(temporal_env, worker_store, sandbox, LIMIT) as w:
        add_node(w.store, "dc-il", "60106")
        order = delivered_order(w, quantity=1)
        requests = [a_return(order, quantity=2) for _ in range(BOGUS_REQUESTS)]  # more than was delivered
        for request in requests:
            await w.sdk.start_return(request)
        views = [await w.temporal.get_workflow_handle(return_workflow_id(r.rma), result_type=ReturnView).result()
                 for r in requests]

    assert [view.status for view in views] == [ReturnStatus.REJECTED] * BOGUS_REQUESTS, "held back, not failed"
    customer = str(order.customer.email)
    assert len(mails(sandbox, customer, NotificationKind.RETURN_REJECTED)) == LIMIT
    usage = worker_store.notification_usage(recipient_key(customer), NotificationKind.RETURN_REJECTED.value)
    assert usage is not None and (usage.window_sent, usage.suppressed_total) == (LIMIT, BOGUS_REQUESTS - LIMIT)


async def test_an_order_whose_customer_is_over_the_limit_goes_on_without_the_message(
    temporal_env: WorkflowEnvironment, worker_store: Store, sandbox: RunningSandbox
) -> None:
    async with worker_with_limit(temporal_env, worker_store, sandbox, 1) as w:
        add_node(w.store, "dc-il", "60106")
        w.store.set_on_hand("dc-il", "SKU-1", 5, source="test")
        order = an_order(("SKU-1", 1))
        customer = str(order.customer.email)
        # The hour's one confirmation to this address has gone already (another order, another worker).
        assert w.store.admit_notification(recipient_key(customer), NotificationKind.ORDER_CONFIRMED.value,
                                          now=datetime.now(UTC), window=LIMIT_WINDOW, limit=1)

        await w.sdk.place_order(order)
        view = await wait_for(w, order.order_id, all_released)

    assert view.status is not OrderStatus.FAILED and view.shipments
    assert mails(sandbox, customer, NotificationKind.ORDER_CONFIRMED) == []
    assert any(event.startswith("notification order_confirmed suppressed") for event in view.events), view.events


async def test_an_order_whose_confirmation_the_provider_refuses_goes_on_and_says_so(
    temporal_env: WorkflowEnvironment, worker_store: Store, sandbox: RunningSandbox
) -> None:
    async with worker_with_limit(temporal_env, worker_store, sandbox, 10) as w:
        add_node(w.store, "dc-il", "60106")
        w.store.set_on_hand("dc-il", "SKU-1", 5, source="test")
        order = an_order(("SKU-1", 1))
        with sandbox.faults("sendgrid", status=400, count=1):
            await w.sdk.place_order(order)
            view = await wait_for(w, order.order_id, all_released)

    assert view.status is not OrderStatus.FAILED and view.shipments
    assert any(event.startswith("notification order_confirmed failed") for event in view.events), view.events
