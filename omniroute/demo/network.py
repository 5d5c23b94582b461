"""The demo network as data: nodes, SKUs, stock and customer ship-to locations.

The files live in `omniroute/demo/data/` and are loaded here into typed values. They reach the
running system only through the HTTP gateway (see `omniroute.demo.api`), as a user's would.

The stores in `nodes.json` are open 00:00-23:59:59 every day of the week, in their own time zones:
the demo runs at any hour, and a store closed at that hour would leave its SLA timers waiting for the
opening. Their SLAs are short (10 minutes to accept, 15 to pick, a pickup window of 2 minutes in
`pickup_minutes`) and their daily capacity large, so that neither stalls the demo.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import ValidationError

from models.network import Node


class DemoDataError(ValueError):
    """A demo data file is missing a field or holds a bad value; the message names file and row."""


@dataclass(frozen=True)
class DemoSku:
    sku: str
    name: str
    weight_oz: int
    price_cents: int


@dataclass(frozen=True)
class StockRow:
    node_id: str
    sku: str
    on_hand: int


@dataclass(frozen=True)
class ShipToLocation:
    """A real US postal code customers live at."""

    postal_code: str
    city: str
    region: str


@dataclass(frozen=True)
class DemoNetwork:
    """Everything the demo loads; `on_hand(node, sku)` reads the initial stock."""

    nodes: list[Node]
    skus: list[DemoSku]
    inventory: list[StockRow]
    ship_to: list[ShipToLocation]
    _stock: dict[tuple[str, str], int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_stock", {(r.node_id, r.sku): r.on_hand for r in self.inventory})

    def on_hand(self, node_id: str, sku: str) -> int:
        return self._stock.get((node_id, sku), 0)

    def sku(self, sku: str) -> DemoSku:
        for item in self.skus:
            if item.sku == sku:
                return item
        raise KeyError(sku)

    def nodes_stocking(self, sku: str) -> set[str]:
        return {r.node_id for r in self.inventory if r.sku == sku and r.on_hand > 0}

    def network_on_hand(self, sku: str) -> int:
        return sum(r.on_hand for r in self.inventory if r.sku == sku)


def default_data_dir() -> Traversable:
    return resources.files("omniroute.demo") / "data"


def load_network(data_dir: Path | Traversable | None = None) -> DemoNetwork:
    """Read and check the four data files. Raises DemoDataError naming the file and row."""
    base = data_dir if data_dir is not None else default_data_dir()
    nodes = _load_nodes(base / "nodes.json")
    skus = [
        DemoSku(sku=row["sku"], name=row["name"], weight_oz=_int(row, "weight_oz", where),
                price_cents=_int(row, "price_cents", where))
        for where, row in _csv_rows(base / "skus.csv", ("sku", "name", "weight_oz", "price_cents"))
    ]
    inventory = [
        StockRow(node_id=row["node_id"], sku=row["sku"], on_hand=_int(row, "on_hand", where))
        for where, row in _csv_rows(base / "inventory.csv", ("node_id", "sku", "on_hand"))
    ]
    ship_to = [
        ShipToLocation(postal_code=row["postal_code"], city=row["city"], region=row["region"])
        for _, row in _csv_rows(base / "customers.csv", ("postal_code", "city", "region"))
    ]
    network = DemoNetwork(nodes=nodes, skus=skus, inventory=inventory, ship_to=ship_to)
    _check_references(network)
    return network


def _load_nodes(path: Path | Traversable) -> list[Node]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise DemoDataError(f"{path.name}: expected a JSON list of nodes")
    nodes: list[Node] = []
    for index, item in enumerate(raw):
        try:
            nodes.append(Node.model_validate(item))
        except ValidationError as exc:
            raise DemoDataError(f"{path.name}[{index}]: {exc}") from exc
    return nodes


def _csv_rows(path: Path | Traversable, columns: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    reader = csv.DictReader(path.read_text(encoding="utf-8").splitlines())
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise DemoDataError(f"{path.name}: missing column(s) {', '.join(missing)}")
    for line_no, row in enumerate(reader, start=2):
        where = f"{path.name} line {line_no}"
        empty = [c for c in columns if not (row.get(c) or "").strip()]
        if empty:
            raise DemoDataError(f"{where}: empty {', '.join(empty)}")
        yield where, {c: row[c].strip() for c in columns}


def _int(row: dict[str, str], column: str, where: str) -> int:
    try:
        value = int(row[column])
    except ValueError as exc:
        raise DemoDataError(f"{where}: {column} must be a whole number, got {row[column]!r}") from exc
    if value < 0:
        raise DemoDataError(f"{where}: {column} must not be negative")
    return value


def _check_references(network: DemoNetwork) -> None:
    node_ids = {n.node_id for n in network.nodes}
    sku_ids = {s.sku for s in network.skus}
    if len(node_ids) != len(network.nodes):
        raise DemoDataError("nodes.json: node ids must be unique")
    if len(sku_ids) != len(network.skus):
        raise DemoDataError("skus.csv: SKUs must be unique")
    for row in network.inventory:
        if row.node_id not in node_ids:
            raise DemoDataError(f"inventory.csv: unknown node_id {row.node_id!r}")
        if row.sku not in sku_ids:
            raise DemoDataError(f"inventory.csv: unknown sku {row.sku!r}")
