"""Secrets kept sealed under the codec keys (omniroute/config/sealed_secrets.py): they open for their owner,
after a rotation while their key is listed, and never for another owner or without their key."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook

from omniroute.config.codec_keys import KeyRing
from omniroute.config.sealed_secrets import SealedSecretError, new_signing_secret, open_sealed, seal
from omniroute.config.settings import Settings

OLD, NEW = b"o" * 32, b"n" * 32


def test_a_new_secret_is_a_standard_webhooks_secret() -> None:
    secret = new_signing_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    Webhook(secret)  # the library accepts it


def test_a_sealed_secret_opens_for_its_owner_after_a_rotation_while_its_key_is_listed() -> None:
    sealed = seal(KeyRing({"2026-11": OLD}, "2026-11"), "sub_1", "whsec_abc")
    rotated = KeyRing({"2026-11": OLD, "2026-12": NEW}, "2026-12")

    assert "whsec_abc" not in sealed
    assert open_sealed(rotated, "sub_1", sealed) == "whsec_abc"
    assert seal(rotated, "sub_1", "whsec_abc").startswith("v1:2026-12:")


def test_a_sealed_secret_does_not_open_for_another_owner_or_without_its_key() -> None:
    sealed = seal(KeyRing({"2026-11": OLD}, "2026-11"), "sub_1", "whsec_abc")

    with pytest.raises(SealedSecretError, match="sub_2"):
        open_sealed(KeyRing({"2026-11": OLD}, "2026-11"), "sub_2", sealed)
    with pytest.raises(SealedSecretError, match="'2026-11', which is not configured"):
        open_sealed(KeyRing({"2026-12": NEW}, "2026-12"), "sub_1", sealed)
    with pytest.raises(SealedSecretError, match="not in the sealed form"):
        open_sealed(KeyRing({"2026-11": OLD}, "2026-11"), "sub_1", "whsec_abc")


def test_the_retry_waits_must_be_positive_and_come_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIROUTE_EVENTS_RETRY_WAITS", "[1, 60, 3600]")
    assert Settings().events_retry_waits == [1.0, 60.0, 3600.0]

    with pytest.raises(ValidationError, match="events_retry_waits"):
        Settings(events_retry_waits=[5, 0])
