"""Settings fail closed: staging and production refuse a missing database URL, and a process that calls
the providers refuses the sandboxes' keys and URLs for the providers a deployment uses; the environment
is one of four names."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from omniroute.config.settings import DEV_EASYPOST_KEY, Settings
from omniroute.devstack.stack_env import settings_environment

PRODUCTION = {
    "environment": "production", "database_url": "postgresql://omniroute@app-db/omniroute",
    "codec_keys": '{"2026-12": "' + "A" * 43 + '="}',
    "easypost_api_key": "EZAK-real", "easypost_base_url": "https://api.easypost.com/v2",
    "sendgrid_api_key": "SG.real", "sendgrid_base_url": "https://api.sendgrid.com",
}


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_staging_and_production_need_real_carrier_and_mail_keys(environment: str) -> None:
    with pytest.raises(ValueError, match="OMNIROUTE_EASYPOST_API_KEY must be set outside development"):
        Settings.model_validate({**PRODUCTION, "environment": environment,
                                 "easypost_api_key": DEV_EASYPOST_KEY}).require_providers()
    with pytest.raises(ValueError, match="OMNIROUTE_SENDGRID_API_KEY"):
        Settings.model_validate({**PRODUCTION, "environment": environment,
                                 "sendgrid_api_key": "SG.omniroute-sandbox"}).require_providers()


def test_production_refuses_a_provider_url_left_to_the_local_sandbox() -> None:
    without_url = {key: value for key, value in PRODUCTION.items() if key != "sendgrid_base_url"}

    with pytest.raises(ValueError, match="OMNIROUTE_SENDGRID_BASE_URL must be set .* local sandbox"):
        Settings.model_validate(without_url).require_providers()


def test_a_production_process_that_calls_no_provider_needs_no_provider_key() -> None:
    gateway = Settings.model_validate({"environment": "production", "database_url": PRODUCTION["database_url"]})

    assert gateway.easypost_api_key.get_secret_value() == DEV_EASYPOST_KEY, "never used by this process"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_staging_and_production_refuse_to_run_without_a_database_url(environment: str) -> None:
    with pytest.raises(ValidationError, match="OMNIROUTE_DATABASE_URL must be set outside development"):
        Settings.model_validate({"environment": environment})


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_and_test_run_on_the_sandboxes(environment: str) -> None:
    settings = Settings.model_validate({"environment": environment})

    assert settings.easypost_url.startswith(settings.sandbox_url)


def test_an_unknown_environment_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="environment") as refused:
        Settings.model_validate({"environment": "prod"})
    assert "development" in str(refused.value) and "production" in str(refused.value)


def test_a_production_deployment_without_shopify_needs_no_shopify_token() -> None:
    Settings.model_validate(PRODUCTION).require_providers()


def test_a_production_deployment_that_syncs_shopify_needs_its_token() -> None:
    with pytest.raises(ValueError, match="OMNIROUTE_SHOPIFY_API_KEY"):
        Settings.model_validate({**PRODUCTION, "shopify_base_url": "https://shop.myshopify.com"}).require_providers()
    configured = {**PRODUCTION, "shopify_base_url": "https://shop.myshopify.com", "shopify_api_key": "shpat_real"}
    Settings.model_validate(configured).require_providers()


def test_a_production_deployment_with_a_3pl_needs_its_key_and_url() -> None:
    with pytest.raises(ValueError, match="OMNIROUTE_SHIPBOB_API_KEY"):
        Settings.model_validate({**PRODUCTION, "shipbob_node_id": "3pl-memphis-tn"}).require_providers()
    with pytest.raises(ValueError, match="OMNIROUTE_SHIPBOB_BASE_URL"):
        Settings.model_validate({**PRODUCTION, "shipbob_node_id": "3pl-memphis-tn",
                                 "shipbob_api_key": "real"}).require_providers()


SYNC = {"channel": "shop", "locations": {"dc-1": 11}, "items": {"SKU-1": 22}}


def test_no_channel_sync_is_configured_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMNIROUTE_CHANNEL_SYNCS", raising=False)

    assert Settings().channel_syncs == []


def test_channel_syncs_are_read_from_a_json_list_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIROUTE_CHANNEL_SYNCS", json.dumps([SYNC, {**SYNC, "channel": "pos", "batch_size": 5}]))

    syncs = Settings().channel_syncs

    assert [(s.channel, s.locations, s.items, s.batch_size) for s in syncs] == [
        ("shop", {"dc-1": 11}, {"SKU-1": 22}, 40),
        ("pos", {"dc-1": 11}, {"SKU-1": 22}, 5),
    ]


def test_channel_syncs_that_are_not_json_are_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIROUTE_CHANNEL_SYNCS", '[{"channel": "shop"')

    with pytest.raises(ValidationError, match="must be a JSON list of channel sync configurations") as raised:
        Settings()
    assert raised.value.errors()[0]["loc"] == ("channel_syncs",)


def test_a_bad_channel_sync_entry_is_refused_naming_its_index_and_field() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings.model_validate({"channel_syncs": [SYNC, {**SYNC, "channel": "pos", "locations": {}}]})

    assert [error["loc"] for error in raised.value.errors()] == [("channel_syncs", 1, "locations")]


def test_two_syncs_for_one_channel_are_refused() -> None:
    with pytest.raises(ValidationError, match="item 1 names channel 'shop' again"):
        Settings.model_validate({"channel_syncs": [SYNC, {**SYNC, "batch_size": 5}]})


def test_the_sandboxes_keep_their_state_in_a_file_under_the_data_dir_by_default(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")

    assert settings.sandbox_state_file == tmp_path / "data" / "sandboxes.db"


def test_a_child_reads_back_the_sandbox_state_file_it_was_given(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    for key in [key for key in os.environ if key.startswith("OMNIROUTE_")]:
        monkeypatch.delenv(key)
    given = Settings(_env_file=None, data_dir=tmp_path / "data", sandbox_state_path=tmp_path / "elsewhere.db")
    for key, value in settings_environment(given).items():
        monkeypatch.setenv(key, value)

    child = Settings(_env_file=None)

    assert child == given and child.sandbox_state_file == tmp_path / "elsewhere.db"
