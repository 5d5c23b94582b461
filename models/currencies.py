"""Currencies as data: which ISO 4217 codes exist, how many decimals their minor units have, and FX rates.

Money here is integer minor units, so converting between currencies needs each currency's exponent:
a JPY amount counts yen (exponent 0), a USD amount cents (2), a KWD amount fils (3). The exponents
are ISO 4217's own, written out below for the currencies that differ from 2. Babel's CLDR data is
not used for them because CLDR gives display precision (it shows HUF and IQD with 0 decimals where
ISO 4217 has 2 and 3); babel only answers which codes are currencies at all.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Annotated

from pydantic import AfterValidator, Field

from models.money import Currency

# ISO 4217 minor units of the active currencies whose exponent is not 2.
_EXPONENT_NOT_TWO: dict[str, int] = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
         "XAF", "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def minor_unit_exponent(currency: str) -> int:
    """How many decimal places one minor unit of `currency` is: 0 for JPY, 2 for USD, 3 for KWD."""
    return _EXPONENT_NOT_TWO.get(currency, 2)


@cache
def _known_codes() -> frozenset[str]:
    from babel.numbers import list_currencies  # read on first use, so importing models loads no locale data

    return frozenset(list_currencies())


def _known_currency(code: str) -> str:
    if code not in _known_codes():
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


KnownCurrency = Annotated[Currency, AfterValidator(_known_currency)]

FxRate = Annotated[
    Decimal,
    Field(gt=0, allow_inf_nan=False, description="what one unit of a currency is worth in another, e.g. 1.08"),
]

# Rates into a threshold's currency: `{"USD": {"EUR": Decimal("1.08")}}` reads "one EUR is 1.08 USD".
FxRates = dict[KnownCurrency, dict[KnownCurrency, FxRate]]
