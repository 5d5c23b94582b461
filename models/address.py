"""Postal addresses and geographic points."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from models.text import PlainText

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class GeoPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    latitude: Latitude
    longitude: Longitude


class Located(BaseModel):
    """Something found by US postal code or by latitude/longitude (at least one of the two)."""

    postal_code: PlainText | None = Field(default=None, max_length=20)
    latitude: Latitude | None = None
    longitude: Longitude | None = None

    @model_validator(mode="after")
    def _locatable(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude must be given together")
        if self.postal_code is None and self.latitude is None:
            raise ValueError("postal_code or latitude/longitude is required")
        return self

    @property
    def point(self) -> GeoPoint | None:
        if self.latitude is None or self.longitude is None:
            return None
        return GeoPoint(latitude=self.latitude, longitude=self.longitude)


class Address(Located):
    """A delivery address. US postal codes locate it; latitude/longitude may be given instead."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: PlainText = Field(min_length=1, max_length=200)
    line1: PlainText = Field(min_length=1, max_length=200)
    line2: PlainText | None = Field(default=None, max_length=200)
    city: PlainText = Field(min_length=1, max_length=100)
    region: PlainText = Field(default="", max_length=100, description="state or province code, e.g. IL")
    country: CountryCode = "US"
    phone: PlainText | None = Field(default=None, max_length=40)
