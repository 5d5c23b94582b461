"""The purchase-order client against the vendor sandbox over real HTTP: POs are signed with the Standard
Webhooks library and verified by it (a tampered or wrongly signed PO is refused), sending the same PO
twice leaves one PO, a PO cancel is answered yes before shipping and no after, and the PO carries the
vendor's unit costs from the cost model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from activities.dropship import DropshipActivities
from integrations.dropship.client import PurchaseOrderClient
from integrations.dropship.wire import (
    PO_CREATED,
    PoAddress,
    PoCancel,
    PoLine,
    PurchaseOrder,
    RequestedService,
    envelope_bytes,
    new_secret,
    signed_headers,
)
from integrations.http import PermanentProviderError
from models.costs import CostModel, NodeCosts
from models.dropship import CancelPurchaseOrder, SendPurchaseOrder
from models.fulfilment import CancelAnswer
from models.network import NodeKind
from models.shipment import ShipmentLine
from omniroute.config.settings import dev_partner_secret
from omniroute.files.cost_files import demo_cost_model_path, load_cost_model
from tests.fixtures.dropship import configure_vendor, purchase_orders, vendor_node, vendor_stats, vendor_url
from tests.fixtures.eventually import eventually
from tests.fixtures.fakes import FakeSourcingDocuments
from tests.fixtures.orders import CHICAGO
from tests.fixtures.sandbox import RunningSandbox


def _vendor(sandbox: RunningSandbox, **knobs: object) -> str:
    """A vendor whose answers go nowhere (404): only the PO exchange is tried here."""
    vendor_id = f"vendor-{uuid.uuid4().hex[:8]}"
    configure_vendor(sandbox.url, vendor_id, events_url=f"{sandbox.url}/no-gateway", node_key="omr_none", **knobs)
    return vendor_id


def _po(po_number: str) -> PurchaseOrder:
    return PurchaseOrder(
        po_number=po_number, order_reference="order-1", currency="USD",
        lines=[PoLine(line_no=1, sku="GRILL-1", quantity=2, unit_cost=4500)],
        ship_to=PoAddress(name="Ada Buyer", line1="1 Main St", city="Chicago", region="IL", postal_code="60601",
                          country="US"),
        requested_service=RequestedService(level="standard", carrier="UPS", service="Ground"),
    )


def test_a_signed_po_is_received_once_even_when_sent_twice(sandbox: RunningSandbox) -> None:
    vendor_id = _vendor(sandbox, answers=["silent"])
    now = datetime.now(UTC)
    with PurchaseOrderClient() as client:
        first = client.send_purchase_order(vendor_url(sandbox.url, vendor_id), dev_partner_secret(vendor_id),
                                           _po("S-1"), now)
        again = client.send_purchase_order(vendor_url(sandbox.url, vendor_id), dev_partner_secret(vendor_id),
                                           _po("S-1"), now)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.vendor_reference == again.vendor_reference
    [received] = purchase_orders(sandbox.url, vendor_id)
    assert received["po"]["lines"] == [{"line_no": 1, "sku": "GRILL-1", "quantity": 2, "unit_cost": 4500}]
    assert vendor_stats(sandbox.url, vendor_id)["duplicates"] == 1


def test_a_tampered_po_is_refused_by_the_library_check(sandbox: RunningSandbox) -> None:
    vendor_id = _vendor(sandbox)
    body = envelope_bytes(PO_CREATED, datetime.now(UTC), _po("S-2"))
    headers = {"content-type": "application/json", **signed_headers(dev_partner_secret(vendor_id), "po_S-2", body)}
    tampered = body.replace(b'"quantity":2', b'"quantity":20')
    assert tampered != body

    refused = httpx.post(f"{vendor_url(sandbox.url, vendor_id)}/purchase-orders", content=tampered, headers=headers)
    accepted = httpx.post(f"{vendor_url(sandbox.url, vendor_id)}/purchase-orders", content=body, headers=headers)

    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_signature"
    assert accepted.status_code == 201
    assert [po["po"]["lines"][0]["quantity"] for po in purchase_orders(sandbox.url, vendor_id)] == [2]
    assert vendor_stats(sandbox.url, vendor_id)["refused_signature"] == 1


def test_a_po_signed_with_another_secret_is_a_permanent_refusal(sandbox: RunningSandbox) -> None:
    vendor_id = _vendor(sandbox)
    with PurchaseOrderClient() as client, pytest.raises(PermanentProviderError) as refused:
        client.send_purchase_order(vendor_url(sandbox.url, vendor_id), new_secret(), _po("S-3"), datetime.now(UTC))
    assert refused.value.status == 401 and refused.value.code == "invalid_signature"
    assert purchase_orders(sandbox.url, vendor_id) == []


async def test_the_vendor_cancels_a_po_it_has_not_shipped_and_refuses_once_it_has(sandbox: RunningSandbox) -> None:
    accepting = _vendor(sandbox, answers=["accept"])
    shipping = _vendor(sandbox, answers=["ship"])
    now = datetime.now(UTC)
    with PurchaseOrderClient() as client:
        for vendor_id in (accepting, shipping):
            client.send_purchase_order(vendor_url(sandbox.url, vendor_id), dev_partner_secret(vendor_id),
                                       _po("S-4"), now)
        for vendor_id, status in ((accepting, "accepted"), (shipping, "shipped")):
            await eventually(lambda v=vendor_id, s=status: purchase_orders(sandbox.url, v)[0]["status"] == s,
                             what=f"{vendor_id}'s PO {status}")
        answers = {vendor_id: client.cancel_purchase_order(
            vendor_url(sandbox.url, vendor_id), dev_partner_secret(vendor_id),
            PoCancel(po_number="S-4", reason="customer request"), now) for vendor_id in (accepting, shipping)}
        unknown = client.cancel_purchase_order(vendor_url(sandbox.url, accepting), dev_partner_secret(accepting),
                                               PoCancel(po_number="S-404", reason="customer request"), now)
    assert answers == {accepting: CancelAnswer.CANCELLED, shipping: CancelAnswer.REFUSED}
    assert unknown is CancelAnswer.CANCELLED, "a PO the vendor never had leaves nothing to cancel"
    assert [po["status"] for po in purchase_orders(sandbox.url, accepting)] == ["cancelled"]


def test_the_activity_prices_po_lines_from_the_vendors_unit_costs(sandbox: RunningSandbox) -> None:
    vendor_id = _vendor(sandbox, answers=["silent"])
    node = vendor_node(sandbox.url, vendor_id, "60106")
    assert node.provider is not None
    demo = load_cost_model(demo_cost_model_path())
    documents = FakeSourcingDocuments()
    documents.set_cost_model(CostModel.model_validate(demo.model_dump() | {
        "nodes": {vendor_id: NodeCosts(unit_cost_cents={"GRILL-1": 4500})}}))
    request = SendPurchaseOrder(
        po_number=f"{vendor_id}-S1", order_id="order-2", node_id=vendor_id, provider=node.provider,
        lines=[ShipmentLine(line_no=1, sku="GRILL-1", quantity=2), ShipmentLine(line_no=2, sku="TONGS", quantity=1)],
        ship_to=CHICAGO, service_level="standard", currency="USD", issued_at=datetime.now(UTC))
    with PurchaseOrderClient() as client:
        activities = DropshipActivities(client, documents, secret_for=dev_partner_secret)
        sent = activities.send_purchase_order(request)
        priced_all = activities.send_purchase_order(request.model_copy(update={
            "po_number": f"{vendor_id}-S2", "lines": request.lines[:1]}))
        cancelled = activities.cancel_purchase_order(CancelPurchaseOrder(
            po_number=f"{vendor_id}-S1", node_id=vendor_id, provider=node.provider, reason="silent",
            issued_at=datetime.now(UTC)))
    lines = {po["po"]["po_number"]: po["po"]["lines"] for po in purchase_orders(sandbox.url, vendor_id)}
    assert [line["unit_cost"] for line in lines[f"{vendor_id}-S1"]] == [4500, None]
    assert sent.total_cost is None, "a PO with an unpriced line has no total"
    assert priced_all.total_cost is not None and priced_all.total_cost.amount == 9000
    assert cancelled.answer is CancelAnswer.CANCELLED
    assert NodeKind.DROPSHIP is node.kind
