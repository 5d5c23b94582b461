"""Personal data is protected end to end: an order's history, read straight from Temporal without the codec,
holds only ciphertext under the configured key id; the codec reads it back; and neither the search
attributes nor the logs of the worker that ran it name the customer."""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Iterator

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from gateway.app import create_app
from models.address import Address
from models.keys import KeyCreate, Role
from models.names import fulfilment_workflow_id, order_workflow_id
from models.order import Customer, OrderStatus, OrderView, PlaceOrder
from omniroute.config.codec import ENCRYPTED_ENCODING, KEY_ID_KEY, EncryptionCodec
from omniroute.config.codec_keys import DEV_CODEC_KEY_ID, DEV_KEY_RING
from tests.fixtures.gateway import bearer, http_to
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for, warehouse_ships

# Temporal never runs these through the codec: search attributes are indexed in clear, and headers carry
# only the trace context. The test checks them for personal data separately.
NEVER_ENCODED = {"search_attributes", "header"}
# A local activity's marker keeps the SDK core's own bookkeeping under "data" (sequence number, attempt,
# activity type, times), written in clear by the core; its result, under "result", is encrypted.
LOCAL_ACTIVITY_BOOKKEEPING = ".marker_recorded_event_attributes.details[data]"
# A `workflow.patched` marker holds the patch's id under "patch-data", written in clear by the core too
# (it carries no order data: the test still checks every payload for personal data below).
PATCH_MARKER = ".marker_recorded_event_attributes.details[patch-data]"


def a_customer_order() -> tuple[PlaceOrder, list[bytes]]:
    """An order whose customer's name, e-mail, phone and street are unique to this test run."""
    tag = uuid.uuid4().hex[:10]
    name, email = f"Zelda Quill {tag}", f"zq-{tag}@example.com"
    phone, street = f"+1 312 555 {tag[:4]}", f"{tag} Hidden Ln"
    ship_to = Address(name=name, line1=street, city="Chicago", region="IL", postal_code="60601", phone=phone)
    order = an_order(("SKU-PII", 1), ship_to=ship_to).model_copy(update={"customer": Customer(email=email, name=name)})
    return order, [value.encode() for value in (name, email, phone, street)]


def payloads_in(message: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """Every Payload inside a history event, with where it sits, except in the fields never encoded."""
    if isinstance(message, Payload):
        yield path, message
        return
    for field, value in message.ListFields():
        kind = field.message_type
        if field.name in NEVER_ENCODED or kind is None:
            continue
        if kind.GetOptions().map_entry:
            if kind.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE:
                for key, item in value.items():
                    yield from payloads_in(item, f"{path}.{field.name}[{key}]")
        elif field.is_repeated:
            for index, item in enumerate(value):
                yield from payloads_in(item, f"{path}.{field.name}[{index}]")
        else:
            yield from payloads_in(value, f"{path}.{field.name}")


async def raw_history(worker: RunningWorker, workflow_id: str) -> WorkflowHistory:
    """The history as Temporal stores it, read by a client that has no codec."""
    no_codec = await Client.connect(worker.temporal.service_client.config.target_host,
                                    namespace=worker.temporal.namespace, data_converter=pydantic_data_converter)
    return await no_codec.get_workflow_handle(workflow_id).fetch_history()


async def a_delivered_order(w: RunningWorker, order: PlaceOrder) -> OrderView:
    add_node(w.store, "dc-il", "60106")
    w.store.set_on_hand("dc-il", "SKU-PII", 5, source="test")
    await w.sdk.place_order(order)
    view = await wait_for(w, order.order_id, all_released)
    for shipment in view.shipments:
        await warehouse_ships(w, shipment.shipment_id)
    result: OrderView = await w.temporal.get_workflow_handle(
        order_workflow_id(order.order_id), result_type=OrderView).result()
    assert result.status is OrderStatus.COMPLETED
    return result


async def test_a_history_read_straight_from_temporal_holds_only_ciphertext_that_the_codec_reads(
    omniroute_worker: RunningWorker,
) -> None:
    w = omniroute_worker
    order, personal = a_customer_order()
    view = await a_delivered_order(w, order)

    codec = EncryptionCodec(DEV_KEY_RING)
    decoded_bytes = b""
    workflow_ids = [order_workflow_id(order.order_id), *(fulfilment_workflow_id(s.shipment_id) for s in view.shipments)]
    for workflow_id in workflow_ids:
        history = await raw_history(w, workflow_id)
        found = [(f"{workflow_id} event {event.event_id}{path}", payload)
                 for event in history.events for path, payload in payloads_in(event)]
        assert found, f"{workflow_id}: no payloads in its history"
        for where, payload in found:
            if LOCAL_ACTIVITY_BOOKKEEPING in where or PATCH_MARKER in where:
                continue
            assert payload.metadata.get("encoding") == ENCRYPTED_ENCODING, f"{where} is not encrypted"
            assert payload.metadata.get(KEY_ID_KEY) == DEV_CODEC_KEY_ID.encode(), f"{where}: no key id"
        for event in history.events:
            stored = event.SerializeToString()
            for value in personal:
                assert value not in stored, f"{workflow_id} event {event.event_id} holds {value!r} in clear"
        decoded_bytes += b"".join(p.SerializeToString() for p in await codec.decode([p for _, p in found]))

    for value in personal:
        assert value in decoded_bytes, f"the codec did not give back {value!r}"


async def test_search_attributes_and_logs_never_name_the_customer(
    omniroute_worker: RunningWorker, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    w = omniroute_worker
    order, personal = a_customer_order()
    view = await a_delivered_order(w, order)

    for workflow_id in [order_workflow_id(order.order_id), *(fulfilment_workflow_id(s.shipment_id)
                                                               for s in view.shipments)]:
        description = await w.temporal.get_workflow_handle(workflow_id).describe()
        indexed = repr(description.raw_description.workflow_execution_info.search_attributes).encode()
        summary = f"{await description.static_summary()} {await description.static_details()}".encode()
        for value in personal:
            assert value not in indexed, f"{workflow_id}: search attributes hold {value!r}"
            assert value not in summary, f"{workflow_id}: its summary holds {value!r}"
    logged = "\n".join(record.getMessage() + repr(getattr(record, "__dict__", {})) for record in caplog.records)
    assert caplog.records, "nothing was logged: the check below would prove nothing"
    for value in personal:
        assert value.decode() not in logged, f"a log record holds {value!r}"


async def test_the_gateway_codec_endpoint_decodes_a_history_for_an_operator_key_and_refuses_a_channel_key(
    omniroute_worker: RunningWorker,
) -> None:
    w = omniroute_worker
    order, personal = a_customer_order()
    await w.sdk.place_order(order)
    await wait_for(w, order.order_id, lambda view: view.status is not OrderStatus.RECEIVED)
    history = await raw_history(w, order_workflow_id(order.order_id))
    [started] = [event for event in history.events if event.HasField("workflow_execution_started_event_attributes")]
    sealed = started.workflow_execution_started_event_attributes.input
    body = json_format.MessageToDict(sealed)

    operator = w.store.create_key(KeyCreate(name="operator reading orders", role=Role.OPERATOR)).token
    channel = w.store.create_key(KeyCreate(name="the shop", role=Role.CHANNEL, channels=[order.channel])).token
    app = create_app(w.settings, store=w.store, client=w.sdk)
    async with http_to(app, token=None) as http:
        decoded = await http.post("/codec/decode", json=body,
                                  headers={"X-Namespace": w.temporal.namespace, **bearer(operator)})
        refused = await http.post("/codec/decode", json=body, headers=bearer(channel))

    assert refused.status_code == 403
    assert all(value.decode() not in refused.text for value in personal)
    assert decoded.status_code == 200, decoded.text
    [payload] = decoded.json()["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    text = base64.b64decode(payload["data"])
    assert all(value in text for value in personal)
