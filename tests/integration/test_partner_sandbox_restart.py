"""The partner sandboxes (the webhook WMS and the dropship vendors) on the `omniroute sandbox` command's
state file: a node or vendor configured before a restart is still played after it, a message or PO
received before it is still a duplicate after it, and a vendor's answer that was due when the process
died is given once it is back."""

from __future__ import annotations

import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request

from integrations.dropship.client import PurchaseOrderClient
from integrations.dropship.wire import PoAddress, PoLine, PurchaseOrder, RequestedService
from integrations.sandbox import SandboxServer
from integrations.webhooks.standard import message_body, sign_headers
from models.handoff import RELEASED_MESSAGE
from omniroute.config.settings import dev_partner_secret
from omniroute.devstack.ports import free_port
from tests.fixtures.dropship import configure_vendor, purchase_orders, vendor_stats, vendor_url
from tests.fixtures.eventually import eventually
from tests.integration.test_sandbox_restart import sandbox_command


def _released(url: str, node_id: str, secret: str, message_id: str, shipment_id: str) -> httpx.Response:
    at = datetime.now(UTC)
    body = message_body(RELEASED_MESSAGE, {"shipment_id": shipment_id}, at=at)
    return httpx.post(f"{url}/wms/nodes/{node_id}/webhooks", content=body,
                      headers={**sign_headers(secret, message_id, body, at=at), "content-type": "application/json"},
                      timeout=10)


def test_a_wms_node_and_the_messages_it_received_outlive_a_killed_sandbox(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    node_id, secret = f"dc-{uuid.uuid4().hex[:6]}", "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQ="
    with sandbox_command(data_dir, port, signal.SIGKILL) as url:
        httpx.put(f"{url}/wms/_sandbox/nodes/{node_id}", json={"secret": secret, "cancel": "refuse"},
                  timeout=10).raise_for_status()
        first = _released(url, node_id, secret, "msg_1", "S-1")

    with sandbox_command(data_dir, port) as url:
        again = _released(url, node_id, secret, "msg_1", "S-1")  # the node is known: not a 404
        other = _released(url, node_id, secret, "msg_2", "S-2")
        stats = httpx.get(f"{url}/wms/_sandbox/stats", timeout=10).json()
        messages = httpx.get(f"{url}/wms/_sandbox/messages", params={"node_id": node_id}, timeout=10).json()

    assert [first.status_code, again.status_code, other.status_code] == [200, 200, 200]
    assert (stats["received"], stats["duplicates"]) == (2, 1)
    assert [(m["shipment_id"], m["attempts"]) for m in messages] == [("S-1", 2), ("S-2", 1)]


def _po(po_number: str) -> PurchaseOrder:
    return PurchaseOrder(
        po_number=po_number, order_reference="order-1", currency="USD",
        lines=[PoLine(line_no=1, sku="GRILL-1", quantity=1, unit_cost=4500)],
        ship_to=PoAddress(name="Ada Buyer", line1="1 Main St", city="Chicago", region="IL", postal_code="60601",
                          country="US"),
        requested_service=RequestedService(level="standard", carrier="UPS", service="Ground"),
    )


def _event_receiver() -> tuple[FastAPI, list[tuple[str, str]]]:
    """A stand-in for the gateway's node-event route: keeps (shipment, type) of every event posted."""
    app, received = FastAPI(), []

    @app.post("/v1/shipments/{shipment_id}/events", status_code=202)
    async def event(shipment_id: str, request: Request) -> dict[str, Any]:
        received.append((shipment_id, (await request.json())["type"]))
        return {"accepted": True}

    return app, received


async def test_a_vendor_po_received_before_a_killed_sandbox_is_answered_and_shipped_after_it(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    vendor_id, po_number = f"vendor-{uuid.uuid4().hex[:6]}", f"PO-{uuid.uuid4().hex[:6]}"
    app, received = _event_receiver()
    with SandboxServer(app) as gateway:
        with sandbox_command(data_dir, port, signal.SIGKILL) as url:
            # The answer is due 5 s after the PO: the sandbox is killed before it is given.
            configure_vendor(url, vendor_id, events_url=gateway.url, node_key="omr_vendor", answers=["ship"],
                             accept_delay_s=5.0)
            with PurchaseOrderClient() as client:
                first = client.send_purchase_order(vendor_url(url, vendor_id), dev_partner_secret(vendor_id),
                                                   _po(po_number), datetime.now(UTC))
        answered_before_restart = list(received)

        with sandbox_command(data_dir, port) as url:
            [kept] = purchase_orders(url, vendor_id)
            with PurchaseOrderClient() as client:
                again = client.send_purchase_order(vendor_url(url, vendor_id), dev_partner_secret(vendor_id),
                                                   _po(po_number), datetime.now(UTC))
            await eventually(lambda: len(received) >= 2, "the accepted and shipped events", timeout=30)
            [shipped] = purchase_orders(url, vendor_id)
            stats = vendor_stats(url, vendor_id)

    assert answered_before_restart == []
    assert kept["po"]["po_number"] == po_number and kept["status"] == "received"
    assert (again.duplicate, again.vendor_reference) == (True, first.vendor_reference)
    assert received == [(po_number, "accepted"), (po_number, "shipped")]
    assert shipped["status"] == "shipped"
    assert (stats["received"], stats["duplicates"]) == (1, 1)
