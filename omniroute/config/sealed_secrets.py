"""Secrets Omniroute must use again later (a subscription's signing secret), kept in the app DB sealed with
the codec keys (OMNIROUTE_CODEC_KEYS, the keys that encrypt workflow payloads): AES-256-GCM with a fresh
nonce, the owner's id as associated data (a sealed secret copied to another row does not open), and the
key id in the text, so that rotating the codec keys keeps old secrets readable as long as their key is
listed. Form: `v1:<key id>:<base64 of nonce + ciphertext>`.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from omniroute.config.codec_keys import KeyRing

_VERSION = "v1"
_NONCE_BYTES = 12
SIGNING_SECRET_BYTES = 32


class SealedSecretError(ValueError):
    """A sealed secret that cannot be opened (unknown key id, tampered, or sealed for another owner)."""


def new_signing_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SIGNING_SECRET_BYTES)).decode("ascii")


def seal(ring: KeyRing, owner: str, secret: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.active]).encrypt(nonce, secret.encode("utf-8"), owner.encode("utf-8"))
    return f"{_VERSION}:{ring.active}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def open_sealed(ring: KeyRing, owner: str, text: str) -> str:
    version, _, rest = text.partition(":")
    key_id, _, payload = rest.rpartition(":")
    if version != _VERSION or not key_id:
        raise SealedSecretError(f"the secret of {owner!r} is not in the sealed form")
    key = ring.keys.get(key_id)
    if key is None:
        raise SealedSecretError(f"the secret of {owner!r} was sealed with codec key {key_id!r}, which is not "
                                "configured (OMNIROUTE_CODEC_KEYS)")
    try:
        raw = base64.b64decode(payload, validate=True)
        return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], owner.encode("utf-8")).decode("utf-8")
    except (InvalidTag, binascii.Error):
        raise SealedSecretError(f"the secret of {owner!r} does not open with codec key {key_id!r}") from None
