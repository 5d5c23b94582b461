"""Twilio's settings: the sandbox's account by default in development, validated naming the variable, and
refused outside development once Twilio is configured but still pointing at the sandbox."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from integrations.notify import twilio_sandbox
from omniroute.config.settings import (
    DEV_TWILIO_ACCOUNT_SID,
    DEV_TWILIO_AUTH_TOKEN,
    Settings,
)

PRODUCTION = {"environment": "production", "database_url": "postgresql://db/omniroute",
              "easypost_api_key": SecretStr("EZAK-live"), "easypost_base_url": "https://api.easypost.com/v2",
              "sendgrid_api_key": SecretStr("SG.live"), "sendgrid_base_url": "https://api.sendgrid.com"}
REAL_SID = "AC" + "a1" * 16


def test_development_sends_sms_to_the_sandboxes_account() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.uses_twilio and settings.twilio_url == f"{settings.sandbox_url}/twilio"
    assert (DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN) == (twilio_sandbox.DEV_TWILIO_ACCOUNT_SID,
                                                               twilio_sandbox.DEV_TWILIO_AUTH_TOKEN)


@pytest.mark.parametrize(("field", "value", "variable"), [
    ("twilio_account_sid", "SK123", "OMNIROUTE_TWILIO_ACCOUNT_SID"),
    ("twilio_from", "0800 123", "OMNIROUTE_TWILIO_FROM"),
])
def test_a_malformed_twilio_setting_is_refused_naming_the_variable(field: str, value: str, variable: str) -> None:
    with pytest.raises(ValidationError, match=variable):
        Settings(_env_file=None, **{field: value})  # type: ignore[call-arg]


def test_a_messaging_service_is_a_valid_sender() -> None:
    assert Settings(_env_file=None, twilio_from="MG" + "0f" * 16).twilio_from.startswith("MG")  # type: ignore[call-arg]


def test_production_without_twilio_sends_no_sms_and_needs_nothing() -> None:
    settings = Settings(_env_file=None, **PRODUCTION)  # type: ignore[call-arg]

    settings.require_providers()
    assert not settings.uses_twilio


def test_production_with_twilio_half_configured_names_what_is_missing() -> None:
    settings = Settings(_env_file=None, twilio_account_sid=REAL_SID, twilio_auth_token=SecretStr("live-token"),  # type: ignore[call-arg]
                        **PRODUCTION)

    with pytest.raises(ValueError, match="OMNIROUTE_TWILIO_BASE_URL"):
        settings.require_providers()

    complete = settings.model_copy(update={"twilio_base_url": "https://api.twilio.com", "twilio_from": "+14155550100"})
    complete.require_providers()
    assert complete.uses_twilio
