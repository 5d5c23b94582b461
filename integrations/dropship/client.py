"""Purchase orders to dropship vendors over the signed-JSON wire format of `integrations.dropship.wire`.

One client serves every vendor: each call names the vendor's base URL and signing secret (a node's
`provider.base_url`, and the secret its `credentials_ref` names). Failures leave as the
`integrations.http` tree: a refusal (401 bad signature, 409 another PO under this number, 422) is a
`PermanentProviderError`, an outage or 5xx a `TransientProviderError`.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from integrations.dropship.wire import (
    ALREADY_SHIPPED,
    PO_CANCEL_REQUESTED,
    PO_CREATED,
    PO_NOT_FOUND,
    PoCancel,
    PurchaseOrder,
    envelope_bytes,
    signed_headers,
)
from integrations.http import (
    DEFAULT_RETRY,
    ErrorDetail,
    PermanentProviderError,
    ProviderClient,
    RetryPolicy,
    idempotency_headers,
    json_object,
    send,
)
from models.fulfilment import CancelAnswer

PROVIDER = "dropship"


class PoReceipt(BaseModel):
    po_number: str
    vendor_reference: str | None = None
    duplicate: bool = False


class PurchaseOrderClient(ProviderClient):
    """Sends POs and PO cancels, signed with the vendor's secret."""

    provider = PROVIDER

    def __init__(self, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None,
                 retry: RetryPolicy = DEFAULT_RETRY) -> None:
        super().__init__("", {"Accept": "application/json"}, timeout=timeout, transport=transport, retry=retry)

    def send_purchase_order(self, base_url: str, secret: str, po: PurchaseOrder, issued_at: datetime) -> PoReceipt:
        """Send `po`; a PO the vendor has already (a retry after a lost answer) comes back `duplicate`."""
        body = envelope_bytes(PO_CREATED, issued_at, po)
        response = self._post(f"{base_url.rstrip('/')}/purchase-orders", secret, f"po_{po.po_number}",
                              body, po.po_number)
        data = json_object(PROVIDER, response)
        return PoReceipt(po_number=str(data.get("po_number") or po.po_number),
                         vendor_reference=_text(data.get("vendor_reference")), duplicate=response.status_code == 200)

    def cancel_purchase_order(self, base_url: str, secret: str, cancel: PoCancel, issued_at: datetime) -> CancelAnswer:
        """Ask the vendor to cancel: cancelled (or it never had the PO), refused (it shipped), or later."""
        body = envelope_bytes(PO_CANCEL_REQUESTED, issued_at, cancel)
        url = f"{base_url.rstrip('/')}/purchase-orders/{quote(cancel.po_number, safe='')}/cancel"
        try:
            response = self._post(url, secret, f"po_{cancel.po_number}_cancel", body, f"{cancel.po_number}-cancel")
        except PermanentProviderError as err:
            if err.code == ALREADY_SHIPPED:
                return CancelAnswer.REFUSED
            if err.code == PO_NOT_FOUND:
                return CancelAnswer.CANCELLED
            raise
        return CancelAnswer.LATER if response.status_code == 202 else CancelAnswer.CANCELLED

    def _post(self, url: str, secret: str, message_id: str, body: bytes, idempotency_key: str) -> httpx.Response:
        headers = {"content-type": "application/json", **signed_headers(secret, message_id, body),
                   **idempotency_headers(idempotency_key)}
        request = self._http.build_request("POST", url, content=body, headers=headers)
        return send(self._http, request, provider=PROVIDER, parse_error=parse_error, retry=self._retry)


def parse_error(response: httpx.Response) -> ErrorDetail:
    """`{"error": {"code", "message", "field"}}` → ErrorDetail."""
    fallback = response.reason_phrase or f"HTTP {response.status_code}"
    body = response.json() if response.content.strip() else {}
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ErrorDetail(message=fallback)
    return ErrorDetail(message=str(error.get("message") or fallback), code=_text(error.get("code")),
                       field=_text(error.get("field")))


def _text(value: object) -> str | None:
    return str(value) if value else None
