"""The Shippo sandbox's JSON: objects built in Shippo's field names, request validation with DRF-style
errors, and the sandbox's rates (integrations.carriers.sandbox_rates' quotes under Shippo's service tokens)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.carriers.sandbox_rates import distance_miles, quotes, zone_for

OWNER = "sandbox@omniroute.invalid"
LABEL_FILE_TYPES = ("PNG", "PNG_2.3x7.5", "PDF", "PDF_2.3x7.5", "PDF_4x6", "PDF_4x8", "PDF_A4", "PDF_A5",
                    "PDF_A6", "ZPLII")
TEST_CARRIER = "shippo"  # Shippo's test tracking numbers: carrier "shippo", number SHIPPO_<STATUS>
TRACKING_STATUSES = ("PRE_TRANSIT", "TRANSIT", "DELIVERED", "RETURNED", "FAILURE", "UNKNOWN")
# The sandbox's (carrier, service) as Shippo's carrier token, servicelevel token and name.
_SERVICE_LEVELS = {
    ("USPS", "GroundAdvantage"): ("usps", "usps_ground_advantage", "Ground Advantage"),
    ("USPS", "Priority"): ("usps", "usps_priority", "Priority Mail"),
    ("USPS", "Express"): ("usps", "usps_priority_express", "Priority Mail Express"),
    ("UPS", "Ground"): ("ups", "ups_ground", "Ground"),
    ("UPS", "2ndDayAir"): ("ups", "ups_second_day_air", "2nd Day Air"),
    ("UPS", "NextDayAir"): ("ups", "ups_next_day_air", "Next Day Air"),
    ("FedEx", "FEDEX_GROUND"): ("fedex", "fedex_ground", "FedEx Ground"),
    ("FedEx", "FEDEX_2_DAY"): ("fedex", "fedex_2_day", "FedEx 2Day"),
    ("FedEx", "STANDARD_OVERNIGHT"): ("fedex", "fedex_standard_overnight", "Standard Overnight"),
}
_OUNCES = {"oz": Decimal(1), "lb": Decimal(16), "g": Decimal("0.035274"), "kg": Decimal("35.274")}
_INCHES = {"in": Decimal(1), "ft": Decimal(12), "yd": Decimal(36), "cm": Decimal("0.393701"),
           "mm": Decimal("0.0393701"), "m": Decimal("39.3701")}
_ADDRESS_FIELDS = ("name", "company", "street1", "street2", "street3", "street_no", "city", "state", "zip",
                   "country", "phone", "email", "is_residential", "metadata")


class ShippoApiError(Exception):
    """An answer the sandbox refuses with: `body` is the DRF-style JSON Shippo sends."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(str(body))
        self.status, self.body = status, body


def new_id() -> str:
    return uuid.uuid4().hex


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stamped(**fields: Any) -> dict[str, Any]:
    at = now()
    return {"object_id": new_id(), "object_owner": OWNER, "object_created": at, "object_updated": at, **fields}


def carrier_token(provider: str) -> str:
    return next((c for (p, _), (c, _, _) in _SERVICE_LEVELS.items() if p == provider), provider.lower())


def address(data: object, name: str, errors: dict[str, Any]) -> dict[str, Any]:
    """A Shippo Address object from a request's address, noting what is missing in `errors`."""
    if not isinstance(data, dict):
        errors[name] = ["This field is required."]
        return {}
    fields = {key: data.get(key) for key in _ADDRESS_FIELDS if data.get(key) is not None}
    fields["country"] = str(fields.get("country") or "")
    missing = [key for key in ("street1", "city", "zip", "country") if not str(fields.get(key) or "").strip()]
    if fields["country"] in ("US", "CA", "AU") and not str(fields.get("state") or "").strip():
        missing.append("state")
    if missing:
        errors[name] = {key: ["This field is required."] for key in missing}
    return stamped(**fields, is_complete=not missing, validation_results={}, test=True)


def parcel(data: object, index: int, errors: dict[str, Any]) -> tuple[dict[str, Any], Decimal, list[Decimal]]:
    """A Shippo Parcel object, its weight in ounces and its dimensions in inches."""
    problems: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        errors.setdefault("parcels", {})[str(index)] = ["Must be an object."]
        return {}, Decimal(0), []
    mass_unit, distance_unit = data.get("mass_unit"), data.get("distance_unit")
    if mass_unit not in _OUNCES:
        problems["mass_unit"] = [f"\"{mass_unit}\" is not a valid choice."]
    if distance_unit not in _INCHES:
        problems["distance_unit"] = [f"\"{distance_unit}\" is not a valid choice."]
    sizes: dict[str, Decimal] = {}
    for key in ("weight", "length", "width", "height"):
        try:
            sizes[key] = Decimal(str(data.get(key)))
        except InvalidOperation:
            sizes[key] = Decimal(0)
        if not sizes[key].is_finite() or sizes[key] <= 0:
            problems[key] = ["A number greater than 0 is required."]
    if problems:
        errors.setdefault("parcels", {})[str(index)] = problems
        return {}, Decimal(0), []
    record = stamped(object_state="VALID", test=True, metadata=str(data.get("metadata") or ""),
                     **{key: str(data[key]) for key in ("weight", "length", "width", "height")},
                     mass_unit=mass_unit, distance_unit=distance_unit)
    inches = [sizes[k] * _INCHES[str(distance_unit)] for k in ("length", "width", "height")]
    return record, sizes["weight"] * _OUNCES[str(mass_unit)], inches


def rates(shipment_id: str, from_zip: str, to_zip: str, weight_oz: Decimal,
          dimensions: list[Decimal]) -> list[dict[str, Any]]:
    """Shippo Rate objects for the sandbox's services, with Shippo's CHEAPEST/FASTEST/BESTVALUE marks."""
    length, width, height = (float(d) for d in dimensions) if dimensions else (None, None, None)
    zone = zone_for(distance_miles(from_zip, to_zip))
    made = []
    for quote in quotes(from_zip, to_zip, weight_oz=float(weight_oz), length=length, width=width, height=height):
        token, level, name = _SERVICE_LEVELS.get((quote.carrier, quote.service),
                                                 (quote.carrier.lower(), quote.service.lower(), quote.service))
        made.append(stamped(
            shipment=shipment_id, attributes=[], amount=quote.rate, currency="USD", amount_local=quote.rate,
            currency_local="USD", provider=quote.carrier, provider_image_75=None, provider_image_200=None,
            servicelevel={"name": name, "token": level, "terms": "", "extended_token": level,
                          "parent_servicelevel": None},
            estimated_days=quote.delivery_days, arrives_by=None,
            duration_terms=f"Delivery in {quote.delivery_days} business days.", messages=[],
            carrier_account=f"sandbox-{token}", test=True, zone=str(zone)))
    if made:
        def price(r: dict[str, Any]) -> Decimal:
            return Decimal(r["amount"])
        cheapest = min(made, key=price)
        fastest = min(made, key=lambda r: (r["estimated_days"], price(r)))
        best = min(made, key=lambda r: price(r) * r["estimated_days"])
        for rate, mark in ((cheapest, "CHEAPEST"), (fastest, "FASTEST"), (best, "BESTVALUE")):
            rate["attributes"].append(mark)
    return made


def tracking_event(status: str, details: str, *, city: str | None = None, state: str | None = None) -> dict[str, Any]:
    event = stamped(status=status, status_details=details, status_date=now(),
                    substatus=None, location={"city": city, "state": state, "zip": None, "country": "US"})
    return event


def track_json(record: dict[str, Any]) -> dict[str, Any]:
    """A stored track as Shippo's Track: its current status is the last of its history."""
    history = record.get("tracking_history") or []
    return {"carrier": record["carrier"], "tracking_number": record["tracking_number"],
            "tracking_status": history[-1] if history else None, "tracking_history": history,
            "transaction": record.get("transaction"), "metadata": record.get("metadata"), "eta": record.get("eta"),
            "original_eta": record.get("original_eta"), "servicelevel": record.get("servicelevel"),
            "messages": record.get("messages") or [], "address_from": record.get("address_from"),
            "address_to": record.get("address_to"), "test": True}


def test_track(carrier: str, number: str, metadata: str | None) -> dict[str, Any] | None:
    """The Track of one of Shippo's test numbers (`SHIPPO_TRANSIT` at carrier `shippo`), else None."""
    status = number.removeprefix("SHIPPO_")
    if carrier != TEST_CARRIER or status == number or status not in TRACKING_STATUSES:
        return None
    return track_json({"carrier": carrier, "tracking_number": number, "transaction": None, "metadata": metadata,
                       "servicelevel": {"name": None, "token": None},
                       "tracking_history": [tracking_event(status, f"Test tracking number: {status}.")]})


def page_of(items: list[dict[str, Any]], page: int, results: int, next_url: str | None,
            previous_url: str | None) -> dict[str, Any]:
    start = (page - 1) * results
    chunk = items[start:start + results]
    more = start + results < len(items)
    return {"next": next_url if more else None, "previous": previous_url if page > 1 else None, "results": chunk}


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record without the sandbox's own bookkeeping (keys starting with `_`)."""
    return {key: value for key, value in record.items() if not key.startswith("_")}
