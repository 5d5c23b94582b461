"""Checking the signatures of webhooks in, by each sender's scheme, before anything is read from them.

EasyPost (as its SDKs check it): `X-Hmac-Signature: hmac-sha256-hex=<lowercase hex>`, the HMAC-SHA256
of the raw body keyed with the UTF-8 of the webhook secret in Unicode NFKD form. No timestamp: a
replay is caught by the event id (the shipment's fulfilment applies an event id once).

Shopify (as its app libraries check it): `X-Shopify-Hmac-Sha256: <base64>`, the HMAC-SHA256 of the raw
body keyed with the UTF-8 of the app's client secret (here: the channel's webhook secret). No timestamp
either: a replay is caught by `X-Shopify-Webhook-Id` (store.webhook_deliveries).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import unicodedata

EASYPOST_SIGNATURE_HEADER = "X-Hmac-Signature"
_EASYPOST_PREFIX = "hmac-sha256-hex="


def easypost_signature_valid(body: bytes, signature: str | None, webhook_secret: str) -> bool:
    """Whether `signature` (the X-Hmac-Signature header) signs `body` with `webhook_secret`."""
    if not signature or not webhook_secret:
        return False
    key = unicodedata.normalize("NFKD", webhook_secret).encode("utf-8")
    expected = _EASYPOST_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8", "replace"))


SHOPIFY_SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"


def shopify_signature_valid(body: bytes, signature: str | None, webhook_secret: str) -> bool:
    """Whether `signature` (the X-Shopify-Hmac-Sha256 header, base64) signs `body` with `webhook_secret`.
    The digests are compared as bytes in constant time; a header that is not base64 never matches."""
    if not signature or not webhook_secret:
        return False
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(webhook_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)
