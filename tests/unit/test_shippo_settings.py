"""Shippo's settings: the sandbox by default, a real URL, token and webhook secret demanded outside
development once Shippo is in use, and the sandbox and the settings agreeing on the development values."""

from __future__ import annotations

import pytest

from integrations.carriers import shippo_sandbox
from omniroute.config.settings import DEV_SHIPPO_KEY, DEV_SHIPPO_WEBHOOK_SECRET, Settings

PRODUCTION = {
    "environment": "production", "database_url": "postgresql://omniroute@app-db/omniroute",
    "codec_keys": '{"2026-12": "' + "A" * 43 + '="}',
    "easypost_api_key": "EZAK-real", "easypost_base_url": "https://api.easypost.com/v2",
    "sendgrid_api_key": "SG.real", "sendgrid_base_url": "https://api.sendgrid.com",
}
REAL_SHIPPO = {"shippo_base_url": "https://api.goshippo.com", "shippo_api_key": "shippo_live_real",
               "shippo_webhook_secret": "a-real-secret"}


def test_shippo_defaults_to_the_sandbox_and_its_token() -> None:
    settings = Settings.model_validate({"sandbox_port": 8123})
    assert settings.shippo_url == "http://127.0.0.1:8123/shippo"
    assert settings.shippo_api_key.get_secret_value() == DEV_SHIPPO_KEY == shippo_sandbox.DEV_SHIPPO_KEY
    assert DEV_SHIPPO_KEY.startswith("shippo_test_")
    assert settings.shippo_webhook_secret.get_secret_value() == DEV_SHIPPO_WEBHOOK_SECRET \
        == shippo_sandbox.DEV_SHIPPO_WEBHOOK_SECRET
    assert Settings.model_validate({"shippo_base_url": "https://api.goshippo.com"}).shippo_url \
        == "https://api.goshippo.com"


def test_production_without_shippo_configured_still_starts() -> None:
    Settings.model_validate(PRODUCTION).require_providers()
    Settings.model_validate({**PRODUCTION, **REAL_SHIPPO}).require_providers()


@pytest.mark.parametrize(("left_out", "variable"), [
    ("shippo_api_key", "OMNIROUTE_SHIPPO_API_KEY"),
    ("shippo_base_url", "OMNIROUTE_SHIPPO_BASE_URL"),
    ("shippo_webhook_secret", "OMNIROUTE_SHIPPO_WEBHOOK_SECRET"),
])
def test_production_refuses_each_shippo_setting_left_at_its_development_value(left_out: str, variable: str) -> None:
    given = {key: value for key, value in REAL_SHIPPO.items() if key != left_out}
    with pytest.raises(ValueError, match=f"{variable} must be set outside development"):
        Settings.model_validate({**PRODUCTION, **given}).require_providers()


def test_development_accepts_the_sandbox_values() -> None:
    Settings.model_validate({"environment": "development", "shippo_base_url": "http://127.0.0.1:9/shippo"}) \
        .require_providers()
