"""The fulfilment-literature network files: demand regions (cities) and fulfilment centres.

As published with Jasin & Sinha (2015) and Ma (2023) in Willmasaur/multi_item_e_commerce_fulfillment:
no header row, a UTF-8 byte-order mark, CRLF line ends. Errors are `InputError`s naming the file,
the line and the column.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import BaseModel, Field

from models.address import GeoPoint, Latitude, Longitude
from omniroute.simulation.inputs import InputError, Place, Row, validate_row


class _CityRow(BaseModel):
    name: str = Field(min_length=1)
    state: str
    latitude: Latitude
    longitude: Longitude
    population: int = Field(ge=0)


class _CentreRow(BaseModel):
    code: str = Field(min_length=1)
    state: str
    latitude: Latitude
    longitude: Longitude


def read_literature_cities(path: Path) -> list[Place]:
    """`name, state, latitude, longitude, population` per line: the demand regions."""
    return [Place(name=row.name, region=row.state, point=GeoPoint(latitude=row.latitude, longitude=row.longitude),
                  population=row.population)
            for row in _headerless(path, _CityRow)]


def read_literature_centres(path: Path) -> list[Place]:
    """`code, state, latitude, longitude` per line: the fulfilment centres."""
    return [Place(name=row.code, region=row.state, point=GeoPoint(latitude=row.latitude, longitude=row.longitude))
            for row in _headerless(path, _CentreRow)]


def read_literature(folder: Path, setup: str) -> tuple[list[Place], list[Place]]:
    """(demand regions, fulfilment centres) of the `small` (10 regions, 5 FCs) or `large` (99, 10) setup."""
    suffix = {"small": "_warmup", "large": ""}.get(setup)
    if suffix is None:
        raise InputError(folder, None, "setup", f"must be 'small' or 'large', got {setup!r}")
    return (read_literature_cities(folder / f"cities{suffix}.csv"),
            read_literature_centres(folder / f"fulfillment_centers{suffix}.csv"))


def _headerless(path: Path, model: type[Row]) -> list[Row]:
    names = list(model.model_fields)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise InputError(path, None, None, f"cannot read: {err.strerror or err}") from None
    rows = []
    with handle:
        reader = csv.reader(handle)
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(names):
                raise InputError(path, reader.line_num, None,
                                 f"{len(names)} columns expected ({', '.join(names)}), got {len(cells)}")
            rows.append(validate_row(model, dict(zip(names, (c.strip() for c in cells), strict=True)),
                                  path, reader.line_num))
    if not rows:
        raise InputError(path, None, None, "no rows")
    return rows
