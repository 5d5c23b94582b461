"""What a unit weighs and measures: the catalogue the cost model prices parcels from."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.inventory import Sku
from models.text import PlainText

MAX_WEIGHT_LB = 100_000
MAX_DIMENSION_IN = 10_000
Tag = Annotated[PlainText, Field(min_length=1, max_length=64)]


class SkuAttributes(BaseModel):
    """One unit of a SKU as it ships: weight in pounds, outer dimensions in inches (0 = unknown)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: Sku
    weight_lb: float = Field(gt=0, le=MAX_WEIGHT_LB)
    length_in: float = Field(default=0.0, ge=0, le=MAX_DIMENSION_IN)
    width_in: float = Field(default=0.0, ge=0, le=MAX_DIMENSION_IN)
    height_in: float = Field(default=0.0, ge=0, le=MAX_DIMENSION_IN)
    tags: list[Tag] = Field(default_factory=list, max_length=50, description="free labels, e.g. fragile, oversize")

    @property
    def cubic_in(self) -> float:
        """Volume of one unit; 0 when any dimension is unknown, so dimensional weight never applies."""
        return self.length_in * self.width_in * self.height_in


class Catalog(BaseModel):
    """SKU attributes by SKU. Unknown SKUs weigh `default_weight_lb` and have no dimensions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    skus: dict[str, SkuAttributes] = Field(default_factory=dict)
    default_weight_lb: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _keys_are_their_skus(self) -> Self:
        for key, attributes in self.skus.items():
            if key != attributes.sku:
                raise ValueError(f"skus.{key}: holds the attributes of {attributes.sku!r}")
        return self

    def get(self, sku: str) -> SkuAttributes:
        found = self.skus.get(sku)
        if found is not None:
            return found
        return SkuAttributes(sku=sku, weight_lb=self.default_weight_lb)

    @classmethod
    def of(cls, items: list[SkuAttributes], default_weight_lb: float = 1.0) -> Catalog:
        """A catalogue from a list; a SKU listed twice is an error."""
        skus: dict[str, SkuAttributes] = {}
        for index, item in enumerate(items):
            if item.sku in skus:
                raise ValueError(f"skus[{index}].sku: {item.sku!r} is listed twice")
            skus[item.sku] = item
        return cls(skus=skus, default_weight_lb=default_weight_lb)
