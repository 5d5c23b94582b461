"""Checks on requests that need reference data (the ZIP code table) rather than the request alone."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.errors import field_error
from sourcing.geo import lookup_postal_code


def require_known_postal_code(country: str, postal_code: str | None, loc: Sequence[str | int]) -> None:
    """Raise a 422 naming `loc` if a US postal code does not exist; other countries are not checked."""
    if country != "US" or postal_code is None or lookup_postal_code(postal_code) is not None:
        return
    raise field_error(loc, f"unknown US postal code {postal_code!r}", kind="postal_code", value=postal_code)
