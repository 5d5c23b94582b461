"""FX rates as data: what one unit of a currency is worth in another, for rules whose money
thresholds must hold in every currency (see sourcing/fx.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from models.money import Currency

FxRate = Annotated[
    Decimal,
    Field(gt=0, allow_inf_nan=False, description="what one unit of a currency is worth in another, e.g. 1.08"),
]

# Rates into a threshold's currency: `{"USD": {"EUR": Decimal("1.08")}}` reads "one EUR is 1.08 USD".
FxRates = dict[Currency, dict[Currency, FxRate]]
