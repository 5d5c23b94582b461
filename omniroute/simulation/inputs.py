"""The simulator's input files: nodes, starting inventory, orders and a demand forecast. Plain CSV
and JSON Lines, documented in docs/simulation.md (the fulfilment-literature files: `literature`).

Every reader raises `InputError` naming the file, the line and the field of the first bad value;
the writers produce files the readers read back, so a generated setup can be replayed as-is.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.address import GeoPoint, Latitude, Longitude
from models.inventory import Sku
from models.network import NodeKind
from sourcing.geo import lookup_postal_code

Inventory = dict[tuple[str, str], int]
Row = TypeVar("Row", bound=BaseModel)


class InputError(ValueError):
    """A simulation input that cannot be used: says where (file, line, field) and why."""

    def __init__(self, path: Path | str, line: int | None, field: str | None, message: str) -> None:
        self.path, self.line, self.field, self.message = str(path), line, field, message
        where = ", ".join(part for part in (
            str(path), f"line {line}" if line is not None else "", f"field {field}" if field else "") if part)
        super().__init__(f"{where}: {message}")


class SimNode(BaseModel):
    """A node of the simulated network: where it is and how many shipments it can send per day."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    kind: NodeKind = NodeKind.DC
    point: GeoPoint
    postal_code: str | None = None
    capacity: int | None = Field(default=None, ge=0, description="shipments per simulated day; None = no limit")


class SimLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: Sku
    quantity: int = Field(gt=0)


class SimOrder(BaseModel):
    """An order as it arrives: where it goes, on which simulated day, and its lines."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    destination: GeoPoint
    postal_code: str | None = None
    day: int = Field(default=0, ge=0)
    lines: tuple[SimLine, ...]


class DemandRate(BaseModel):
    """Expected units of a SKU per order to come, for destinations at `point`."""

    model_config = ConfigDict(frozen=True)

    point: GeoPoint
    sku: Sku
    units_per_order: float = Field(ge=0)


class Place(BaseModel):
    """A named point: a demand region (city with its population) or a fulfilment centre."""

    model_config = ConfigDict(frozen=True)

    name: str
    region: str = ""
    point: GeoPoint
    population: int | None = Field(default=None, ge=0)


# Row shapes, named by the files' own column and key names so that errors name them too.


class _Located(BaseModel):
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    postal_code: str | None = None


class _NodeRow(_Located):
    id: str = Field(min_length=1, max_length=64)
    kind: NodeKind = NodeKind.DC
    capacity: int | None = Field(default=None, ge=0)


class _InventoryRow(BaseModel):
    node: str = Field(min_length=1)
    sku: Sku
    quantity: int = Field(ge=0)


class _OrderRow(_Located):
    id: str = Field(min_length=1, max_length=200)
    day: int = Field(default=0, ge=0)
    lines: list[SimLine] = Field(min_length=1)


class _OrderLineRow(_Located):
    id: str = Field(min_length=1, max_length=200)
    day: int = Field(default=0, ge=0)
    sku: Sku
    quantity: int = Field(gt=0)


class _DemandRow(_Located):
    sku: Sku
    units_per_order: float = Field(ge=0)


def validate_row(model: type[Row], data: Mapping[str, Any], path: Path, line: int) -> Row:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InputError(path, line, field, str(first["msg"]).removeprefix("Value error, ")) from None


def _point(row: _Located, path: Path, line: int) -> GeoPoint:
    if row.latitude is not None and row.longitude is not None:
        return GeoPoint(latitude=row.latitude, longitude=row.longitude)
    if (row.latitude is None) != (row.longitude is None):
        missing = "longitude" if row.longitude is None else "latitude"
        raise InputError(path, line, missing, "latitude and longitude must be given together")
    if row.postal_code is None:
        raise InputError(path, line, "postal_code", "latitude/longitude or postal_code is required")
    place = lookup_postal_code(row.postal_code)
    if place is None:
        raise InputError(path, line, "postal_code", f"unknown US postal code {row.postal_code!r}")
    return place.point


def _csv_rows(path: Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(line number, row) for each data row of a CSV with a header; blank cells become None."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise InputError(path, None, None, f"cannot read: {err.strerror or err}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = header
        for name in required:
            if name not in header:
                raise InputError(path, 1, name, f"missing column (the header has: {', '.join(header) or 'nothing'})")
        for row in reader:
            if None in row:
                raise InputError(path, reader.line_num, None, f"{len(header)} columns expected, got more")
            cells = {key: (value.strip() or None) if value is not None else None for key, value in row.items()}
            if any(value is not None for value in cells.values()):
                yield reader.line_num, cells


def read_nodes(path: Path) -> list[SimNode]:
    """Nodes CSV: `id, kind, latitude, longitude, postal_code, capacity` (kind defaults to dc; a point or
    a US postal code; capacity in shipments per simulated day, blank for no limit)."""
    nodes: list[SimNode] = []
    seen: set[str] = set()
    for line, cells in _csv_rows(path, ["id"]):
        row = validate_row(_NodeRow, {k: v for k, v in cells.items() if v is not None}, path, line)
        if row.id in seen:
            raise InputError(path, line, "id", f"node {row.id!r} appears twice")
        seen.add(row.id)
        nodes.append(SimNode(node_id=row.id, kind=row.kind, point=_point(row, path, line),
                             postal_code=row.postal_code, capacity=row.capacity))
    if not nodes:
        raise InputError(path, None, None, "no nodes")
    return nodes


def read_inventory(path: Path, node_ids: Iterable[str] | None = None) -> Inventory:
    """Starting inventory CSV: `node, sku, quantity`, one row per position."""
    known = set(node_ids) if node_ids is not None else None
    stock: Inventory = {}
    for line, cells in _csv_rows(path, ["node", "sku", "quantity"]):
        row = validate_row(_InventoryRow, {k: v for k, v in cells.items() if v is not None}, path, line)
        if known is not None and row.node not in known:
            raise InputError(path, line, "node", f"unknown node {row.node!r} (not in the nodes file)")
        if (row.node, row.sku) in stock:
            raise InputError(path, line, "sku", f"position {row.node}/{row.sku} appears twice")
        stock[(row.node, row.sku)] = row.quantity
    return stock


def read_orders(path: Path) -> list[SimOrder]:
    """Orders in arrival order: JSON Lines (`.jsonl`, one order per line) or CSV (one row per line)."""
    orders = _read_orders_csv(path) if path.suffix.lower() == ".csv" else _read_orders_jsonl(path)
    if not orders:
        raise InputError(path, None, None, "no orders")
    return orders


def _read_orders_jsonl(path: Path) -> list[SimOrder]:
    orders: list[SimOrder] = []
    seen: set[str] = set()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise InputError(path, None, None, f"cannot read: {err.strerror or err}") from None
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            raise InputError(path, line, None, f"not JSON: {err.msg} at column {err.colno}") from None
        if not isinstance(data, dict):
            raise InputError(path, line, None, "each line must be one JSON object (an order)")
        row = validate_row(_OrderRow, data, path, line)
        if row.id in seen:
            raise InputError(path, line, "id", f"order {row.id!r} appears twice")
        seen.add(row.id)
        orders.append(SimOrder(order_id=row.id, destination=_point(row, path, line), postal_code=row.postal_code,
                               day=row.day, lines=tuple(row.lines)))
    return orders


def _read_orders_csv(path: Path) -> list[SimOrder]:
    """One row per order line; an order's rows are consecutive and repeat its destination and day."""
    orders: list[SimOrder] = []
    finished: set[str] = set()
    current: _OrderLineRow | None = None
    point: GeoPoint | None = None
    lines: list[SimLine] = []

    def close() -> None:
        if current is not None and point is not None:
            orders.append(SimOrder(order_id=current.id, destination=point, postal_code=current.postal_code,
                                   day=current.day, lines=tuple(lines)))
            finished.add(current.id)

    for line, cells in _csv_rows(path, ["id", "sku", "quantity"]):
        row = validate_row(_OrderLineRow, {k: v for k, v in cells.items() if v is not None}, path, line)
        if current is None or row.id != current.id:
            if row.id in finished:
                raise InputError(path, line, "id", f"order {row.id!r} appears again after other orders")
            close()
            current, point, lines = row, _point(row, path, line), []
        else:
            for name in ("latitude", "longitude", "postal_code", "day"):
                if getattr(row, name) != getattr(current, name):
                    raise InputError(path, line, name, f"differs from the order's first row ({row.id!r})")
        lines.append(SimLine(sku=row.sku, quantity=row.quantity))
    close()
    return orders


def read_demand(path: Path) -> list[DemandRate]:
    """Demand forecast CSV: `latitude, longitude` (or `postal_code`), `sku, units_per_order`."""
    rates = []
    for line, cells in _csv_rows(path, ["sku", "units_per_order"]):
        row = validate_row(_DemandRow, {k: v for k, v in cells.items() if v is not None}, path, line)
        rates.append(DemandRate(point=_point(row, path, line), sku=row.sku, units_per_order=row.units_per_order))
    if not rates:
        raise InputError(path, None, None, "no demand rows")
    return rates


# writers


def write_nodes(nodes: Sequence[SimNode], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "kind", "latitude", "longitude", "postal_code", "capacity"])
        for node in nodes:
            writer.writerow([node.node_id, node.kind.value, node.point.latitude, node.point.longitude,
                             node.postal_code or "", "" if node.capacity is None else node.capacity])


def write_inventory(stock: Mapping[tuple[str, str], int], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["node", "sku", "quantity"])
        for (node_id, sku), quantity in sorted(stock.items()):
            writer.writerow([node_id, sku, quantity])


def write_orders(orders: Sequence[SimOrder], path: Path) -> None:
    """Orders as JSON Lines, in arrival order."""
    with path.open("w", encoding="utf-8") as handle:
        for order in orders:
            row: dict[str, Any] = {"id": order.order_id, "latitude": order.destination.latitude,
                                   "longitude": order.destination.longitude}
            if order.postal_code:
                row["postal_code"] = order.postal_code
            if order.day:
                row["day"] = order.day
            row["lines"] = [{"sku": line.sku, "quantity": line.quantity} for line in order.lines]
            handle.write(json.dumps(row) + "\n")
