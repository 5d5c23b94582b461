"""Dropship activities: send a vendor the purchase order for a shipment, and ask it to cancel one.

They translate and call; the fulfilment decides what an answer means. The PO's line costs come from
the cost model (`NodeCosts.unit_cost_cents` of the vendor's node); the signing secret from the
settings entry the node's `provider.credentials_ref` names (resolved by the injected `secret_for`).
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import INVALID_DATA, classified_errors
from integrations.dropship.client import PurchaseOrderClient
from integrations.dropship.wire import PoAddress, PoCancel, PoLine, PurchaseOrder, RequestedService
from models.dropship import (
    CancelPurchaseOrder,
    PurchaseOrderCancel,
    PurchaseOrderSent,
    SendPurchaseOrder,
)
from models.money import Money
from models.network import NodeKind, ProviderSettings
from store.ports import SourcingDocuments


class DropshipActivities:
    """Failures: a node without a vendor URL or secret → ApplicationError("InvalidData"), a vendor's
    refusal (bad signature, a conflicting PO, 4xx) → ApplicationError("ProviderRejected"), both
    non-retryable; an unreachable vendor or a 5xx propagates for the retry policy."""

    def __init__(self, client: PurchaseOrderClient, documents: SourcingDocuments,
                 secret_for: Callable[[str], str]) -> None:
        self._client = client
        self._documents = documents
        self._secret_for = secret_for

    @activity.defn
    def send_purchase_order(self, request: SendPurchaseOrder) -> PurchaseOrderSent:
        """Send the PO (the same bytes on every retry; the vendor keeps one PO per number)."""
        base_url, secret = self._vendor(request.node_id, request.provider)
        costs = self._unit_costs(request.node_id)
        po = PurchaseOrder(
            po_number=request.po_number, order_reference=request.order_id, currency=request.currency,
            lines=[PoLine(line_no=line.line_no, sku=line.sku, quantity=line.quantity, unit_cost=costs.get(line.sku))
                   for line in request.lines],
            ship_to=PoAddress(name=request.ship_to.name, line1=request.ship_to.line1, line2=request.ship_to.line2,
                              city=request.ship_to.city, region=request.ship_to.region,
                              postal_code=request.ship_to.postal_code, country=request.ship_to.country,
                              phone=request.ship_to.phone),
            requested_service=RequestedService(level=request.service_level.value, carrier=request.carrier,
                                               service=request.carrier_service),
            promised_delivery_date=request.promised_by,
        )
        with classified_errors():
            receipt = self._client.send_purchase_order(base_url, secret, po, request.issued_at)
        priced = [line.unit_cost * line.quantity for line in po.lines if line.unit_cost is not None]
        total = Money(amount=sum(priced), currency=request.currency) if len(priced) == len(po.lines) else None
        return PurchaseOrderSent(po_number=receipt.po_number, vendor_reference=receipt.vendor_reference,
                                 total_cost=total, duplicate=receipt.duplicate)

    @activity.defn
    def cancel_purchase_order(self, request: CancelPurchaseOrder) -> PurchaseOrderCancel:
        """Ask the vendor to cancel the PO: cancelled, refused (it shipped), or later (it answers by event)."""
        base_url, secret = self._vendor(request.node_id, request.provider)
        with classified_errors():
            outcome = self._client.cancel_purchase_order(
                base_url, secret, PoCancel(po_number=request.po_number, reason=request.reason[:500]),
                request.issued_at)
        return PurchaseOrderCancel(po_number=request.po_number, answer=outcome)

    def _vendor(self, node_id: str, provider: ProviderSettings) -> tuple[str, str]:
        if provider.base_url is None:
            raise ApplicationError(f"node {node_id}: provider.base_url is required for a dropship vendor",
                                   type=INVALID_DATA, non_retryable=True)
        try:
            secret = self._secret_for(provider.credentials_ref)
        except ValueError as err:
            raise ApplicationError(f"node {node_id}: {err}", type=INVALID_DATA, non_retryable=True) from err
        return provider.base_url, secret

    def _unit_costs(self, node_id: str) -> dict[str, int]:
        stored = self._documents.cost_model()
        if stored is None:
            return {}
        return dict(stored[0].node_costs(node_id, NodeKind.DROPSHIP).unit_cost_cents)
