"""Returns on real Temporal: eligibility, return label, receipt (an update with a validator), restock,
refund, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from models.names import return_workflow_id
from models.returns import ReturnEvent, ReturnEventType, ReturnStatus, ReturnView
from omniroute.client import EventRejectedError
from tests.fixtures.network import add_node
from tests.fixtures.returns import a_return, delivered_order, until_status
from tests.fixtures.temporal import RunningWorker


@pytest.mark.parametrize("worker_store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_a_received_return_is_restocked_at_the_return_node_and_refunded(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-ca", "90001")
    w.store.set_on_hand("dc-il", "SKU-R", 5, source="test")
    order = delivered_order(w)
    request = a_return(order)

    accepted = await w.sdk.start_return(request)
    handle = w.temporal.get_workflow_handle(accepted.workflow_id)
    view = await until_status(w, request.rma, ReturnStatus.AWAITING_RECEIPT)
    assert view.return_node_id == "dc-il", "the nearest node that takes returns"
    assert view.label is not None and view.label.tracking_number
    applied = await w.sdk.send_return_event(ReturnEvent(rma=request.rma, type=ReturnEventType.RECEIVED))
    await handle.result()

    assert (applied.from_status, applied.to_status, applied.replay) == (
        ReturnStatus.AWAITING_RECEIPT, ReturnStatus.RECEIVED, False)

    final = await w.sdk.get_return(request.rma)
    assert final.status is ReturnStatus.COMPLETED
    assert final.refund is not None and (final.refund.amount, final.refund.currency) == (2500, "USD")
    il = next(n for n in w.store.availability("SKU-R").nodes if n.node_id == "dc-il")
    assert il.on_hand == 6, "restocked in real time"
    assert [m.kind.value for m in w.store.ledger(node_id="dc-il", sku="SKU-R")][-1] == "return_restock"
    record = w.store.get_return(request.rma)
    assert record is not None and record.status is ReturnStatus.COMPLETED and record.refund_amount == 2500


async def test_a_return_of_more_than_was_delivered_is_rejected(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    order = delivered_order(w, quantity=1)
    request = a_return(order, quantity=2)

    await w.sdk.start_return(request)
    await w.temporal.get_workflow_handle(return_workflow_id(request.rma)).result()

    view = await w.sdk.get_return(request.rma)
    assert view.status is ReturnStatus.REJECTED
    assert view.rejection is not None and "only 1 delivered" in view.rejection


async def test_a_return_outside_the_window_is_rejected(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    order = delivered_order(w, delivered_days_ago=45)
    request = a_return(order)

    await w.sdk.start_return(request)
    await w.temporal.get_workflow_handle(return_workflow_id(request.rma)).result()

    view = await w.sdk.get_return(request.rma)
    assert view.status is ReturnStatus.REJECTED and "return window" in (view.rejection or "")


async def test_an_unused_return_label_expires_and_is_voided(time_skipping_worker: RunningWorker,
                                                           time_skipping_env: WorkflowEnvironment) -> None:
    w = time_skipping_worker
    add_node(w.store, "dc-il", "60106")
    order = delivered_order(w)
    request = a_return(order)
    await w.sdk.start_return(request)
    await until_status(w, request.rma, ReturnStatus.AWAITING_RECEIPT)

    await time_skipping_env.sleep(timedelta(days=w.settings.rma_label_expiry_days + 1))

    view = await until_status(w, request.rma, ReturnStatus.EXPIRED)
    assert view.status is ReturnStatus.EXPIRED
    [label] = w.sandbox.labels(reference=f"rma-{request.rma}")
    assert label["refunded"] is True
    assert w.store.availability("SKU-R").total_atp == 0, "nothing restocked"


def received(rma: str, event_id: str | None = None) -> ReturnEvent:
    return ReturnEvent(rma=rma, type=ReturnEventType.RECEIVED, event_id=event_id)


async def test_a_receipt_before_the_label_is_issued_is_refused_naming_requested(
    omniroute_worker: RunningWorker,
) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    request = a_return(delivered_order(w))

    with w.sandbox.faults("easypost", status=503, count=1000):  # the label waits; the return stays requested
        await w.sdk.start_return(request)
        with pytest.raises(EventRejectedError, match="is requested; its return label is not issued yet") as err:
            await w.sdk.send_return_event(received(request.rma, "dock-1"))

    assert err.value.current_state == "requested"
    view = await until_status(w, request.rma, ReturnStatus.AWAITING_RECEIPT, timeout=60)
    assert view.received_at is None, "the refused receipt left nothing behind"


async def test_a_receipt_redelivered_with_its_event_id_is_a_replay_and_another_receipt_is_refused(
    omniroute_worker: RunningWorker,
) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    order = delivered_order(w)
    request = a_return(order)
    await w.sdk.start_return(request)
    await until_status(w, request.rma, ReturnStatus.AWAITING_RECEIPT)
    handle = w.temporal.get_workflow_handle(return_workflow_id(request.rma), result_type=ReturnView)

    first = await w.sdk.send_return_event(received(request.rma, "dock-1"))
    # Answered by the running workflow or, once it has finished, from its result: the same answers.
    again = await w.sdk.send_return_event(received(request.rma, "dock-1"))
    with pytest.raises(EventRejectedError, match="it was already received") as err:
        await w.sdk.send_return_event(received(request.rma, "dock-2"))

    assert (first.from_status, first.to_status, first.replay) == (
        ReturnStatus.AWAITING_RECEIPT, ReturnStatus.RECEIVED, False)
    assert again.replay is True and again.from_status == again.to_status
    assert again.to_status in (ReturnStatus.RECEIVED, ReturnStatus.COMPLETED)
    assert err.value.current_state in ("received", "completed")
    final = await handle.result()
    assert (final.received_event_id, w.store.availability("SKU-R").total_atp) == ("dock-1", 1), "restocked once"
    after = await w.sdk.send_return_event(received(request.rma, "dock-1"))
    assert after.replay is True, "the finished return's result still knows the event id"
