"""EasyPost client: create a shipment (rates come back inline), buy a rate once, void an unused label.

Wire format: https://api.easypost.com/v2, `Authorization: Bearer KEY`, JSON bodies wrapped in the
object name (`{"shipment": {...}}`), errors as `{"error": {"code", "message", "errors": [...]}}`.
EasyPost has no idempotency header: a retried buy is made exactly-once by treating
`SHIPMENT.POSTAGE.EXISTS` as "already bought" and reading the shipment back.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from integrations.http import (
    DEFAULT_RETRY,
    ErrorDetail,
    PermanentProviderError,
    ProviderClient,
    RetryPolicy,
    json_object,
    send,
)
from models.address import Address
from models.money import Money
from models.shipment import Label

PROVIDER = "easypost"
POSTAGE_EXISTS = "SHIPMENT.POSTAGE.EXISTS"


class Parcel(BaseModel):
    """A box: dimensions in inches, weight in ounces (EasyPost's units)."""

    model_config = ConfigDict(frozen=True)

    length: float = Field(gt=0)
    width: float = Field(gt=0)
    height: float = Field(gt=0)
    weight: float = Field(gt=0, description="ounces")


class EasyPostRate(BaseModel):
    """One carrier service quoted for a shipment; `rate_minor` is the price in cents."""

    model_config = ConfigDict(frozen=True)

    id: str
    carrier: str
    service: str
    rate_minor: int = Field(ge=0)
    currency: str
    delivery_days: int | None = None

    @property
    def price(self) -> Money:
        return Money(amount=self.rate_minor, currency=self.currency)


class EasyPostShipment(BaseModel):
    """The parts of an EasyPost Shipment that Omniroute acts on."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: str | None = None
    reference: str | None = None
    is_return: bool = False
    rates: list[EasyPostRate] = Field(default_factory=list)
    selected_rate: EasyPostRate | None = None
    tracking_code: str | None = None
    label_url: str | None = None
    label_format: str | None = Field(default=None, description="PNG, PDF or ZPL (from label_file_type)")
    refund_status: str | None = None

    @property
    def is_bought(self) -> bool:
        return self.selected_rate is not None and self.tracking_code is not None

    def rate_for(self, carrier: str, service: str) -> EasyPostRate | None:
        return next((r for r in self.rates if r.carrier == carrier and r.service == service), None)

    def label(self) -> Label | None:
        """Our Label for a bought shipment (None before buying)."""
        if self.selected_rate is None or self.tracking_code is None:
            return None
        rate = self.selected_rate
        return Label(carrier=rate.carrier, service=rate.service, tracking_number=self.tracking_code,
                     label_url=self.label_url, label_format=self.label_format, cost=rate.price,
                     carrier_shipment_id=self.id)


class EasyPostClient(ProviderClient):
    """Sync EasyPost client. Every method raises a `integrations.http.ProviderError` subclass on failure:
    `PermanentProviderError` for refusals (401 bad key, 404, 422 invalid parameters naming the field),
    `TransientProviderError`/`RateLimitedError` for outages and throttling (after in-process retries).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        super().__init__(base_url, {"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
                         timeout=timeout, transport=transport, retry=retry)

    def create_shipment(
        self,
        *,
        to_address: Address,
        from_address: Address,
        parcel: Parcel,
        reference: str,
        is_return: bool = False,
    ) -> EasyPostShipment:
        """Create a shipment and get its rates. For a return label pass the outbound addresses
        unchanged with `is_return=True`: EasyPost swaps them so the label runs back to `from_address`."""
        body = {
            "shipment": {
                "to_address": address_fields(to_address),
                "from_address": address_fields(from_address),
                "parcel": parcel.model_dump(),
                "reference": reference,
                "is_return": is_return,
            }
        }
        return parse_shipment(self._call("POST", "/shipments", json=body))

    def buy(self, shipment_id: str, rate_id: str) -> EasyPostShipment:
        """Buy `rate_id`'s label. Buying an already-bought shipment returns it as it is (exactly once)."""
        try:
            data = self._call("POST", f"/shipments/{shipment_id}/buy", json={"rate": {"id": rate_id}})
        except PermanentProviderError as exc:
            if exc.code != POSTAGE_EXISTS:
                raise
            return self.get_shipment(shipment_id)
        return parse_shipment(data)

    def refund(self, shipment_id: str) -> EasyPostShipment:
        """Void an unused label; the shipment comes back with `refund_status` ("submitted" at first).
        A label whose refund was already requested is returned as it is."""
        try:
            return parse_shipment(self._call("POST", f"/shipments/{shipment_id}/refund"))
        except PermanentProviderError as exc:
            if exc.status != 422:
                raise
            current = self.get_shipment(shipment_id)
            if current.refund_status in ("submitted", "refunded"):
                return current
            raise

    def get_shipment(self, shipment_id: str) -> EasyPostShipment:
        return parse_shipment(self._call("GET", f"/shipments/{shipment_id}"))

    def rerate(self, shipment_id: str) -> list[EasyPostRate]:
        data = self._call("POST", f"/shipments/{shipment_id}/rerate")
        return [parse_rate(rate) for rate in data.get("rates") or []]




    def _call(self, method: str, path: str, *, json: dict[str, Any] | None = None) -> dict[str, Any]:
        request = self._http.build_request(method, path, json=json)
        response = send(self._http, request, provider=PROVIDER, parse_error=parse_error, retry=self._retry)
        return json_object(PROVIDER, response)


def address_fields(address: Address) -> dict[str, str]:
    """Our Address in EasyPost's field names (absent values left out)."""
    fields = {
        "name": address.name,
        "street1": address.line1,
        "street2": address.line2,
        "city": address.city,
        "state": address.region,
        "zip": address.postal_code,
        "country": address.country,
        "phone": address.phone,
    }
    return {key: value for key, value in fields.items() if value}


def parse_error(response: httpx.Response) -> ErrorDetail:
    """`{"error": {"code", "message", "errors": [{"field", "message"}] or ["text"]}}` → ErrorDetail."""
    error = response.json().get("error") or {}
    message = str(error.get("message") or response.reason_phrase or f"HTTP {response.status_code}")
    field = None
    for item in error.get("errors") or []:
        if isinstance(item, dict) and item.get("field"):
            field = str(item["field"])
            detail = item.get("message")
            message = f"{message} {field}: {detail}" if detail else message
            break
        if isinstance(item, str) and item:
            message = f"{message} {item}"
            break
    return ErrorDetail(message=message, code=error.get("code"), field=field)


def parse_rate(data: dict[str, Any]) -> EasyPostRate:
    return EasyPostRate(
        id=data["id"],
        carrier=data["carrier"],
        service=data["service"],
        rate_minor=decimal_to_minor(data["rate"]),
        currency=data.get("currency") or "USD",
        delivery_days=data.get("delivery_days"),
    )


def parse_shipment(data: dict[str, Any]) -> EasyPostShipment:
    try:
        selected = data.get("selected_rate")
        label = data.get("postage_label") or {}
        return EasyPostShipment(
            id=data["id"],
            status=data.get("status"),
            reference=data.get("reference"),
            is_return=bool(data.get("is_return")),
            rates=[parse_rate(rate) for rate in data.get("rates") or []],
            selected_rate=parse_rate(selected) if selected else None,
            tracking_code=data.get("tracking_code"),
            label_url=label.get("label_url"),
            label_format=label_format(label.get("label_file_type")),
            refund_status=data.get("refund_status"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentProviderError(PROVIDER, f"unreadable shipment: {exc}") from exc


def label_format(file_type: str | None) -> str | None:
    """EasyPost's `label_file_type` (a MIME type such as image/png, application/pdf, application/zpl,
    or a bare PNG/PDF/ZPL) as our label format name."""
    if not file_type:
        return None
    name = file_type.rsplit("/", 1)[-1].upper()
    return {"X-ZPL": "ZPL", "ZPL": "ZPL", "PNG": "PNG", "PDF": "PDF", "EPL2": "EPL2"}.get(name, name[:16])


def decimal_to_minor(amount: str | int | float) -> int:
    """EasyPost's decimal string ("7.58") as integer cents, exactly; fractions of a cent are refused."""
    try:
        cents = Decimal(str(amount)) * 100
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {amount!r}") from exc
    if not cents.is_finite() or cents != cents.to_integral_value():
        raise ValueError(f"not a whole number of cents: {amount!r}")
    return int(cents)
