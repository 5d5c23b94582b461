"""Shipment and return events through the HTTP gateway: one SDK update each, answered from the
workflow's validator and result, and the app DB read only for a shipment no fulfilment runs for.

A real dev server and SQLite store; the fulfilment and return workflows are the stand-ins that keep
the event contract (tests/fixtures/stand_ins.py), so these answers do not wait on the order workflow.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from models import names
from models.records import ShipmentRecord
from models.shipment import ShipmentLine, ShipmentState
from omniroute.client import OmnirouteClient
from store import Store
from tests.fixtures.gateway import gateway_for
from tests.fixtures.stand_ins import FINISH_SIGNAL, STAND_INS, a_return, a_shipment_id, start_fulfilment


@dataclass
class Gateway:
    http: httpx.AsyncClient
    temporal: Client
    task_queue: str
    store: Store


@pytest.fixture
async def gateway(temporal_env: WorkflowEnvironment, sqlite_store: Store) -> AsyncIterator[Gateway]:
    task_queue = f"gateway-events-{uuid.uuid4().hex}"
    client = temporal_env.client
    async with Worker(client, task_queue=task_queue, workflows=list(STAND_INS),
                      workflow_runner=UnsandboxedWorkflowRunner()):
        async with gateway_for(sqlite_store, OmnirouteClient(client, task_queue=task_queue)) as http:
            yield Gateway(http=http, temporal=client, task_queue=task_queue, store=sqlite_store)


async def shipment_event(g: Gateway, shipment_id: str, kind: str, event_id: str | None = None) -> httpx.Response:
    body = {"type": kind} if event_id is None else {"type": kind, "event_id": event_id}
    return await g.http.post(f"/v1/shipments/{shipment_id}/events", json=body)


def record_shipment(g: Gateway, state: ShipmentState) -> str:
    shipment_id = a_shipment_id()
    g.store.record_shipment(ShipmentRecord(
        shipment_id=shipment_id, order_id=names.order_id_of_shipment(shipment_id), node_id="dc-il",
        lines=[ShipmentLine(line_no=1, sku="MUG-1", quantity=1)], state=state))
    return shipment_id


async def test_an_applied_shipment_event_is_a_202_with_the_move(gateway: Gateway) -> None:
    shipment_id = a_shipment_id()
    await start_fulfilment(gateway.temporal, gateway.task_queue, shipment_id)

    response = await shipment_event(gateway, shipment_id, "packed", "wms-1")

    assert response.status_code == 202, response.text
    assert response.json() == {
        "shipment_id": shipment_id, "order_id": names.order_id_of_shipment(shipment_id), "type": "packed",
        "from_state": "released", "to_state": "packed", "signalled": True, "replay": False,
        "carrier_first": False,
    }


async def test_a_redelivered_shipment_event_is_a_202_replay_and_without_its_id_a_409(gateway: Gateway) -> None:
    shipment_id = a_shipment_id()
    await start_fulfilment(gateway.temporal, gateway.task_queue, shipment_id)
    assert (await shipment_event(gateway, shipment_id, "picked", "wms-1")).status_code == 202

    again = await shipment_event(gateway, shipment_id, "picked", "wms-1")
    anonymous = await shipment_event(gateway, shipment_id, "picked")

    assert again.status_code == 202, again.text
    assert {k: again.json()[k] for k in ("from_state", "to_state", "signalled", "replay")} == {
        "from_state": "picked", "to_state": "picked", "signalled": False, "replay": True}
    assert anonymous.status_code == 409
    assert anonymous.json()["detail"] == f"shipment {shipment_id} is picked; cannot apply picked"


async def test_an_event_for_a_delivered_shipment_is_a_409_naming_delivered(gateway: Gateway) -> None:
    shipment_id = a_shipment_id()
    handle = await start_fulfilment(gateway.temporal, gateway.task_queue, shipment_id)
    assert (await shipment_event(gateway, shipment_id, "delivered", "carrier-1")).status_code == 202
    await handle.result()

    late = await shipment_event(gateway, shipment_id, "shipped", "carrier-2")
    replayed = await shipment_event(gateway, shipment_id, "delivered", "carrier-1")

    assert (late.status_code, late.json()["detail"]) == (
        409, f"shipment {shipment_id} is delivered; cannot apply shipped")
    assert (replayed.status_code, replayed.json()["replay"], replayed.json()["to_state"]) == (202, True, "delivered")


async def test_an_unknown_shipment_is_a_404(gateway: Gateway) -> None:
    response = await shipment_event(gateway, a_shipment_id(), "picked")

    assert response.status_code == 404
    assert "unknown shipment_id" in response.json()["detail"]


async def test_a_shipment_not_released_yet_is_a_409_saying_it_is_pending(gateway: Gateway) -> None:
    shipment_id = record_shipment(gateway, ShipmentState.PENDING)

    response = await shipment_event(gateway, shipment_id, "picked")

    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"shipment {shipment_id} is pending: not released to the warehouse yet")


async def test_a_shipment_cancelled_before_release_is_a_409_naming_cancelled(gateway: Gateway) -> None:
    shipment_id = record_shipment(gateway, ShipmentState.CANCELLED)

    response = await shipment_event(gateway, shipment_id, "picked")

    assert response.status_code == 409
    assert f"shipment {shipment_id} is cancelled" in response.json()["detail"]


async def received(g: Gateway, rma: str, event_id: str | None = None) -> httpx.Response:
    body = {"type": "received"} if event_id is None else {"type": "received", "event_id": event_id}
    return await g.http.post(f"/v1/returns/{rma}/events", json=body)


async def test_a_return_receipt_is_a_202_then_a_replay_and_another_receipt_a_409(gateway: Gateway) -> None:
    request = a_return()
    assert (await gateway.http.post("/v1/returns", json=request.model_dump(mode="json"))).status_code == 202

    first = await received(gateway, request.rma, "dock-7")
    again = await received(gateway, request.rma, "dock-7")
    other = await received(gateway, request.rma, "dock-8")

    assert first.status_code == 202, first.text
    assert first.json() == {"rma": request.rma, "type": "received", "status": "awaiting_receipt",
                            "to_status": "received", "signalled": True, "replay": False}
    assert (again.status_code, again.json()["signalled"], again.json()["replay"]) == (202, False, True)
    assert (other.status_code, other.json()["detail"]) == (
        409, f"return {request.rma!r} is received; it was already received")


async def test_a_receipt_for_a_finished_return_is_a_409_naming_its_status(gateway: Gateway) -> None:
    request = a_return()
    assert (await gateway.http.post("/v1/returns", json=request.model_dump(mode="json"))).status_code == 202
    assert (await received(gateway, request.rma, "dock-7")).status_code == 202
    handle = gateway.temporal.get_workflow_handle(names.return_workflow_id(request.rma))
    await handle.signal(FINISH_SIGNAL)
    await handle.result()

    late = await received(gateway, request.rma)
    replayed = await received(gateway, request.rma, "dock-7")

    assert (late.status_code, late.json()["detail"]) == (
        409, f"return {request.rma!r} is completed; it was already received")
    assert (replayed.status_code, replayed.json()["replay"], replayed.json()["status"]) == (202, True, "completed")


async def test_a_receipt_for_an_unknown_return_is_a_404(gateway: Gateway) -> None:
    rma = f"RMA-{uuid.uuid4().hex[:10]}"

    response = await received(gateway, rma)

    assert response.status_code == 404 and rma in response.json()["detail"]
