"""The currency codes the models accept are ISO 4217's, as the pycountry package keeps them."""

import pycountry
import pytest
from pydantic import ValidationError

from models.currencies import ISO_4217_CODES
from models.money import Money


def test_the_written_out_codes_are_pycountrys_active_iso_4217_list() -> None:
    assert {currency.alpha_3 for currency in pycountry.currencies} == ISO_4217_CODES


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "CAD"])
def test_money_takes_an_iso_4217_code(code: str) -> None:
    assert Money(amount=1, currency=code).currency == code


def test_money_refuses_a_well_formed_code_that_is_not_iso_4217() -> None:
    with pytest.raises(ValidationError, match="XYZ.*is not an ISO 4217 currency code"):
        Money(amount=1, currency="XYZ")
