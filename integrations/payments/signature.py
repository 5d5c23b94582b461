"""Stripe's webhook signature, `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=...]`: the timestamped HMAC
of integrations.webhooks.timestamped, keyed with the endpoint's `whsec_...` secret as it is, 300 s
tolerance as Stripe's libraries (<= 0 skips the timestamp check). `sign` is the sandbox's side, `verify`
the gateway's.
"""

from __future__ import annotations

from integrations.webhooks import timestamped
from integrations.webhooks.timestamped import TimestampedSignatureError as SignatureError
from integrations.webhooks.timestamped import sign

SIGNATURE_HEADER = "Stripe-Signature"
DEFAULT_TOLERANCE_S = timestamped.DEFAULT_TOLERANCE_S

__all__ = ["DEFAULT_TOLERANCE_S", "SIGNATURE_HEADER", "SignatureError", "sign", "verify"]


def verify(payload: bytes, header: str | None, secret: str, *, tolerance_s: int = DEFAULT_TOLERANCE_S,
           now: float | None = None) -> int:
    """Check `header` against the raw `payload`; returns its timestamp or raises SignatureError."""
    return timestamped.verify(payload, header, secret, header=SIGNATURE_HEADER, tolerance_s=tolerance_s, now=now)
