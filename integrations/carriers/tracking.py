"""EasyPost trackers on the wire: the Tracker and Event JSON, the statuses a parcel goes through, and
the `X-Hmac-Signature` that signs an event webhook.

The signature is EasyPost's (as its SDKs check it): `hmac-sha256-hex=` + the lowercase hex of
HMAC-SHA256 over the raw body, keyed with the UTF-8 of the webhook secret in Unicode NFKD form. There is
no timestamp, so a replayed event is recognised by its `id` alone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from datetime import UTC, datetime
from typing import Any, Literal

SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="

TrackerStatus = Literal["unknown", "pre_transit", "in_transit", "out_for_delivery", "delivered",
                        "available_for_pickup", "return_to_sender", "failure", "cancelled", "error"]
# The exceptions the sandbox can inject, as EasyPost reports them.
ExceptionStatus = Literal["failure", "return_to_sender", "available_for_pickup"]

# EasyPost's documented test tracking codes and the status each one reports.
TEST_CODES: dict[str, TrackerStatus] = {
    "EZ1000000001": "pre_transit", "EZ2000000002": "in_transit", "EZ3000000003": "out_for_delivery",
    "EZ4000000004": "delivered", "EZ5000000005": "return_to_sender", "EZ6000000006": "failure",
    "EZ7000000007": "unknown",
}

_MESSAGES: dict[str, tuple[str, str]] = {  # status -> (status_detail, message)
    "pre_transit": ("label_created", "Shipping label created"),
    "in_transit": ("arrived_at_facility", "Arrived at the carrier's facility"),
    "out_for_delivery": ("out_for_delivery", "Out for delivery"),
    "delivered": ("arrived_at_destination", "Delivered"),
    "failure": ("delivery_exception", "Delivery attempted: nobody available to sign"),
    "return_to_sender": ("return", "Returned to sender: address not accessible"),
    "available_for_pickup": ("available_for_pickup", "Held at the carrier's location for pickup"),
}


def sign(body: bytes, webhook_secret: str) -> str:
    """The `X-Hmac-Signature` value EasyPost sends with `body`."""
    key = unicodedata.normalize("NFKD", webhook_secret).encode("utf-8")
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def delivery_path(exception: ExceptionStatus | None) -> list[TrackerStatus]:
    """The statuses after pre_transit, in order. A failed attempt is followed by a second delivery run,
    a parcel held for pickup is then collected (delivered); a return to the sender ends there."""
    if exception == "failure":
        return ["in_transit", "out_for_delivery", "failure", "out_for_delivery", "delivered"]
    if exception == "available_for_pickup":
        return ["in_transit", "available_for_pickup", "delivered"]
    if exception == "return_to_sender":
        return ["in_transit", "out_for_delivery", "return_to_sender"]
    return ["in_transit", "out_for_delivery", "delivered"]


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_tracker(tracking_code: str, carrier: str, shipment_id: str | None,
                status: TrackerStatus = "pre_transit") -> dict[str, Any]:
    """A Tracker as EasyPost answers it, with its first tracking detail."""
    now = now_text()
    tracker: dict[str, Any] = {
        "id": f"trk_{secrets.token_hex(16)}", "object": "Tracker", "mode": "test", "tracking_code": tracking_code,
        "status": "unknown", "status_detail": "unknown", "created_at": now, "updated_at": now, "signed_by": None,
        "weight": None, "est_delivery_date": None, "shipment_id": shipment_id, "carrier": carrier,
        "tracking_details": [], "carrier_detail": None, "finalized": False, "is_return": False,
        "public_url": f"https://track.easypost.com/djE6{tracking_code}", "fees": [],
    }
    return with_status(tracker, status)


def with_status(tracker: dict[str, Any], status: TrackerStatus) -> dict[str, Any]:
    """The tracker after the carrier reports `status` (a new tracking detail, now)."""
    detail, message = _MESSAGES.get(status, (status, status.replace("_", " ").capitalize()))
    now = now_text()
    entry = {"object": "TrackingDetail", "status": status, "status_detail": detail, "message": message,
             "description": None, "datetime": now, "source": tracker["carrier"],
             "tracking_location": {"object": "TrackingLocation", "city": None, "state": None, "country": None,
                                   "zip": None}}
    return {**tracker, "status": status, "status_detail": detail, "updated_at": now,
            "finalized": status in ("delivered", "return_to_sender"),
            "tracking_details": [*tracker["tracking_details"], entry]}


def tracker_event(tracker: dict[str, Any], previous_status: str | None, urls: list[str]) -> dict[str, Any]:
    """The `tracker.updated` Event that wraps the tracker, as EasyPost posts it to a webhook."""
    now = now_text()
    return {
        "id": f"evt_{secrets.token_hex(16)}", "object": "Event", "mode": "test", "description": "tracker.updated",
        "previous_attributes": {} if previous_status is None else {"status": previous_status},
        "result": tracker, "status": "pending", "pending_urls": urls, "completed_urls": [],
        "created_at": now, "updated_at": now, "user_id": "user_sandbox",
    }
