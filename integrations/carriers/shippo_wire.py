"""Shippo's JSON, read into the typed results our Shippo client returns, and its error bodies.

Rates, shipments and labels mirror the EasyPost client's results (`rate_minor` in cents, `label()` as
our Label) so one carrier interface can sit over both aggregators. Errors are Django REST Framework
bodies: `{"detail": "..."}`, or field names mapping to messages, nested for nested objects
(`{"address_to": {"zip": ["This field is required."]}}` names the field `address_to.zip`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from integrations.carriers.easypost import EasyPostRate, decimal_to_minor
from integrations.http import ErrorDetail, PermanentProviderError
from models.shipment import Label

PROVIDER = "shippo"


class TransactionStatus(StrEnum):
    WAITING = "WAITING"
    QUEUED = "QUEUED"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    REFUNDED = "REFUNDED"
    REFUNDPENDING = "REFUNDPENDING"
    REFUNDREJECTED = "REFUNDREJECTED"


PENDING_PURCHASE = frozenset({TransactionStatus.WAITING, TransactionStatus.QUEUED})
# A label was made: the purchase succeeded, whatever later happened to a refund of it.
LABEL_MADE = frozenset({TransactionStatus.SUCCESS, TransactionStatus.REFUNDED, TransactionStatus.REFUNDPENDING,
                        TransactionStatus.REFUNDREJECTED})


class RefundStatus(StrEnum):
    QUEUED = "QUEUED"
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"


class TrackingStatus(StrEnum):
    PRE_TRANSIT = "PRE_TRANSIT"
    TRANSIT = "TRANSIT"
    DELIVERED = "DELIVERED"
    RETURNED = "RETURNED"
    FAILURE = "FAILURE"
    UNKNOWN = "UNKNOWN"


class ShippoMessage(BaseModel):
    """A carrier's or Shippo's note on a 2xx answer (where carrier-level failures are reported)."""

    model_config = ConfigDict(frozen=True)

    source: str | None = None
    code: str | None = None
    text: str = ""


class ShippoRate(EasyPostRate):
    """One carrier service quoted for a shipment, with the fields and price of an EasyPost rate (the two
    aggregators' quotes compare as they are); `service` is Shippo's servicelevel token and `service_name`
    its name."""

    service_name: str | None = None


class ShippoShipment(BaseModel):
    """A shipment and its rates; `reference` is the metadata we created it with."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: str
    reference: str | None = None
    rates: list[ShippoRate] = Field(default_factory=list)
    messages: list[ShippoMessage] = Field(default_factory=list)

    def rate_for(self, carrier: str, service: str) -> ShippoRate | None:
        return next((r for r in self.rates if r.carrier == carrier and r.service == service), None)


class ShippoTransaction(BaseModel):
    """A label purchase. QUEUED/WAITING while Shippo works on it, then SUCCESS or ERROR (see `messages`)."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: TransactionStatus
    rate_id: str | None = None
    reference: str | None = None
    tracking_number: str | None = None
    tracking_status: str | None = None
    tracking_url: str | None = None
    label_url: str | None = None
    label_format: str | None = Field(default=None, description="PNG, PDF or ZPL")
    messages: list[ShippoMessage] = Field(default_factory=list)

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_PURCHASE

    @property
    def is_bought(self) -> bool:
        return self.status in LABEL_MADE and self.tracking_number is not None

    def label(self, rate: ShippoRate) -> Label | None:
        """Our Label for a bought transaction, given the rate it bought (None before it succeeded)."""
        if not self.is_bought or self.tracking_number is None:
            return None
        if rate.id != self.rate_id:
            raise ValueError(f"rate {rate.id} is not the rate this transaction bought ({self.rate_id})")
        return Label(carrier=rate.carrier, service=rate.service, tracking_number=self.tracking_number,
                     label_url=self.label_url, label_format=self.label_format, cost=rate.price,
                     carrier_shipment_id=self.id)


class ShippoRefund(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    status: RefundStatus
    transaction_id: str


class TrackingEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: TrackingStatus
    status_details: str = ""
    status_date: str | None = None
    city: str | None = None
    state: str | None = None


class ShippoTrack(BaseModel):
    """A tracking number's state at its carrier (`carrier` is Shippo's token: usps, ups, fedex, shippo)."""

    model_config = ConfigDict(frozen=True)

    carrier: str
    tracking_number: str
    status: TrackingStatus
    status_details: str = ""
    eta: str | None = None
    transaction_id: str | None = None
    history: list[TrackingEvent] = Field(default_factory=list)


class AddressCheck(BaseModel):
    """Shippo's verdict on an address (`POST /addresses` with `validate: true`)."""

    model_config = ConfigDict(frozen=True)

    id: str
    is_valid: bool
    is_complete: bool | None = None
    is_residential: bool | None = None
    messages: list[ShippoMessage] = Field(default_factory=list)


def parse_error(response: httpx.Response) -> ErrorDetail:
    """A DRF error body as message and field (the dotted path of the first field that has a message)."""
    body = response.json()
    fallback = response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return ErrorDetail(message=body["detail"])
    path, text = _first_complaint(body, ())
    if text is None:
        return ErrorDetail(message=fallback)
    field = ".".join(path) or None
    if field in ("non_field_errors", "__all__"):
        field = None
    return ErrorDetail(message=f"{field}: {text}" if field else text, field=field)


def _first_complaint(value: object, path: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    if isinstance(value, str):
        return path, value
    if isinstance(value, dict):
        for key, inner in value.items():
            found, text = _first_complaint(inner, (*path, str(key)))
            if text is not None:
                return found, text
    if isinstance(value, list):
        for index, inner in enumerate(value):
            # A list of strings is the messages of the field itself; a list of objects is indexed.
            found, text = _first_complaint(inner, path if isinstance(inner, str) else (*path, str(index)))
            if text is not None:
                return found, text
    return path, None


def _messages(data: dict[str, Any]) -> list[ShippoMessage]:
    return [ShippoMessage(source=m.get("source"), code=m.get("code"), text=str(m.get("text") or ""))
            for m in data.get("messages") or [] if isinstance(m, dict)]


def _unreadable(what: str, exc: Exception) -> PermanentProviderError:
    return PermanentProviderError(PROVIDER, f"unreadable {what}: {exc}")


def parse_rate(data: dict[str, Any]) -> ShippoRate:
    level = data.get("servicelevel") or {}
    return ShippoRate(id=data["object_id"], carrier=data["provider"], service=level["token"],
                      service_name=level.get("name"), rate_minor=decimal_to_minor(data["amount"]),
                      currency=data.get("currency") or "USD", delivery_days=data.get("estimated_days"))


def parse_shipment(data: dict[str, Any]) -> ShippoShipment:
    try:
        return ShippoShipment(id=data["object_id"], status=data["status"], reference=data.get("metadata") or None,
                              rates=[parse_rate(r) for r in data.get("rates") or []], messages=_messages(data))
    except (KeyError, TypeError, ValueError) as exc:
        raise _unreadable("shipment", exc) from exc


def parse_transaction(data: dict[str, Any]) -> ShippoTransaction:
    try:
        rate = data.get("rate")
        return ShippoTransaction(
            id=data["object_id"], status=TransactionStatus(data["status"]),
            rate_id=rate.get("object_id") if isinstance(rate, dict) else rate,
            reference=data.get("metadata") or None, tracking_number=data.get("tracking_number") or None,
            tracking_status=data.get("tracking_status") or None,
            tracking_url=data.get("tracking_url_provider") or None, label_url=data.get("label_url") or None,
            label_format=_label_format(data.get("label_file_type")), messages=_messages(data))
    except (KeyError, TypeError, ValueError) as exc:
        raise _unreadable("transaction", exc) from exc


def parse_refund(data: dict[str, Any]) -> ShippoRefund:
    try:
        return ShippoRefund(id=data["object_id"], status=RefundStatus(data["status"]),
                            transaction_id=data["transaction"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _unreadable("refund", exc) from exc


def _event(data: dict[str, Any]) -> TrackingEvent:
    location = data.get("location") or {}
    return TrackingEvent(status=TrackingStatus(data["status"]), status_details=data.get("status_details") or "",
                         status_date=data.get("status_date"), city=location.get("city"), state=location.get("state"))


def parse_track(data: dict[str, Any]) -> ShippoTrack:
    try:
        current = data.get("tracking_status")
        event = _event(current) if isinstance(current, dict) else None
        return ShippoTrack(
            carrier=data["carrier"], tracking_number=data["tracking_number"],
            status=event.status if event else TrackingStatus.UNKNOWN,
            status_details=event.status_details if event else "", eta=data.get("eta"),
            transaction_id=data.get("transaction") or None,
            history=[_event(item) for item in data.get("tracking_history") or []])
    except (KeyError, TypeError, ValueError) as exc:
        raise _unreadable("track", exc) from exc


def parse_address_check(data: dict[str, Any]) -> AddressCheck:
    try:
        results = data.get("validation_results") or {}
        return AddressCheck(id=data["object_id"], is_valid=bool(results.get("is_valid")),
                            is_complete=data.get("is_complete"), is_residential=data.get("is_residential"),
                            messages=_messages(results))
    except (KeyError, TypeError, ValueError) as exc:
        raise _unreadable("address", exc) from exc


def _label_format(file_type: object) -> str | None:
    if not isinstance(file_type, str) or not file_type:
        return None
    name = file_type.upper()
    return "ZPL" if name.startswith("ZPL") else name[:16]
