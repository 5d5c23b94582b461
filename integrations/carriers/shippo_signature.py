"""Shippo's webhook signature: `Shippo-Auth-Signature: t=<unix seconds>,v1=<hex>`.

v1 is the lowercase hex HMAC-SHA256, keyed with the account's webhook secret as it is, of
`"<t>.<raw body>"`. A receiver accepts a delivery when one v1 matches the exact bytes it received
and `t` lies within the tolerance of its clock (300 s). `sign` is what the sandbox does when it posts;
`verify` is for the gateway's Shippo webhook route (not built yet).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Shippo-Auth-Signature"
TOLERANCE_S = 300
_SCHEME = "v1"


class ShippoSignatureError(ValueError):
    """The header is absent or unreadable, no v1 matches the body, or the timestamp is too old or new."""


def signature_for(secret: str, timestamp: int, body: bytes) -> str:
    """The hex v1 value for `body` sent at `timestamp`."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The whole header value for `body`, the exact bytes about to be sent."""
    when = int(time.time()) if timestamp is None else timestamp
    return f"t={when},{_SCHEME}={signature_for(secret, when, body)}"


def verify(body: bytes, header: str | None, secret: str, *, tolerance_s: int = TOLERANCE_S,
           now: float | None = None) -> int:
    """Check a delivery: returns the header's timestamp, or raises ShippoSignatureError saying why."""
    if not secret:
        raise ShippoSignatureError("no webhook secret to verify with")
    if not header or not header.strip():
        raise ShippoSignatureError(f"missing {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, has_value, value = part.strip().partition("=")
        if not has_value:
            continue
        if key == "t":
            if not value.isdigit():
                raise ShippoSignatureError(f"{SIGNATURE_HEADER} t= is not a unix time")
            timestamp = int(value)
        elif key == _SCHEME:
            candidates.append(value.strip().lower())
    if timestamp is None or not candidates:
        raise ShippoSignatureError(f"{SIGNATURE_HEADER} needs t= and {_SCHEME}=")
    expected = signature_for(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise ShippoSignatureError(f"{SIGNATURE_HEADER} does not match the body")
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance_s:
        raise ShippoSignatureError(f"{SIGNATURE_HEADER} timestamp is more than {tolerance_s} s from now")
    return timestamp
