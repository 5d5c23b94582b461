"""Money as integer minor units with an ISO 4217 currency: never floats."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from models.currencies import ISO_4217_CODES
from models.limits import MinorUnits

__all__ = ["Currency", "MinorUnits", "Money"]


def _known_currency(code: str) -> str:
    if code not in ISO_4217_CODES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


Currency = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}$", min_length=3, max_length=3), AfterValidator(_known_currency)
]


class Money(BaseModel):
    """An amount in minor units (e.g. cents) and its ISO 4217 currency code."""

    model_config = ConfigDict(frozen=True)

    amount: int
    currency: Currency

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(amount=0, currency=currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def times(self, quantity: int) -> Money:
        return Money(amount=self.amount * quantity, currency=self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __str__(self) -> str:
        return f"{self.amount / 100:.2f} {self.currency}"
