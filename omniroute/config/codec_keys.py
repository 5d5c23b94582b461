"""The keys that encrypt workflow payloads, read from settings: standard library only, so that the settings
validate them without loading the cipher.

`OMNIROUTE_CODEC_KEYS` is a JSON object from key id to the base64 of a 32-byte AES key, e.g.
`{"2026-12": "q1y...="}`; `OMNIROUTE_CODEC_ACTIVE_KEY` names the one that encrypts (it may be left out
when there is only one). Every listed key decrypts, so a rotation adds a key, makes it active, and keeps
the old ones for as long as histories written with them are kept. No error here quotes key material.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

KEY_BYTES = 32  # AES-256

# Development and test only: published here, so anything it encrypted is readable by anyone. The settings
# refuse it outside development and test, where OMNIROUTE_CODEC_KEYS must be set.
DEV_CODEC_KEY_ID = "omniroute-dev-insecure"
DEV_CODEC_KEY = base64.b64decode("1pgfUaLJJfFO1hvWNAh6/XT0JzPeNDuryEr4kIMILXs=")


@dataclass(frozen=True)
class KeyRing:
    """The keys that decrypt, by id, and the id of the one that encrypts."""

    keys: dict[str, bytes]
    active: str

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise ValueError(f"the active codec key {self.active!r} is not among the keys ({', '.join(self.keys)})")
        for key_id, key in self.keys.items():
            if len(key) != KEY_BYTES:
                raise ValueError(f"codec key {key_id!r} has {len(key)} bytes: AES-256 needs {KEY_BYTES}")

    def __repr__(self) -> str:  # never print the keys themselves
        return f"KeyRing(active={self.active!r}, ids={sorted(self.keys)!r})"


DEV_KEY_RING = KeyRing({DEV_CODEC_KEY_ID: DEV_CODEC_KEY}, DEV_CODEC_KEY_ID)


def parse_codec_keys(text: str) -> dict[str, bytes]:
    """`{"id": "<base64 of 32 bytes>", ...}` → the keys by id; an empty text is no keys. Raises ValueError
    naming the id (never the key) when an entry is not a 32-byte key in base64."""
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        # The message of a JSON error may quote the text around the fault: that text is key material.
        raise ValueError(f"OMNIROUTE_CODEC_KEYS must be a JSON object of key id to base64 key "
                         f"(invalid JSON at character {err.pos})") from None
    if not isinstance(raw, dict) or not raw:
        raise ValueError("OMNIROUTE_CODEC_KEYS must be a non-empty JSON object of key id to base64 key")
    keys: dict[str, bytes] = {}
    for key_id, encoded in raw.items():
        if not key_id.strip() or not key_id.isprintable():
            raise ValueError("OMNIROUTE_CODEC_KEYS has an empty or unprintable key id")
        try:
            key = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else b""
        except binascii.Error:
            key = b""
        if len(key) != KEY_BYTES:
            raise ValueError(f"OMNIROUTE_CODEC_KEYS[{key_id!r}] must be the base64 of {KEY_BYTES} random bytes")
        keys[key_id] = key
    return keys


def key_ring(keys_text: str, active: str | None, *, development: bool) -> KeyRing:
    """The key ring the settings describe. Without keys, development and test use the published dev key and
    every other environment is refused; outside development and test the dev key is refused too."""
    keys = parse_codec_keys(keys_text)
    if not keys:
        if not development:
            raise ValueError("OMNIROUTE_CODEC_KEYS must be set outside development and test: workflow payloads "
                             "hold personal data and are encrypted with these keys")
        if active not in (None, DEV_CODEC_KEY_ID):
            raise ValueError(f"OMNIROUTE_CODEC_ACTIVE_KEY names {active!r} but OMNIROUTE_CODEC_KEYS is not set")
        return DEV_KEY_RING
    if not development and (DEV_CODEC_KEY_ID in keys or DEV_CODEC_KEY in keys.values()):
        raise ValueError("OMNIROUTE_CODEC_KEYS holds the published development key: refused outside "
                         "development and test")
    if active is None:
        if len(keys) > 1:
            raise ValueError("OMNIROUTE_CODEC_ACTIVE_KEY must name the key that encrypts when "
                             f"OMNIROUTE_CODEC_KEYS has several ({', '.join(keys)})")
        active = next(iter(keys))
    if active not in keys:
        raise ValueError(f"OMNIROUTE_CODEC_ACTIVE_KEY names {active!r}, which OMNIROUTE_CODEC_KEYS does not hold "
                         f"(it holds {', '.join(keys)})")
    return KeyRing(keys, active)


def new_key() -> str:
    """A fresh key in the form OMNIROUTE_CODEC_KEYS takes (base64 of 32 random bytes)."""
    import secrets

    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
