"""A dropship vendor's purchase orders: what the fulfilment asks the activities to send, and the answers.

One purchase order (PO) per shipment, numbered by the shipment id, so that sending it again is a
no-op at the vendor. The vendor buys its own label and answers through the gateway's node events
(accepted, rejected, shipped with carrier and tracking); a PO cancel is answered at once (cancelled,
or refused because it shipped) or later (a `cancelled` event).
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from models.address import Address
from models.costs import ServiceLevel
from models.fulfilment import CancelAnswer
from models.money import Money
from models.network import ProviderSettings
from models.shipment import ShipmentLine


class SendPurchaseOrder(BaseModel):
    """Send the vendor a PO for one shipment (idempotent by `po_number`)."""

    po_number: str = Field(min_length=1, description="our shipment id")
    order_id: str
    node_id: str
    provider: ProviderSettings
    lines: list[ShipmentLine] = Field(min_length=1)
    ship_to: Address
    service_level: ServiceLevel
    carrier: str | None = Field(default=None, description="the carrier sourcing priced, asked of the vendor")
    carrier_service: str | None = None
    promised_by: date | None = Field(default=None, description="the delivery date promised to the customer")
    currency: str
    issued_at: datetime = Field(description="when the fulfilment issued it: the same on every retry")


class PurchaseOrderSent(BaseModel):
    po_number: str
    vendor_reference: str | None = None
    total_cost: Money | None = Field(default=None, description="the vendor's cost of the lines, when each has one")
    duplicate: bool = Field(default=False, description="the vendor had it already (a retried send)")


class CancelPurchaseOrder(BaseModel):
    po_number: str = Field(min_length=1)
    node_id: str
    provider: ProviderSettings
    reason: str
    issued_at: datetime


class PurchaseOrderCancel(BaseModel):
    po_number: str
    answer: CancelAnswer
