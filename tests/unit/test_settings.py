"""Settings refuse development secrets in production, for the providers a deployment uses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omniroute.settings import Settings

PRODUCTION = {"environment": "production", "easypost_api_key": "EZAK-real", "sendgrid_api_key": "SG.real"}


def test_production_needs_real_carrier_and_mail_keys() -> None:
    with pytest.raises(ValidationError, match="OMNIROUTE_EASYPOST_API_KEY"):
        Settings.model_validate({"environment": "production"})


def test_a_production_deployment_without_shopify_needs_no_shopify_token() -> None:
    assert Settings.model_validate(PRODUCTION).environment == "production"


def test_a_production_deployment_that_syncs_shopify_needs_its_token() -> None:
    with pytest.raises(ValidationError, match="OMNIROUTE_SHOPIFY_API_KEY"):
        Settings.model_validate({**PRODUCTION, "shopify_base_url": "https://shop.myshopify.com"})
    configured = {**PRODUCTION, "shopify_base_url": "https://shop.myshopify.com", "shopify_api_key": "shpat_real"}
    assert Settings.model_validate(configured).shopify_base_url
