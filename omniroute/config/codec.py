"""Workflow payloads encrypted before they reach Temporal: a payload codec (AES-256-GCM) and the data
converter every Omniroute process that talks to Temporal uses.

Each payload is serialised whole (metadata and data), encrypted with the active key and a fresh random
12-byte nonce, and stored as a payload whose metadata says `encoding: binary/encrypted` and
`encryption-key-id: <id>`; the key id is also the cipher's associated data, so a payload cannot be passed off
under another key's name. Decoding picks the key by that id, so keys rotated out of encryption still
decrypt, and passes payloads without the encrypted encoding through unchanged, so histories written before
the codec (tests/workflow/histories) still replay. Failure messages and stack traces are encoded too
(`DefaultFailureConverterWithEncodedAttributes`): an error that quotes a customer stays encrypted in history.

Search attributes are never encoded by Temporal: personal data must stay out of them (docs/operations.md).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from omniroute.config.codec_keys import KeyRing
from omniroute.config.settings import Settings

ENCODING_KEY = "encoding"
ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_KEY = "encryption-key-id"
NONCE_BYTES = 12


class CodecError(ValueError):
    """A payload marked encrypted that this codec cannot decrypt. Its message names the key id, never the
    payload's content."""


class UnknownCodecKeyError(CodecError):
    """The payload was encrypted with a key id that is not among the configured keys."""

    def __init__(self, key_id: str, known: Sequence[str]) -> None:
        super().__init__(f"payload encrypted with codec key {key_id!r}, which is not configured "
                         f"(OMNIROUTE_CODEC_KEYS holds {', '.join(sorted(known)) or 'no keys'})")
        self.key_id = key_id


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over whole payloads, with the key id in the metadata (see the module docstring)."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    @property
    def active_key_id(self) -> str:
        return self._ring.active

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._ring.active
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(metadata={ENCODING_KEY: ENCRYPTED_ENCODING, KEY_ID_KEY: key_id.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get(ENCODING_KEY) != ENCRYPTED_ENCODING:
            return payload  # written before the codec, or never encoded (it holds no encryption metadata)
        key_id = payload.metadata.get(KEY_ID_KEY, b"").decode("utf-8", errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownCodecKeyError(key_id, list(self._ciphers))
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            return Payload.FromString(cipher.decrypt(nonce, sealed, key_id.encode()))
        except InvalidTag:
            raise CodecError(f"payload under codec key {key_id!r} failed authentication: "
                             "altered, or encrypted with another key of that id") from None


def omniroute_data_converter(codec: EncryptionCodec) -> DataConverter:
    """The pydantic converter with payloads encrypted by `codec` and failure messages encoded."""
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec,
                               failure_converter_class=DefaultFailureConverterWithEncodedAttributes)


def codec_for(settings: Settings) -> EncryptionCodec:
    """The codec for the keys in `settings` (the dev key in development and test when none are set)."""
    return EncryptionCodec(settings.codec_key_ring)


def data_converter_for(settings: Settings) -> DataConverter:
    """The converter every process that talks to Temporal uses, for the keys in `settings`."""
    return omniroute_data_converter(codec_for(settings))
