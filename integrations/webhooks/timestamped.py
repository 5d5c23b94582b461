"""The timestamped HMAC signature Stripe and Shippo both send: `<Header>: t=<unix seconds>,v1=<hex>[,v1=...]`.

v1 is the lowercase hex HMAC-SHA256, keyed with the webhook secret as it is (a `whsec_` secret is not
decoded), of `"<t>.<raw body>"`. A receiver accepts a delivery when any v1 matches the exact bytes it
received (several appear while a secret is rolled) and `t` is within the tolerance of its clock
(300 s; a tolerance <= 0 skips that check, as Stripe's libraries allow). `sign` is the sending side (the
sandboxes), `verify` the receiving side. integrations.payments.signature and
integrations.carriers.shippo_signature name the header for each provider.
"""

from __future__ import annotations

import hashlib
import hmac
import time

DEFAULT_TOLERANCE_S = 300
SCHEME = "v1"


class TimestampedSignatureError(ValueError):
    """The header is absent or unreadable, no v1 matches the body, or its timestamp is out of tolerance."""


def compute(secret: str, timestamp: int, body: bytes) -> str:
    """The hex v1 value for `body` sent at `timestamp`."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The whole header value for `body`, the exact bytes about to be sent."""
    at = int(time.time()) if timestamp is None else timestamp
    return f"t={at},{SCHEME}={compute(secret, at, body)}"


def verify(body: bytes, header_value: str | None, secret: str, *, header: str,
           tolerance_s: int = DEFAULT_TOLERANCE_S, now: float | None = None) -> int:
    """Check a delivery's `header` against the raw `body`: returns its timestamp, or raises
    TimestampedSignatureError saying why."""
    if not secret:
        raise TimestampedSignatureError("no webhook secret to verify with")
    if not header_value or not header_value.strip():
        raise TimestampedSignatureError(f"missing {header} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header_value.split(","):
        key, has_value, value = part.strip().partition("=")
        if not has_value:
            continue
        if key == "t":
            if not value.isdigit():
                raise TimestampedSignatureError(f"{header} t= is not a unix time")
            timestamp = int(value)
        elif key == SCHEME:
            candidates.append(value.strip().lower())
    if timestamp is None or not candidates:
        raise TimestampedSignatureError(f"{header} needs t= and {SCHEME}=")
    expected = compute(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise TimestampedSignatureError(f"{header} does not match the body: no signature matches it")
    clock = time.time() if now is None else now
    if tolerance_s > 0 and abs(clock - timestamp) > tolerance_s:
        raise TimestampedSignatureError(f"{header} timestamp is outside the tolerance of {tolerance_s} s")
    return timestamp
