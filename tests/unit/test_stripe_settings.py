"""Stripe's settings: the sandbox by default, a real URL and key demanded outside development once
Stripe is in use, and the sandbox and the settings agreeing on the development key."""

from __future__ import annotations

import pytest

from integrations.payments import sandbox
from omniroute.config.settings import DEV_STRIPE_KEY, Settings

PRODUCTION = {
    "environment": "production", "database_url": "postgresql://omniroute@app-db/omniroute",
    "codec_keys": '{"2026-12": "' + "A" * 43 + '="}',
    "easypost_api_key": "EZAK-real", "easypost_base_url": "https://api.easypost.com/v2",
    "sendgrid_api_key": "SG.real", "sendgrid_base_url": "https://api.sendgrid.com",
}


def test_stripe_defaults_to_the_sandbox_and_its_key() -> None:
    settings = Settings.model_validate({"sandbox_port": 8123})
    assert settings.stripe_url == "http://127.0.0.1:8123/stripe"
    assert settings.stripe_api_key.get_secret_value() == DEV_STRIPE_KEY == sandbox.DEV_STRIPE_KEY
    assert settings.stripe_webhook_secret.get_secret_value().startswith("whsec_")
    assert Settings.model_validate({"stripe_base_url": "https://api.stripe.com"}).stripe_url == "https://api.stripe.com"


def test_production_refuses_the_sandbox_key_for_a_real_stripe_url() -> None:
    with pytest.raises(ValueError, match="OMNIROUTE_STRIPE_API_KEY must be set outside development"):
        Settings.model_validate({**PRODUCTION, "stripe_base_url": "https://api.stripe.com"}).require_providers()


def test_production_refuses_a_real_stripe_key_aimed_at_the_sandbox() -> None:
    with pytest.raises(ValueError, match="OMNIROUTE_STRIPE_BASE_URL must be set"):
        Settings.model_validate({**PRODUCTION, "stripe_api_key": "sk_live_real"}).require_providers()


def test_production_without_stripe_configured_still_starts() -> None:
    Settings.model_validate(PRODUCTION).require_providers()
    Settings.model_validate({**PRODUCTION, "stripe_api_key": "sk_live_real",
                             "stripe_base_url": "https://api.stripe.com"}).require_providers()
