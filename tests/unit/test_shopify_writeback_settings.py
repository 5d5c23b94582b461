"""OMNIROUTE_SHOPIFY_WRITEBACKS: a JSON list of the Shopify channels written back to, refused naming the entry
and field; each channel's shop URL and token are its own or the deployment's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omniroute.config.settings import Settings


def test_the_writebacks_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIROUTE_SHOPIFY_WRITEBACKS",
                       '[{"channel": "shop_us", "poll_seconds": 2}, {"channel": "shop_eu"}]')
    settings = Settings(environment="test")
    assert [(w.channel, w.poll_seconds) for w in settings.shopify_writebacks] == [("shop_us", 2.0), ("shop_eu", 5.0)]


def test_unset_or_empty_means_no_writeback(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(environment="test").shopify_writebacks == []
    monkeypatch.setenv("OMNIROUTE_SHOPIFY_WRITEBACKS", " ")
    assert Settings(environment="test").shopify_writebacks == []


@pytest.mark.parametrize(("value", "field", "says"), [
    ('[{"channel": "shop_us", "poll_seconds": 0}]', "shopify_writebacks.0.poll_seconds", "greater than 0"),
    ('[{"channel": "Shop US"}]', "shopify_writebacks.0.channel", "pattern"),
    ('[{"channel": "shop_us", "shop_url": "ftp://x"}]', "shopify_writebacks.0.shop_url", "pattern"),
    ('[{"channel": "shop_us", "batch": 5}]', "shopify_writebacks.0.batch", "Extra inputs"),
    ('[{"channel": "shop_us"}, {"channel": "shop_us"}]', "shopify_writebacks", "item 1 names channel 'shop_us' again"),
    ('[{"channel": "shop_us"', "shopify_writebacks", "JSON list"),
])
def test_a_bad_entry_is_refused_naming_its_field(monkeypatch: pytest.MonkeyPatch, value: str, field: str,
                                                 says: str) -> None:
    monkeypatch.setenv("OMNIROUTE_SHOPIFY_WRITEBACKS", value)
    with pytest.raises(ValidationError) as refused:
        Settings(environment="test")
    [error] = refused.value.errors()
    assert ".".join(str(part) for part in error["loc"]) == field
    assert says in str(refused.value)


def test_a_channel_uses_its_own_shop_and_token_else_the_deployments() -> None:
    settings = Settings(environment="test", shopify_base_url="https://main.myshopify.com", shopify_api_key="shpat_main",
                        partner_secrets='{"shop-eu-token": "shpat_eu"}',
                        shopify_writebacks='[{"channel": "shop_us"}, {"channel": "shop_eu", '
                                           '"shop_url": "https://eu.myshopify.com", "token_ref": "shop-eu-token"}]')
    us, eu = settings.shopify_writebacks
    assert settings.shopify_shop(us) == ("https://main.myshopify.com", "shpat_main")
    assert settings.shopify_shop(eu) == ("https://eu.myshopify.com", "shpat_eu")


PRODUCTION = {"environment": "production", "database_url": "postgresql://omniroute@db/omniroute",
              "easypost_base_url": "https://api.easypost.com/v2", "easypost_api_key": "EZAK_real",
              "sendgrid_base_url": "https://api.sendgrid.com", "sendgrid_api_key": "SG.real"}


def test_production_refuses_a_writeback_left_to_the_sandbox_shop_naming_the_entry() -> None:
    settings = Settings.model_validate({**PRODUCTION, "shopify_writebacks": [{"channel": "shop_us"}]})
    with pytest.raises(ValueError, match=r"OMNIROUTE_SHOPIFY_WRITEBACKS\[0\] \(channel 'shop_us'\): set its shop_url"):
        settings.require_providers()
    own_shop = Settings.model_validate({**PRODUCTION, "shopify_writebacks": [
        {"channel": "shop_us", "shop_url": "https://us.myshopify.com"}]})
    with pytest.raises(ValueError, match="set its token_ref or OMNIROUTE_SHOPIFY_API_KEY"):
        own_shop.require_providers()
    unlisted = Settings.model_validate({**PRODUCTION, "shopify_writebacks": [
        {"channel": "shop_us", "shop_url": "https://us.myshopify.com", "token_ref": "us"}]})
    with pytest.raises(ValueError, match=r"token_ref: no secret named 'us' in OMNIROUTE_PARTNER_SECRETS"):
        unlisted.require_providers()
    Settings.model_validate({**PRODUCTION, "partner_secrets": '{"us": "shpat_us"}', "shopify_writebacks": [
        {"channel": "shop_us", "shop_url": "https://us.myshopify.com", "token_ref": "us"}]}).require_providers()
