"""The EasyPost sandbox's refusals: EasyPost's error envelope and the shipment checks that name each field."""

from __future__ import annotations

import secrets
from typing import Any

_ADDRESS_FIELDS = ("name", "company", "street1", "street2", "city", "state", "zip", "country", "phone", "email")
_REQUIRED_ADDRESS_FIELDS = ("street1", "city", "zip")


class EasyPostApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []


def error_envelope(code: str, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "errors": errors or []}}


def field_error(field: str, message: str) -> dict[str, Any]:
    return {"field": field, "message": message, "suggestion": None}


def validated_shipment(shipment: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two addresses, normalised; 422 naming every invalid field otherwise."""
    errors: list[dict[str, Any]] = []
    addresses = [_validated_address(shipment.get(name), name, errors) for name in ("to_address", "from_address")]
    parcel = shipment.get("parcel")
    if not isinstance(parcel, dict):
        errors.append(field_error("parcel", "is required"))
    else:
        for dim in ("weight", "length", "width", "height"):
            value = parcel.get(dim)
            if value is None and dim != "weight":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                errors.append(field_error(f"parcel.{dim}", "must be a number greater than 0"))
    if errors:
        raise EasyPostApiError(422, "SHIPMENT.INVALID_PARAMS",
                               "Unable to create shipment, one or more parameters were invalid.", errors)
    return addresses[0], addresses[1]


def _validated_address(data: object, name: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    if not isinstance(data, dict):
        errors.append(field_error(name, "is required"))
        return {}
    address = {key: data.get(key) for key in _ADDRESS_FIELDS}
    address["country"] = address["country"] or "US"
    for key in _REQUIRED_ADDRESS_FIELDS:
        value = address[key]
        if not isinstance(value, str) or not value.strip():
            errors.append(field_error(f"{name}.{key}", "cannot be blank"))
    if address["country"] == "US" and not address["state"]:
        errors.append(field_error(f"{name}.state", "cannot be blank for a US address"))
    return {"id": new_id("adr"), "object": "Address", **address}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"
