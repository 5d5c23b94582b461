"""EasyPost's tracker webhooks through the gateway, into a real DC fulfilment on the dev server: the
signature decides first, then the tracker's status moves the shipment found by its tracking code.

The events are the EasyPost sandbox's own Event JSON (tests/integration/test_easypost_trackers.py checks
it and its signature against the official SDK), posted to an in-process gateway.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from easypost.errors import SignatureVerificationError
from easypost.util import validate_webhook
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.signatures import easypost_signature_valid
from integrations.carriers.tracking import TrackerStatus, new_tracker, sign, tracker_event, with_status
from integrations.sandbox import SandboxServer
from models.order import OrderStatus, OrderView
from models.shipment import ShipmentState, TrackingException
from omniroute.config.settings import DEV_EASYPOST_WEBHOOK_SECRET
from tests.fixtures.eventually import eventually
from tests.fixtures.gateway import gateway_app, gateway_for
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, wait_for
from workflows.search_attributes import TRACKING_EXCEPTION

SECRET = DEV_EASYPOST_WEBHOOK_SECRET


@dataclass
class Carrier:
    """Posts EasyPost events about one tracking code to the gateway, signed with the webhook secret."""

    http: httpx.AsyncClient
    tracking_code: str
    status: TrackerStatus = "pre_transit"

    def event(self, status: TrackerStatus) -> bytes:
        tracker = with_status(new_tracker(self.tracking_code, "USPS", None, self.status), status)
        previous, self.status = self.status, status
        return json.dumps(tracker_event(tracker, previous, ["http://gateway/webhooks/easypost"])).encode()

    async def post(self, body: bytes, secret: str | None = SECRET) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Hmac-Signature"] = sign(body, secret)
        return await self.http.post("/webhooks/easypost", content=body, headers=headers)

    async def reports(self, status: TrackerStatus) -> dict[str, object]:
        response = await self.post(self.event(status))
        assert response.status_code == 200, response.text
        return dict(response.json())


@dataclass
class Released:
    worker: RunningWorker
    order_id: str
    shipment_id: str
    carrier: Carrier

    async def view(self) -> OrderView:
        return await self.worker.sdk.get_order(self.order_id)


@pytest.fixture
async def released(omniroute_worker: RunningWorker) -> AsyncIterator[Released]:
    """An order of one unit from a DC, released with its label bought at the EasyPost sandbox."""
    node, sku = f"dc-{uuid.uuid4().hex[:6]}", f"SKU-{uuid.uuid4().hex[:6]}"
    add_node(omniroute_worker.store, node, "60106")
    omniroute_worker.store.set_on_hand(node, sku, 5, source="test")
    order = an_order((sku, 1))
    await omniroute_worker.sdk.place_order(order)
    view = await wait_for(omniroute_worker, order.order_id, all_released)
    [shipment] = view.shipments
    assert shipment.tracking_number is not None
    async with gateway_for(omniroute_worker.store, omniroute_worker.sdk) as http:
        yield Released(omniroute_worker, order.order_id, shipment.shipment_id, Carrier(http, shipment.tracking_number))


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300), secret=st.text(min_size=1, max_size=40), tamper=st.booleans())
def test_our_check_agrees_with_the_sdks_validator(body: bytes, secret: str, tamper: bool) -> None:
    signature = sign(body, secret) if not tamper else sign(body + b"x", secret)
    try:
        validate_webhook(body, {"X-Hmac-Signature": signature}, secret)
    except SignatureVerificationError:
        sdk_accepts = False
    except ValueError:  # the signature held but the body is not JSON: the SDK parses after checking
        sdk_accepts = True
    else:
        sdk_accepts = True
    assert easypost_signature_valid(body, signature, secret) is sdk_accepts
    assert sdk_accepts is not tamper


async def test_a_bad_or_missing_signature_is_a_401_and_nothing_moves(released: Released) -> None:
    body = released.carrier.event("delivered")

    wrong = await released.carrier.post(body, secret="not the secret")
    missing = await released.carrier.post(body, secret=None)
    tampered = await released.carrier.http.post(
        "/webhooks/easypost", content=body.replace(b"delivered", b"in_transit", 1),
        headers={"X-Hmac-Signature": sign(body, SECRET)})

    assert [wrong.status_code, missing.status_code, tampered.status_code] == [401, 401, 401]
    assert (await released.view()).shipments[0].state is ShipmentState.RELEASED


async def test_tracker_statuses_move_the_shipment_and_a_resent_or_late_event_is_a_200(released: Released) -> None:
    carrier = released.carrier
    in_transit = carrier.event("in_transit")

    first = await carrier.post(in_transit)
    again = await carrier.post(in_transit)
    out = await carrier.reports("out_for_delivery")
    late = await carrier.reports("in_transit")  # another event id, for a state already passed

    assert first.status_code == 200 and first.json()["outcome"] == "applied", first.text
    assert first.json()["shipment_id"] == released.shipment_id
    assert again.status_code == 200 and again.json()["outcome"] == "replay"
    assert out["outcome"] == "applied"
    assert late["outcome"] == "stale" and "out_for_delivery" in str(late["detail"])
    delivered = await carrier.reports("delivered")
    assert delivered["outcome"] == "applied"
    done = await wait_for(released.worker, released.order_id, lambda v: v.status is OrderStatus.COMPLETED)
    assert done.shipments[0].state is ShipmentState.DELIVERED
    after_the_end = await carrier.post(carrier.event("out_for_delivery"))
    assert after_the_end.status_code == 200 and after_the_end.json()["outcome"] == "stale"


async def test_a_scan_before_the_warehouse_shipped_ships_it_and_the_warehouses_shipped_is_a_202_done(
        released: Released) -> None:
    carrier, worker, sid = released.carrier, released.worker, released.shipment_id
    picked = await carrier.http.post(f"/v1/shipments/{sid}/events", json={"type": "picked", "event_id": f"{sid}-p"})
    assert picked.status_code == 202, picked.text

    scan = await carrier.reports("in_transit")

    assert scan["outcome"] == "applied" and scan["detail"] == "picked -> in_transit", scan
    view = await wait_for(worker, released.order_id, lambda v: v.shipments[0].state is ShipmentState.IN_TRANSIT)
    assert view.shipments[0].shipped_at is not None
    notes = [e for e in view.events if e.startswith(sid)]
    assert [e.split()[1] for e in notes if e.split()[1] in ("shipped", "in_transit")] == ["shipped", "in_transit"]
    assert any("the carrier's in_transit scan came before the node reported shipped" in e for e in notes), notes
    for step in ("packed", "shipped"):
        late = await carrier.http.post(f"/v1/shipments/{sid}/events", json={"type": step, "event_id": f"{sid}-{step}"})
        assert late.status_code == 202, late.text
        body = late.json()
        assert (body["replay"], body["carrier_first"], body["signalled"]) == (True, True, False)
        assert body["from_state"] == body["to_state"] == "in_transit"

    assert (await carrier.reports("delivered"))["outcome"] == "applied"
    done = await wait_for(worker, released.order_id, lambda v: v.status is OrderStatus.COMPLETED)
    assert done.shipments[0].state is ShipmentState.DELIVERED


async def test_an_exception_is_shown_searchable_and_cleared_by_delivery(released: Released) -> None:
    carrier, worker = released.carrier, released.worker
    await carrier.reports("in_transit")

    failed = await carrier.reports("failure")

    assert failed["outcome"] == "applied" and failed["event_type"] == "exception"
    view = await wait_for(worker, released.order_id,
                          lambda v: v.shipments[0].exception is TrackingException.FAILED_ATTEMPT)
    assert view.shipments[0].state is ShipmentState.IN_TRANSIT
    found = (await carrier.http.get("/v1/orders", params={"exception": "true"})).json()["items"]
    by_kind = (await carrier.http.get("/v1/orders", params={"tracking_exception": "failed_attempt"})).json()
    other_kind = (await carrier.http.get("/v1/orders", params={"tracking_exception": "returned_to_sender"})).json()
    assert released.order_id in [o["order_id"] for o in found]
    assert released.order_id in [o["order_id"] for o in by_kind["items"]]
    assert released.order_id not in [o["order_id"] for o in other_kind["items"]]
    query = f"{TRACKING_EXCEPTION.name} = 'failed_attempt' AND WorkflowId = 'order-{released.order_id}'"
    await eventually(lambda: _count(worker, query), "the order found by its TrackingException")
    timeline = (await carrier.http.get(f"/v1/orders/{released.order_id}/timeline")).json()
    assert any("exception (failed_attempt)" in e["summary"] for e in timeline["events"]), timeline

    await carrier.reports("out_for_delivery")
    await carrier.reports("delivered")

    done = await wait_for(worker, released.order_id, lambda v: v.status is OrderStatus.COMPLETED)
    assert done.shipments[0].exception is None
    cleared = (await carrier.http.get("/v1/orders", params={"exception": "false"})).json()["items"]
    assert released.order_id in [o["order_id"] for o in cleared]
    unset = f"{TRACKING_EXCEPTION.name} IS NULL AND WorkflowId = 'order-{released.order_id}'"
    await eventually(lambda: _count(worker, unset), "the TrackingException unset after delivery")


async def test_unknown_tracking_codes_other_events_and_quiet_statuses_are_acknowledged(released: Released) -> None:
    stranger = Carrier(released.carrier.http, "EZ0000000000UNKNOWN")
    unknown = await stranger.reports("delivered")
    quiet = await released.carrier.reports("pre_transit")
    batch = json.dumps({"id": "evt_batch1", "object": "Event", "description": "batch.updated",
                        "result": {"id": "batch_1"}}).encode()
    other = await released.carrier.post(batch)

    assert unknown["outcome"] == "ignored" and "EZ0000000000UNKNOWN" in str(unknown["detail"])
    assert quiet["outcome"] == "ignored"
    assert other.status_code == 200 and other.json()["outcome"] == "ignored"
    assert (await released.view()).shipments[0].state is ShipmentState.RELEASED


async def test_a_signed_body_that_is_not_a_tracker_event_is_a_422_naming_the_field(released: Released) -> None:
    body = json.dumps({"id": "evt_1", "object": "Event", "description": "tracker.updated",
                       "result": {"status": "delivered"}}).encode()

    response = await released.carrier.post(body)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "result", "tracking_code"]


async def _count(worker: RunningWorker, query: str) -> int:
    return (await worker.temporal.count_workflows(query)).count


async def test_the_sandbox_carriers_tracker_delivers_the_shipment_through_the_gateway(
        released: Released, sandbox: RunningSandbox) -> None:
    """End to end: the label's tracker at the EasyPost sandbox posts its signed events over HTTP to a
    served gateway, which moves the DC's shipment to delivered."""
    app = gateway_app(released.worker.store, released.worker.sdk)
    auth = {"Authorization": f"Bearer {sandbox.easypost_key}"}
    code = released.carrier.tracking_code
    with SandboxServer(app) as gateway:
        async with httpx.AsyncClient(base_url=sandbox.easypost_url, headers=auth, timeout=5) as easypost:
            hook = (await easypost.post("/webhooks", json={
                "webhook": {"url": f"{gateway.url}/webhooks/easypost", "webhook_secret": SECRET}})).json()
            try:
                for _ in range(3):  # in_transit, out_for_delivery, delivered
                    (await easypost.post(f"/_sandbox/trackers/{code}/advance")).raise_for_status()
                done = await wait_for(released.worker, released.order_id,
                                      lambda v: v.status is OrderStatus.COMPLETED)
            finally:
                await easypost.delete(f"/webhooks/{hook['id']}")
    assert done.shipments[0].state is ShipmentState.DELIVERED
    assert done.shipments[0].delivered_at is not None
