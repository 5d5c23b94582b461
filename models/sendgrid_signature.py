"""SendGrid's signed Event Webhook: ECDSA P-256 with SHA-256 over `timestamp + raw body`.

SendGrid signs each POST of events with the account's private key and sends the base64 DER signature
in `X-Twilio-Email-Event-Webhook-Signature` and the UNIX time it signed at in
`X-Twilio-Email-Event-Webhook-Timestamp`. The account's public key (base64 DER SubjectPublicKeyInfo,
shown in SendGrid's settings and by `GET /v3/user/webhooks/event/settings/signed`) verifies it.
`event_webhook_valid` is the receiving side (the gateway's `POST /webhooks/sendgrid`); `sign_events` is
the sending side, for the sandbox (integrations.notify.sandbox_events). Both may import `models`, and
only `models`, which is why this lives here rather than next to gateway/signatures.py.
"""

from __future__ import annotations

import base64
import binascii
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
# SendGrid documents no tolerance; five minutes, as for the other providers' signed webhooks.
DEFAULT_TOLERANCE_SECONDS = 300


def event_webhook_valid(public_key: str, body: bytes, signature: str | None, timestamp: str | None, *,
                        tolerance_seconds: float | None = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> bool:
    """True when `signature` is the account key's signature of `timestamp + body` and, unless
    `tolerance_seconds` is None, `timestamp` is within that many seconds of `now` (a replay otherwise).
    A malformed key, signature or timestamp is simply not valid."""
    if not signature or not timestamp:
        return False
    if tolerance_seconds is not None:
        try:
            signed_at = int(timestamp)
        except ValueError:
            return False
        if abs((time.time() if now is None else now) - signed_at) > tolerance_seconds:
            return False
    try:
        key = serialization.load_der_public_key(base64.b64decode(public_key, validate=True))
        decoded = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(decoded, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def new_signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    """The public half as SendGrid shows it: base64 of the DER SubjectPublicKeyInfo, no PEM armour."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def sign_events(key: ec.EllipticCurvePrivateKey, body: bytes, timestamp: str) -> dict[str, str]:
    """The two headers SendGrid sends with `body` signed at `timestamp`."""
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {SIGNATURE_HEADER: base64.b64encode(signature).decode(), TIMESTAMP_HEADER: timestamp}
