"""Money across currencies: an amount in one currency's minor units, exactly, in another's.

Pure: the rates come in as data (a rule set's `fx_rates`). The converted amount is an exact fraction
of the target's minor units, so a threshold comparison never depends on rounding; it is rounded
(half to even) only when written out for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

from models.currencies import minor_unit_exponent
from models.fx import FxRates

__all__ = ["Conversion", "convert", "format_minor_units"]


@dataclass(frozen=True)
class Conversion:
    """`amount` minor units of `source` are `converted` minor units of `target` at `rate` target per source."""

    amount: int
    source: str
    target: str
    rate: Decimal
    converted: Fraction

    def __str__(self) -> str:
        return (f"{format_minor_units(self.amount, self.source)} is "
                f"{format_minor_units(self.converted, self.target)} at {self.rate} {self.target} per {self.source}")


def convert(amount: int, source: str, target: str, fx_rates: FxRates) -> Conversion | None:
    """`amount` (minor units of `source`) in minor units of `target`; None when `fx_rates` has no such rate."""
    rate = fx_rates.get(target, {}).get(source)
    if rate is None:
        return None
    scale = Fraction(10) ** (minor_unit_exponent(target) - minor_unit_exponent(source))
    return Conversion(amount=amount, source=source, target=target, rate=rate,
                      converted=amount * Fraction(rate) * scale)


def format_minor_units(amount: int | Fraction, currency: str) -> str:
    """`amount` minor units as a person reads them: 54000000 USD is "540,000.00 USD", 150000 JPY "150,000 JPY"."""
    exponent = minor_unit_exponent(currency)
    with localcontext() as context:
        context.prec = max(28, len(str(int(amount))) + exponent + 2)
        exact = Decimal(amount.numerator) / Decimal(amount.denominator) if isinstance(amount, Fraction) \
            else Decimal(amount)
        major = (exact.scaleb(-exponent)).quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_EVEN)
    return f"{major:,.{exponent}f} {currency}"
