"""Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=...]`.

v1 is HMAC-SHA256 keyed with the endpoint's secret (`whsec_...`, used as it is, not decoded) over
`"{t}.{raw body}"`, in lowercase hex. A receiver accepts the message when any v1 matches (several
appear while a secret is rolled) and `t` is within the tolerance of now (300 s, as Stripe's
libraries). `sign` is the sandbox's side, `verify` the gateway's.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Stripe-Signature"
DEFAULT_TOLERANCE_S = 300
SCHEME = "v1"


class SignatureError(ValueError):
    """The header is missing or malformed, no signature matches, or the timestamp is out of tolerance."""


def compute(secret: str, timestamp: int, payload: bytes) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, payload: bytes, *, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` value for `payload` (the exact bytes that will be sent)."""
    at = int(time.time()) if timestamp is None else timestamp
    return f"t={at},{SCHEME}={compute(secret, at, payload)}"


def verify(payload: bytes, header: str | None, secret: str, *, tolerance_s: int = DEFAULT_TOLERANCE_S,
           now: float | None = None) -> int:
    """Check `header` against the raw `payload`; returns its timestamp or raises SignatureError.

    `tolerance_s` <= 0 skips the timestamp check (Stripe's libraries do the same)."""
    if not header:
        raise SignatureError(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError as exc:
                raise SignatureError(f"{SIGNATURE_HEADER} has an unreadable timestamp") from exc
        elif name == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError(f"{SIGNATURE_HEADER} has no timestamp (t=)")
    if not signatures:
        raise SignatureError(f"{SIGNATURE_HEADER} has no {SCHEME} signature")
    expected = compute(secret, timestamp, payload)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("no signature matches the payload")
    current = time.time() if now is None else now
    if tolerance_s > 0 and abs(current - timestamp) > tolerance_s:
        raise SignatureError(f"timestamp outside the tolerance of {tolerance_s} s")
    return timestamp
