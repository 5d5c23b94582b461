"""OMNIROUTE_SHOPIFY_WEBHOOK_SECRETS: a JSON object of channel to secret; refused naming the variable and
never quoting a secret; a channel not listed has the published dev secret in development and test only."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omniroute.config.settings import Settings, dev_shopify_webhook_secret

DATABASE = "postgresql://omniroute@db/omniroute"


def test_a_listed_channel_has_its_secret_in_every_environment() -> None:
    for environment in ("development", "production"):
        settings = Settings(environment=environment, database_url=DATABASE,
                            shopify_webhook_secrets='{"shop_us": "shpss_listed"}')
        assert settings.shopify_webhook_secret("shop_us") == "shpss_listed"


def test_an_unlisted_channel_has_the_dev_secret_in_test_and_none_in_production() -> None:
    assert Settings(environment="test").shopify_webhook_secret("shop_eu") == dev_shopify_webhook_secret("shop_eu")
    production = Settings(environment="production", database_url=DATABASE,
                          shopify_webhook_secrets='{"shop_us": "shpss_listed"}')
    assert production.shopify_webhook_secret("shop_eu") is None


def test_production_does_not_trust_the_published_dev_secret_even_when_listed() -> None:
    settings = Settings(environment="production", database_url=DATABASE,
                        shopify_webhook_secrets=f'{{"shop": "{dev_shopify_webhook_secret("shop")}"}}')
    assert settings.shopify_webhook_secret("shop") is None


def test_the_secret_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIROUTE_SHOPIFY_WEBHOOK_SECRETS", '{"web": "from-the-environment"}')
    assert Settings(environment="test").shopify_webhook_secret("web") == "from-the-environment"


@pytest.mark.parametrize(("value", "says"), [
    ('["topsecret-1"]', "JSON object"),
    ("topsecret-1", "not JSON"),
    ('{"Shop": "topsecret-1"}', "'Shop' is not a channel name"),
    ('{"shop": ""}', "channel 'shop'"),
    ('{"shop": 42}', "channel 'shop'"),
])
def test_a_malformed_value_is_refused_naming_the_variable_without_quoting_a_secret(value: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(environment="test", shopify_webhook_secrets=value)

    message = str(refused.value)
    assert "OMNIROUTE_SHOPIFY_WEBHOOK_SECRETS" in message
    assert says in message
    assert "topsecret" not in message
