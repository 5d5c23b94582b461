"""Shippo's webhook signature, `Shippo-Auth-Signature: t=<unix seconds>,v1=<hex>`: the timestamped HMAC of
integrations.webhooks.timestamped (the same scheme as Stripe's), 300 s tolerance. `sign` is what the
sandbox does when it posts; `verify` is for the gateway's Shippo webhook route (not built yet).
"""

from __future__ import annotations

from integrations.webhooks import timestamped
from integrations.webhooks.timestamped import TimestampedSignatureError as ShippoSignatureError
from integrations.webhooks.timestamped import sign

SIGNATURE_HEADER = "Shippo-Auth-Signature"
TOLERANCE_S = timestamped.DEFAULT_TOLERANCE_S

__all__ = ["SIGNATURE_HEADER", "TOLERANCE_S", "ShippoSignatureError", "sign", "verify"]


def verify(body: bytes, header: str | None, secret: str, *, tolerance_s: int = TOLERANCE_S,
           now: float | None = None) -> int:
    """Check a delivery: returns the header's timestamp, or raises ShippoSignatureError saying why."""
    return timestamped.verify(body, header, secret, header=SIGNATURE_HEADER, tolerance_s=tolerance_s, now=now)
