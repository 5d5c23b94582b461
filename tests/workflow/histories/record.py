"""Record the histories that tests/workflow/test_replay.py replays.

Not collected by `make test` (the file name does not start with `test_`); run it on purpose, after a
change to a workflow's command sequence has been made safe for running workflows (docs/operations.md):

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/workflow/histories/record.py

Each scenario runs on a real Temporal dev server with the real worker, and writes the order's (or
return's) history and its fulfilments' histories beside this file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from integrations.sandbox import SandboxServer
from integrations.threepl.sandbox import create_shipbob_sandbox
from models.handoff import CANCEL_REQUESTED_MESSAGE
from models.names import fulfilment_workflow_id, order_workflow_id, return_workflow_id
from models.network import NodeKind
from models.order import CancelOrder, LineStatus, OrderStatus, OrderView
from models.returns import ReturnEvent, ReturnEventType, ReturnStatus
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState, TrackingException
from omniroute.client import CancelRejectedError, EventRejectedError, OmnirouteClient, RequestRejectedError
from omniroute.config.settings import Settings
from omniroute.files.rule_files import parse_rules
from store import Store
from tests.fixtures.dropship import configure_vendor, node_key, serving_gateway, vendor_node
from tests.fixtures.eventually import eventually, eventually_reads
from tests.fixtures.gateway import gateway_app
from tests.fixtures.network import add_node, add_webhook_node
from tests.fixtures.orders import CHICAGO, an_order
from tests.fixtures.returns import a_return, delivered_order, until_status
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.stores import PICKUP_FALLBACK_SHIP_RULES, a_pickup_order, add_store, pickup_on_the_shelf
from tests.fixtures.temporal import RunningWorker, worker_settings
from tests.fixtures.waves import with_waves
from tests.fixtures.workflows import all_released, wait_for, warehouse_ships
from workers.main import running_worker
from workflows.fulfilment.store import MAX_WRONG_PICKUP_CODES

HERE = Path(__file__).parent


async def _save(w: RunningWorker | Client, workflow_id: str, name: str) -> None:
    client = w.temporal if isinstance(w, RunningWorker) else w
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    (HERE / f"{name}.json").write_text(history.to_json(), encoding="utf-8")


async def test_record_an_order_split_and_delivered(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("dc-il", "SKU-H1", 2, source="record")
    w.store.set_on_hand("dc-nj", "SKU-H1", 2, source="record")
    order = an_order(("SKU-H1", 3))
    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)
    assert len(view.shipments) == 2
    for shipment in view.shipments:
        await warehouse_ships(w, shipment.shipment_id)
    result: OrderView = await w.temporal.get_workflow_handle(
        order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.COMPLETED
    await _save(w, order_workflow_id(order.order_id), "order_split_and_delivered")
    await _save(w, fulfilment_workflow_id(view.shipments[0].shipment_id), "fulfilment_delivered")


async def test_record_an_order_partly_then_fully_cancelled(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-H2", 5, source="record")
    w.store.set_on_hand("dc-il", "SKU-H3", 5, source="record")
    order = an_order(("SKU-H2", 1), ("SKU-H3", 1))
    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)
    await w.sdk.cancel_order(order.order_id, CancelOrder(line_nos=[1], reason="changed my mind"))
    await w.sdk.cancel_order(order.order_id, CancelOrder(reason="all of it"))
    result: OrderView = await w.temporal.get_workflow_handle(
        order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.CANCELLED
    await _save(w, order_workflow_id(order.order_id), "order_partly_then_fully_cancelled")
    await _save(w, fulfilment_workflow_id(view.shipments[0].shipment_id), "fulfilment_partly_then_fully_cancelled")


async def test_record_an_order_whose_label_fails(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-nozip", None, latitude=41.9, longitude=-87.7)
    w.store.set_on_hand("dc-il", "SKU-H4", 1, source="record")
    w.store.set_on_hand("dc-nozip", "SKU-H4", 1, source="record")
    order = an_order(("SKU-H4", 2))
    await w.sdk.place_order(order)
    with pytest.raises(WorkflowFailureError):
        await w.temporal.get_workflow_handle(order_workflow_id(order.order_id)).result()
    view = await w.sdk.get_order(order.order_id)
    failed = next(s for s in view.shipments if s.node_id == "dc-nozip")
    await _save(w, order_workflow_id(order.order_id), "order_label_failed_and_compensated")
    await _save(w, fulfilment_workflow_id(failed.shipment_id), "fulfilment_label_failed")


async def test_record_a_return_received(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-R", 5, source="record")
    order = delivered_order(w)
    request = a_return(order)
    await w.sdk.start_return(request)
    await until_status(w, request.rma, ReturnStatus.AWAITING_RECEIPT)
    await w.sdk.send_return_event(ReturnEvent(rma=request.rma, type=ReturnEventType.RECEIVED, event_id="dock-1"))
    await until_status(w, request.rma, ReturnStatus.COMPLETED)
    await _save(w, return_workflow_id(request.rma), "return_received")


async def test_record_an_order_rerouted_while_it_waits_then_delivered(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    with_waves(w, hold_minutes=1)  # the dev server's clock is real: a one-minute wave hold
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-nj", "08817")
    w.store.set_on_hand("dc-il", "TEE-CREW-BLK", 2, source="record")
    w.store.set_on_hand("dc-nj", "TEE-CREW-BLK", 2, source="record")
    order = an_order(("TEE-CREW-BLK", 1))
    await w.sdk.place_order(order)
    [waiting] = (await wait_for(w, order.order_id, lambda v: len(v.shipments) == 1)).shipments
    with pytest.raises(RequestRejectedError):
        await w.sdk.reroute_shipment(order.order_id, waiting.shipment_id, "dc-nowhere", actor="record")
    await w.sdk.reroute_shipment(order.order_id, waiting.shipment_id, "dc-nj", actor="record", reason="record")
    view = await wait_for(w, order.order_id, all_released, timeout=120)
    assert view.shipments[0].node_id == "dc-nj"
    await warehouse_ships(w, waiting.shipment_id)
    result: OrderView = await w.temporal.get_workflow_handle(
        order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.COMPLETED
    await _save(w, order_workflow_id(order.order_id), "order_rerouted_then_delivered")


async def test_record_a_webhook_dc_release_and_a_cancel_it_accepts(omniroute_worker: RunningWorker) -> None:
    """A DC whose WMS is told by signed webhook (docs/fulfilment-dc.md): released, then a cancel asked of
    the WMS, which agrees."""
    w = omniroute_worker
    add_webhook_node(w.store, w.sandbox, "dc-wh-record", "60106", cancel="accept")
    w.store.set_on_hand("dc-wh-record", "SKU-H6", 2, source="record")
    order = an_order(("SKU-H6", 1))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    result = await w.sdk.cancel_order(order.order_id, CancelOrder(reason="recorded cancel"))
    assert result.cancelled_shipment_ids == [shipment.shipment_id]
    await w.temporal.get_workflow_handle(order_workflow_id(order.order_id), result_type=OrderView).result()
    await _save(w, fulfilment_workflow_id(shipment.shipment_id), "fulfilment_webhook_released_then_cancelled")


async def test_record_a_ship_from_store_shipment_accepted_labelled_and_delivered(
        omniroute_worker: RunningWorker) -> None:
    """A store's shipment (docs/fulfilment-store.md): released, accepted, labelled, shipped, delivered."""
    w = omniroute_worker
    add_store(w.store, "store-record", "60614")
    w.store.set_on_hand("store-record", "SKU-H7", 2, source="record")
    order = an_order(("SKU-H7", 1))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=shipment.shipment_id, type=ShipmentEventType.ACCEPTED,
                                                  event_id=f"{shipment.shipment_id}-accepted"))
    await wait_for(w, order.order_id, lambda v: v.shipments[0].tracking_number is not None)
    await warehouse_ships(w, shipment.shipment_id)
    result: OrderView = await w.temporal.get_workflow_handle(
        order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.COMPLETED
    await _save(w, fulfilment_workflow_id(shipment.shipment_id), "fulfilment_store_shipped_and_delivered")


async def test_record_a_store_pickup_refused_a_wrong_code_then_collected(omniroute_worker: RunningWorker) -> None:
    """A BOPIS pickup: accepted, picked, ready (the customer gets the code), a wrong code refused, collected."""
    w = omniroute_worker
    ready = await pickup_on_the_shelf(w, "store-record", "SKU-H8")
    order, sid, code = ready.order, ready.shipment_id, ready.code
    with pytest.raises(EventRejectedError, match="pickup_code"):
        await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.COLLECTED,
                                                      event_id=f"{sid}-wrong", pickup_code=f"x{code}"))
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.COLLECTED,
                                                  event_id=f"{sid}-collected", pickup_code=code))
    result: OrderView = await w.temporal.get_workflow_handle(
        order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.COMPLETED
    await _save(w, fulfilment_workflow_id(sid), "fulfilment_store_pickup_collected")


async def test_record_a_dropship_vendor_that_ships_then_delivered(omniroute_worker: RunningWorker) -> None:
    """A dropship vendor (docs/fulfilment-dropship.md): a signed PO out, the vendor's accepted and shipped
    through the gateway with its node key, then the carrier's delivered."""
    w = omniroute_worker
    with serving_gateway(w.store, w.temporal.service_client.config.target_host, w.task_queue) as gateway_url:
        w.store.upsert_node(vendor_node(w.sandbox.url, "vendor-record", "60106", accept_minutes=60))
        configure_vendor(w.sandbox.url, "vendor-record", events_url=gateway_url,
                         node_key=node_key(gateway_url, "vendor-record"), answers=["ship"])
        w.store.set_on_hand("vendor-record", "SKU-H9", 2, source="record")
        order = an_order(("SKU-H9", 1))
        await w.sdk.place_order(order)
        [shipment] = (await wait_for(w, order.order_id, lambda v: bool(v.shipments) and v.shipments[0].state
                                     is ShipmentState.SHIPPED)).shipments
        await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=shipment.shipment_id,
                                                      type=ShipmentEventType.DELIVERED, event_id="record-delivered"))
        result: OrderView = await w.temporal.get_workflow_handle(
            order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.COMPLETED
    await _save(w, fulfilment_workflow_id(shipment.shipment_id), "fulfilment_dropship_shipped_and_delivered")


async def test_record_a_dropship_po_cancel_the_vendor_answers_later(omniroute_worker: RunningWorker) -> None:
    """The order cancels a PO the vendor accepted; the vendor answers the PO cancel 202 (later), then
    with a `cancelled` event."""
    w = omniroute_worker
    with serving_gateway(w.store, w.temporal.service_client.config.target_host, w.task_queue) as gateway_url:
        w.store.upsert_node(vendor_node(w.sandbox.url, "vendor-record", "60106", accept_minutes=60))
        configure_vendor(w.sandbox.url, "vendor-record", events_url=gateway_url,
                         node_key=node_key(gateway_url, "vendor-record"), answers=["accept"], cancel_answer="later")
        w.store.set_on_hand("vendor-record", "SKU-H10", 2, source="record")
        order = an_order(("SKU-H10", 1))
        await w.sdk.place_order(order)
        [shipment] = (await wait_for(w, order.order_id, lambda v: bool(v.shipments) and v.shipments[0].state
                                     is ShipmentState.ACCEPTED)).shipments
        await w.sdk.cancel_order(order.order_id, CancelOrder(reason="recorded cancel"))
        result: OrderView = await w.temporal.get_workflow_handle(
            order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.CANCELLED
    await _save(w, fulfilment_workflow_id(shipment.shipment_id), "fulfilment_dropship_cancel_answered_later")


# --- Patched paths: each scenario drives the branch of one `workflow.patched(...)` for real, so that its
# history holds the patch's marker (test_replay.py checks that every patch id has a recorded history).


async def test_record_a_partial_cancel_the_node_answers_then_the_rest_shipped_anew(
        omniroute_worker: RunningWorker) -> None:
    """`partial-cancel-asks-node`: a cancel of one line of a shipment a webhook DC has asks the WMS, which
    cancels the whole shipment; the order plans the other line again and it ships."""
    w = omniroute_worker
    add_webhook_node(w.store, w.sandbox, "dc-wh-record", "60106", cancel="accept")
    w.store.set_on_hand("dc-wh-record", "SKU-H12", 5, source="record")
    w.store.set_on_hand("dc-wh-record", "SKU-H13", 5, source="record")
    order = an_order(("SKU-H12", 1), ("SKU-H13", 2))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    sid = shipment.shipment_id
    result = await w.sdk.cancel_order(order.order_id, CancelOrder(line_nos=[2], reason="recorded partial cancel"))
    assert result.cancelled_line_nos == [2] and result.cancelled_shipment_ids == [sid]
    view = await wait_for(w, order.order_id, lambda v: any(
        s.shipment_id != sid and s.state is ShipmentState.RELEASED for s in v.shipments))
    [fresh] = [s for s in view.shipments if s.shipment_id != sid]
    await warehouse_ships(w, fresh.shipment_id)
    final: OrderView = await w.temporal.get_workflow_handle(
        order_workflow_id(order.order_id), result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED
    assert [line.status for line in final.lines] == [LineStatus.DELIVERED, LineStatus.CANCELLED]
    await _save(w, order_workflow_id(order.order_id), "order_partial_cancel_answered_by_node")
    await _save(w, fulfilment_workflow_id(sid), "fulfilment_partial_cancel_answered_by_node")


async def test_record_a_pickup_locked_by_wrong_codes_unlocked_then_collected(omniroute_worker: RunningWorker) -> None:
    """`pickup-code-attempts`: five wrong codes lock a BOPIS pickup (the customer is told), an operator
    unlocks it, the right code collects it. The order's history holds `fulfilment-by-node-kind` too."""
    w = omniroute_worker
    ready = await pickup_on_the_shelf(w, "store-record", "SKU-H14")
    order, sid, code = ready.order, ready.shipment_id, ready.code
    for n in range(MAX_WRONG_PICKUP_CODES):
        with pytest.raises(EventRejectedError, match="pickup_code"):
            await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.COLLECTED,
                                                          event_id=f"{sid}-wrong-{n}", pickup_code=f"x{code}"))
    with pytest.raises(EventRejectedError, match="is locked"):
        await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.COLLECTED,
                                                      event_id=f"{sid}-while-locked", pickup_code=code))
    unlocked = await w.sdk.unlock_pickup(sid, actor="record", reason="the customer showed id at the desk")
    assert unlocked.wrong_codes == MAX_WRONG_PICKUP_CODES
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.COLLECTED,
                                                  event_id=f"{sid}-collected", pickup_code=code))
    result: OrderView = await w.temporal.get_workflow_handle(
        order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.COMPLETED
    await _save(w, order_workflow_id(order.order_id), "order_pickup_locked_unlocked_then_collected")
    await _save(w, fulfilment_workflow_id(sid), "fulfilment_store_pickup_locked_unlocked_then_collected")



async def test_record_a_pickup_the_store_rejects_shipped_to_the_customer_instead(
        omniroute_worker: RunningWorker) -> None:
    """`pickup-fallback-ship`: the only pickup store rejects the pickup; the rule `pickup_fallback: ship`
    ships the lines from a DC to the order's ship_to, and they are delivered."""
    w = omniroute_worker
    w.store.set_rules(parse_rules(PICKUP_FALLBACK_SHIP_RULES))
    add_store(w.store, "store-record", "60614")
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("store-record", "SKU-H15", 3, source="record")
    w.store.set_on_hand("dc-il", "SKU-H15", 3, source="record")
    order = a_pickup_order("store-record", ("SKU-H15", 2)).model_copy(update={"ship_to": CHICAGO})
    await w.sdk.place_order(order)
    [pickup] = (await wait_for(w, order.order_id, all_released)).shipments
    assert pickup.node_id == "store-record" and pickup.pickup
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=pickup.shipment_id, type=ShipmentEventType.REJECTED,
                                                  event_id=f"{pickup.shipment_id}-rejected", reason="shelf empty"))
    view = await wait_for(w, order.order_id, lambda v: len(v.shipments) == 2 and v.shipments[1].state is
                          ShipmentState.RELEASED)
    shipped = view.shipments[1]
    assert shipped.node_id == "dc-il" and not shipped.pickup
    await warehouse_ships(w, shipped.shipment_id)
    result: OrderView = await w.temporal.get_workflow_handle(
        order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.COMPLETED
    await _save(w, order_workflow_id(order.order_id), "order_pickup_fell_back_to_a_shipment")
    await _save(w, fulfilment_workflow_id(pickup.shipment_id), "fulfilment_store_pickup_rejected")
    await _save(w, fulfilment_workflow_id(shipped.shipment_id), "fulfilment_pickup_fallback_shipped")


async def test_record_a_cancel_the_wms_refused_then_a_carrier_exception_then_delivered(
        omniroute_worker: RunningWorker) -> None:
    """`cancel-refused-notice` and `tracking-exception-indexed`: a cancel asked of a webhook DC's WMS,
    which refuses; the parcel ships, so the cancel fails and the customer is told; the carrier reports a
    failed attempt (indexed for operators), then delivers."""
    w = omniroute_worker
    add_webhook_node(w.store, w.sandbox, "dc-wh-record", "60106", cancel="refuse")
    w.store.set_on_hand("dc-wh-record", "SKU-H16", 2, source="record")
    order = an_order(("SKU-H16", 1))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    sid = shipment.shipment_id
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.PACKED,
                                                  event_id=f"{sid}-packed"))
    cancelling = asyncio.create_task(w.sdk.cancel_order(order.order_id, CancelOrder(reason="recorded late cancel")))
    await eventually(lambda: any(m["type"] == CANCEL_REQUESTED_MESSAGE for m in w.sandbox.wms_messages(
        shipment_id=sid)), "the WMS is asked")
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.SHIPPED,
                                                  event_id=f"{sid}-shipped"))
    with pytest.raises(CancelRejectedError, match="shipped before the cancel reached the node"):
        await cancelling
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.EXCEPTION,
                                                  event_id=f"{sid}-exception",
                                                  exception=TrackingException.FAILED_ATTEMPT))
    await wait_for(w, order.order_id, lambda v: v.shipments[0].exception is TrackingException.FAILED_ATTEMPT)
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.DELIVERED,
                                                  event_id=f"{sid}-delivered"))
    result: OrderView = await w.temporal.get_workflow_handle(
        order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.COMPLETED
    await _save(w, order_workflow_id(order.order_id), "order_cancel_refused_then_exception_then_delivered")
    await _save(w, fulfilment_workflow_id(sid), "fulfilment_webhook_cancel_refused_then_delivered")

# --- End of the patched paths.


async def test_record_a_3pl_order_shipped_by_webhook_then_delivered(
        temporal_env: WorkflowEnvironment, worker_store: Store, sandbox: RunningSandbox) -> None:
    """A 3PL (docs/fulfilment-3pl.md): the order placed at the ShipBob sandbox, its shipped and delivered
    webhooks through a real gateway."""
    token, node_id = "shipbob-record", "3pl-record"
    settings = worker_settings(sandbox, shipbob_api_key=token)
    sdk = OmnirouteClient(temporal_env.client, task_queue=settings.task_queue)
    secret = Settings(environment="test").partner_secret(settings.shipbob_webhook_secret_ref)
    add_node(worker_store, node_id, "38118", kind=NodeKind.THREE_PL)
    worker_store.set_on_hand(node_id, "SKU-H11", 2, source="record")
    order = an_order(("SKU-H11", 1))
    with SandboxServer(gateway_app(worker_store, sdk)) as gateway, SandboxServer(create_shipbob_sandbox(
            token, webhook_secret=secret, webhook_url=f"{gateway.url}/webhooks/shipbob")) as shipbob:
        settings = settings.model_copy(update={"shipbob_base_url": shipbob.url})
        async with running_worker(settings, client=temporal_env.client, store=worker_store):
            await sdk.place_order(order)
            [shipment] = (await eventually_reads(lambda: sdk.get_order(order.order_id), lambda v: bool(
                v.shipments) and v.shipments[0].state is ShipmentState.RELEASED)).shipments
            shipbob_id = _shipbob_order_id(shipbob.url, shipment.shipment_id)
            _shipbob_control(shipbob.url, f"orders/{shipbob_id}/ship")
            await eventually_reads(lambda: sdk.get_order(order.order_id),
                                   lambda v: v.shipments[0].state is ShipmentState.SHIPPED)
            _shipbob_control(shipbob.url, f"orders/{shipbob_id}/deliver")
            result: OrderView = await temporal_env.client.get_workflow_handle(
                order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.COMPLETED
    await _save(temporal_env.client, fulfilment_workflow_id(shipment.shipment_id),
                "fulfilment_3pl_shipped_and_delivered")


def _shipbob_order_id(shipbob_url: str, shipment_id: str) -> int:
    orders = httpx.get(f"{shipbob_url}/_sandbox/orders", timeout=5).json()
    return int(next(o["id"] for o in orders if o["reference_id"] == shipment_id))


def _shipbob_control(shipbob_url: str, path: str) -> None:
    httpx.post(f"{shipbob_url}/_sandbox/{path}", timeout=30).raise_for_status()


async def test_record_a_carrier_scan_before_the_warehouse_shipped(omniroute_worker: RunningWorker) -> None:
    """The carrier's first scan reaches a picked DC shipment before the warehouse's `shipped` (patch
    carrier-scan-ships): shipped is recorded first, then in_transit; the warehouse's late `shipped` is
    answered as done; then delivered."""
    w = omniroute_worker
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-H12", 2, source="record")
    order = an_order(("SKU-H12", 1))
    await w.sdk.place_order(order)
    [shipment] = (await wait_for(w, order.order_id, all_released)).shipments
    sid = shipment.shipment_id
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.PICKED,
                                                  event_id=f"{sid}-picked"))
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.IN_TRANSIT,
                                                  event_id=f"evt_{sid}_in_transit"))
    late = await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.SHIPPED,
                                                         event_id=f"{sid}-shipped"))
    assert late.carrier_first
    await w.sdk.send_shipment_event(ShipmentEvent(shipment_id=sid, type=ShipmentEventType.DELIVERED,
                                                  event_id=f"evt_{sid}_delivered"))
    result: OrderView = await w.temporal.get_workflow_handle(
        order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.COMPLETED
    await _save(w, fulfilment_workflow_id(sid), "fulfilment_carrier_scan_before_shipped")
