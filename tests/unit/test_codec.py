"""The payload codec: AES-256-GCM under the active key, the key id in the metadata, every configured key
decrypting (rotation), unencrypted payloads passed through, and keys from settings that fail closed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from omniroute.config.codec import (
    ENCRYPTED_ENCODING,
    KEY_ID_KEY,
    CodecError,
    EncryptionCodec,
    UnknownCodecKeyError,
    codec_for,
    data_converter_for,
)
from omniroute.config.codec_keys import DEV_CODEC_KEY_ID, DEV_KEY_RING, KeyRing, key_ring, new_key
from omniroute.config.settings import Settings
from omniroute.devstack.stack_env import settings_environment

KEY_A, KEY_B = os.urandom(32), os.urandom(32)


class Customer(BaseModel):
    name: str
    email: str


CUSTOMER = Customer(name="Ada Lovelace", email="ada@example.com")


def plain(value: object = CUSTOMER) -> Payload:
    return pydantic_data_converter.payload_converter.to_payload(value)


async def test_a_payload_is_encrypted_under_the_active_key_and_decrypts_to_itself() -> None:
    codec = EncryptionCodec(KeyRing({"a": KEY_A}, "a"))

    [sealed] = await codec.encode([plain()])
    [opened] = await codec.decode([sealed])

    assert sealed.metadata["encoding"] == ENCRYPTED_ENCODING
    assert sealed.metadata[KEY_ID_KEY] == b"a"
    assert b"ada@example.com" not in sealed.SerializeToString()
    assert b"Ada Lovelace" not in sealed.SerializeToString()
    assert opened == plain()


async def test_the_same_payload_twice_gives_two_ciphertexts() -> None:
    codec = EncryptionCodec(KeyRing({"a": KEY_A}, "a"))

    first, second = await codec.encode([plain(), plain()])

    assert first.data != second.data


async def test_after_a_rotation_the_old_key_still_decrypts_and_the_new_one_encrypts() -> None:
    before = EncryptionCodec(KeyRing({"a": KEY_A}, "a"))
    [old] = await before.encode([plain()])

    after = EncryptionCodec(KeyRing({"a": KEY_A, "b": KEY_B}, "b"))
    [new] = await after.encode([plain()])

    assert new.metadata[KEY_ID_KEY] == b"b"
    assert await after.decode([old, new]) == [plain(), plain()]


async def test_a_key_id_that_is_not_configured_is_an_error_naming_it() -> None:
    [sealed] = await EncryptionCodec(KeyRing({"a": KEY_A}, "a")).encode([plain()])
    retired = EncryptionCodec(KeyRing({"b": KEY_B}, "b"))

    with pytest.raises(UnknownCodecKeyError, match="codec key 'a', which is not configured") as raised:
        await retired.decode([sealed])
    assert raised.value.key_id == "a"
    assert "ada" not in str(raised.value).lower()


async def test_a_payload_under_a_known_id_but_another_key_fails_authentication() -> None:
    [sealed] = await EncryptionCodec(KeyRing({"a": KEY_A}, "a")).encode([plain()])
    impostor = EncryptionCodec(KeyRing({"a": KEY_B}, "a"))

    with pytest.raises(CodecError, match="codec key 'a' failed authentication"):
        await impostor.decode([sealed])


async def test_a_payload_relabelled_with_another_key_id_fails_authentication() -> None:
    # Both keys configured: the id is bound to the ciphertext, so a payload cannot claim another key.
    codec = EncryptionCodec(KeyRing({"a": KEY_A, "b": KEY_A}, "a"))
    [sealed] = await codec.encode([plain()])
    sealed.metadata[KEY_ID_KEY] = b"b"

    with pytest.raises(CodecError, match="failed authentication"):
        await codec.decode([sealed])


async def test_payloads_written_before_the_codec_pass_through_decoding_unchanged() -> None:
    codec = EncryptionCodec(DEV_KEY_RING)
    unencrypted = [plain(), plain("text"), Payload(metadata={"encoding": b"binary/null"})]

    assert await codec.decode(unencrypted) == unencrypted


async def test_the_converter_encrypts_values_and_failure_messages() -> None:
    converter = data_converter_for(Settings.model_validate({"environment": "test"}))

    [payload] = await converter.encode([CUSTOMER])
    assert payload.metadata[KEY_ID_KEY] == DEV_CODEC_KEY_ID.encode()
    assert await converter.decode([payload], [Customer]) == [CUSTOMER]

    from temporalio.api.failure.v1 import Failure
    from temporalio.exceptions import ApplicationError

    failure = Failure()
    await converter.encode_failure(ApplicationError("no mailbox ada@example.com"), failure)
    assert b"ada@example.com" not in failure.SerializeToString()
    assert "ada@example.com" in str(await converter.decode_failure(failure))


# -- keys from settings --------------------------------------------------------------------------


def keys_json(**keys: bytes) -> str:
    import base64

    return json.dumps({key_id: base64.b64encode(key).decode() for key_id, key in keys.items()})


PRODUCTION = {
    "environment": "production", "database_url": "postgresql://omniroute@app-db/omniroute",
    "easypost_api_key": "EZAK-real", "easypost_base_url": "https://api.easypost.com/v2",
    "sendgrid_api_key": "SG.real", "sendgrid_base_url": "https://api.sendgrid.com",
}


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_and_test_without_keys_use_the_published_dev_key(environment: str) -> None:
    assert Settings.model_validate({"environment": environment}).codec_key_ring == DEV_KEY_RING


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_staging_and_production_refuse_to_start_without_keys(environment: str) -> None:
    settings = Settings.model_validate({**PRODUCTION, "environment": environment})  # migrations need no keys

    # Every process that talks to Temporal builds the codec first: the worker, the gateway, the SDK's users.
    with pytest.raises(ValueError, match="OMNIROUTE_CODEC_KEYS must be set outside development and test"):
        codec_for(settings)


def test_production_refuses_the_published_dev_key() -> None:
    with pytest.raises(ValidationError, match="published development key"):
        Settings.model_validate({**PRODUCTION, "codec_keys": keys_json(mine=DEV_KEY_RING.keys[DEV_CODEC_KEY_ID])})


def test_production_reads_its_keys_and_active_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [key for key in os.environ if key.startswith("OMNIROUTE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("OMNIROUTE_CODEC_KEYS", keys_json(**{"2026-11": KEY_A, "2026-12": KEY_B}))
    monkeypatch.setenv("OMNIROUTE_CODEC_ACTIVE_KEY", "2026-12")

    ring = Settings.model_validate(PRODUCTION).codec_key_ring

    assert ring.keys == {"2026-11": KEY_A, "2026-12": KEY_B} and ring.active == "2026-12"


def test_one_key_is_active_without_being_named() -> None:
    assert key_ring(keys_json(only=KEY_A), None, development=False).active == "only"


def test_several_keys_need_the_active_one_named() -> None:
    with pytest.raises(ValueError, match="OMNIROUTE_CODEC_ACTIVE_KEY must name the key that encrypts"):
        key_ring(keys_json(a=KEY_A, b=KEY_B), None, development=False)
    with pytest.raises(ValueError, match="names 'c', which OMNIROUTE_CODEC_KEYS does not hold"):
        key_ring(keys_json(a=KEY_A, b=KEY_B), "c", development=False)


@pytest.mark.parametrize("text", ['{"a": "c2hvcnQ="}', '{"a": "not base64!"}', '{"a": 7}', '["a"]', "{}"])
def test_keys_that_are_not_32_bytes_in_base64_are_refused_naming_the_id_not_the_key(text: str) -> None:
    with pytest.raises(ValueError, match="OMNIROUTE_CODEC_KEYS") as raised:
        key_ring(text, None, development=True)
    assert "c2hvcnQ" not in str(raised.value) and "not base64" not in str(raised.value)


def test_a_key_text_that_is_not_json_is_refused_without_quoting_it() -> None:
    secret = new_key()

    with pytest.raises(ValidationError) as raised:
        Settings.model_validate({"codec_keys": '{"a": "' + secret})

    assert "invalid JSON" in str(raised.value) and secret not in str(raised.value)


def test_the_key_ring_never_shows_its_keys() -> None:
    ring = KeyRing({"a": KEY_A}, "a")

    assert repr(ring) == "KeyRing(active='a', ids=['a'])"
    assert "**" in repr(Settings.model_validate({"codec_keys": keys_json(a=KEY_A)}).codec_keys)


def test_a_child_process_reads_back_the_keys_it_was_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [key for key in os.environ if key.startswith("OMNIROUTE_")]:
        monkeypatch.delenv(key)
    given = Settings(_env_file=None, data_dir=tmp_path, codec_keys=keys_json(a=KEY_A, b=KEY_B), codec_active_key="b")
    for key, value in settings_environment(given).items():
        monkeypatch.setenv(key, value)

    assert Settings(_env_file=None).codec_key_ring == given.codec_key_ring
