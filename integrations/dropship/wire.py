"""The purchase-order wire format a vendor taking signed POs (`provider: omniroute-po`) speaks.

Requests are JSON, signed as Standard Webhooks (`webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{raw body}`, the key being the
vendor's `whsec_` secret) and carry `Idempotency-Key: <po_number>`. The body is the Standard Webhooks
envelope `{"type", "timestamp", "data"}`:

- `POST {base_url}/purchase-orders`, type `purchase_order.created`, data `PurchaseOrder`:
  201 `{"po_number", "status": "received", "vendor_reference"}`; the same PO again: 200 with the first
  answer; the same number with other data: 409 `{"error": {"code": "po_conflict", ...}}`.
- `POST {base_url}/purchase-orders/{po_number}/cancel`, type `purchase_order.cancel_requested`, data
  `{"po_number", "reason"}`: 200 `{"status": "cancelled"}`; 202 `{"status": "cancel_pending"}` (the
  vendor answers later with a `cancelled` node event, or ships); 409 `{"error": {"code":
  "already_shipped"}}`; 404 `{"error": {"code": "po_not_found"}}` (it never had it: nothing to cancel).
- Errors: `{"error": {"code", "message", "field"}}`; 401 `invalid_signature`, 422 naming the field.

The vendor answers a PO through Omniroute's gateway: `POST /v1/shipments/{po_number}/events` with
its node key (accepted; rejected with `reason`; shipped with `carrier` and `tracking_number`).
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field
from standardwebhooks import Webhook

PO_CREATED = "purchase_order.created"
PO_CANCEL_REQUESTED = "purchase_order.cancel_requested"
ALREADY_SHIPPED = "already_shipped"
PO_NOT_FOUND = "po_not_found"
INVALID_SIGNATURE = "invalid_signature"
PO_CONFLICT = "po_conflict"


class PoAddress(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    line1: str
    line2: str | None = None
    city: str
    region: str = ""
    postal_code: str | None = None
    country: str
    phone: str | None = None


class PoLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    line_no: int = Field(ge=1)
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    unit_cost: int | None = Field(default=None, ge=0, description="the vendor's price, minor units; None: off-list")


class RequestedService(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    level: str
    carrier: str | None = None
    service: str | None = None


class PurchaseOrder(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    po_number: str = Field(min_length=1, max_length=200)
    order_reference: str
    currency: str = Field(min_length=3, max_length=3)
    lines: list[PoLine] = Field(min_length=1)
    ship_to: PoAddress
    requested_service: RequestedService
    promised_delivery_date: date | None = None


class PoCancel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    po_number: str = Field(min_length=1, max_length=200)
    reason: str = Field(max_length=500)


class Envelope(BaseModel):
    """The Standard Webhooks payload shape."""

    model_config = ConfigDict(extra="forbid")

    type: str
    timestamp: datetime
    data: dict[str, object]


def envelope_bytes(kind: str, issued_at: datetime, data: BaseModel) -> bytes:
    """The body as sent: the same bytes for the same PO and time, so a retry sends what it sent before."""
    envelope = Envelope(type=kind, timestamp=issued_at, data=data.model_dump(mode="json"))
    return envelope.model_dump_json().encode()


def signed_headers(secret: str, message_id: str, body: bytes, *, now: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks headers for `body`: the id stays the same across retries, the time is this attempt's."""
    when = now or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id=message_id, timestamp=when, data=body)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signature}


def new_secret() -> str:
    """A fresh `whsec_` secret (24 random bytes), for a vendor's onboarding."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
