"""The simulator's cost file and the pricers that turn one simulated order into a `SourcingProblem`.

Two forms of cost file (YAML or JSON), told apart by `model`:

- `linear`: the fulfilment literature's form, `models.costs.LinearCostModel` (fixed cost per
  shipment, per unit a cost plus a cost per haversine mile), priced by
  `sourcing.pricing.price_linear_problem`; `promise_miles` (optional) says which nodes keep the
  promise: those no farther than that from the destination.
- `rate-table`: a `models.costs.CostModel` (zones, rate cards, node handling, calendars) under
  `cost_model`, an optional `catalog` (`models.catalog.Catalog`) — each inline or as the name of a
  cost-model / catalogue file (docs/cost-model.md) next to the cost file —, the order time of
  simulated day 0 (`start`) and the promised `service_level`; priced by
  `sourcing.pricing.price_problem`.

A node's per-day capacity from the nodes file caps what the problem calls `capacity_left`;
nodes with none left today are no candidates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.address import GeoPoint
from models.catalog import Catalog
from models.costs import CostModel, LinearCostModel, ServiceLevel
from models.network import Node
from models.shipment import ShipmentLine
from omniroute.simulation.inputs import InputError, SimNode, SimOrder
from sourcing.costs import KM_PER_MILE
from sourcing.geo import haversine_km
from sourcing.inputs import SourcingInput
from sourcing.pricing import price_linear_problem, price_problem
from sourcing.problem import PricedCandidate, SourcingProblem

Atp = Mapping[str, Mapping[str, int]]
PROBE_SKU = "SIM-PROBE"
DEFAULT_START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday morning


class LinearCostFile(LinearCostModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: Literal["linear"] = "linear"
    promise_miles: float | None = Field(default=None, gt=0, description="farther nodes miss the promise")

    def cost_model(self) -> LinearCostModel:
        return LinearCostModel(**self.model_dump(exclude={"model", "promise_miles"}))


class RateTableCostFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: Literal["rate-table"]
    cost_model: CostModel
    catalog: Catalog = Field(default_factory=Catalog)
    start: datetime = Field(default=DEFAULT_START, description="when the orders of simulated day 0 arrive")
    service_level: ServiceLevel | None = None


class Pricer(Protocol):
    """Prices one order against the stock and capacity a strategy still has."""

    unfilled_penalty: float

    def problem(self, order: SimOrder, atp: Atp, shipments_today: Mapping[str, int]) -> SourcingProblem: ...

    def unit_estimate(self, node_id: str, point: GeoPoint) -> float:
        """What shipping one unit alone from the node to the point costs: the look-ahead's lane cost."""
        ...


def read_cost_file(path: Path) -> LinearCostFile | RateTableCostFile:
    """The cost file; errors name the key path and the line it starts on."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except OSError as err:
        raise InputError(path, None, None, f"cannot read: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError(path, mark.line + 1 if mark else None, None, f"not YAML/JSON: {err}") from None
    if not isinstance(data, dict):
        raise InputError(path, 1, None, "must be a mapping with a `model` key (linear or rate-table)")
    kind = data.get("model", "linear")
    try:
        if kind == "linear":
            return LinearCostFile.model_validate(data)
        if kind == "rate-table":
            return RateTableCostFile.model_validate(_referenced_files(data, path, root))
    except ValidationError as err:
        first = err.errors()[0]
        loc = [str(part) for part in first["loc"]]
        raise InputError(path, _line_of(root, loc), ".".join(loc) or None,
                         str(first["msg"]).removeprefix("Value error, ")) from None
    raise InputError(path, _line_of(root, ["model"]), "model", f"must be 'linear' or 'rate-table', got {kind!r}")


def _referenced_files(data: dict[str, Any], path: Path, root: yaml.Node | None) -> dict[str, Any]:
    """`cost_model` and `catalog` may name files (relative to the cost file) in Omniroute's own formats."""
    from omniroute.files.cost_files import CostFileError, load_catalog, load_cost_model

    loaded = dict(data)
    for key, load in (("cost_model", load_cost_model), ("catalog", load_catalog)):
        if isinstance(data.get(key), str):
            try:
                loaded[key] = load(path.parent / data[key])
            except CostFileError as err:
                raise InputError(path, _line_of(root, [key]), key, str(err)) from None
    return loaded


def _line_of(node: yaml.Node | None, loc: list[str]) -> int | None:
    """The 1-based line where the value at `loc` (or its deepest existing parent) starts."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if str(key.value) == part), None)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def write_cost_file(cost: LinearCostFile, path: Path) -> None:
    """The linear cost as a YAML cost file."""
    fields = cost.model_dump(exclude_none=True)
    ordered = {"model": fields.pop("model"), **fields}
    path.write_text(yaml.safe_dump(ordered, sort_keys=False), encoding="utf-8")


def make_pricer(cost: LinearCostFile | RateTableCostFile, nodes: list[SimNode]) -> Pricer:
    if isinstance(cost, LinearCostFile):
        return LinearPricer(cost.cost_model(), nodes, promise_miles=cost.promise_miles)
    return RateTablePricer(cost, nodes)


def _lines(order: SimOrder) -> list[ShipmentLine]:
    return [ShipmentLine(line_no=n, sku=line.sku, quantity=line.quantity) for n, line in enumerate(order.lines, 1)]


def _with_capacity(
    problem: SourcingProblem, capacity: Mapping[str, int | None], shipments_today: Mapping[str, int],
    promise_km: float | None = None,
) -> SourcingProblem:
    """Cap each candidate by the nodes file's daily capacity, drop those with none left, mark the promise."""
    candidates: list[PricedCandidate] = []
    for candidate in problem.candidates:
        changes: dict[str, Any] = {}
        daily = capacity.get(candidate.node_id)
        if daily is not None:
            left = max(0, daily - shipments_today.get(candidate.node_id, 0))
            if candidate.capacity_left is not None:
                left = min(left, candidate.capacity_left)
            changes["capacity_left"] = left
        if promise_km is not None and candidate.distance_km > promise_km:
            changes["meets_promise"] = False
        if changes:
            candidate = candidate.model_copy(update=changes)
        if candidate.capacity_left != 0:
            candidates.append(candidate)
    return problem.model_copy(update={"candidates": candidates})


class LinearPricer:
    """The linear form; candidates are priced on the problem's own float cents."""

    def __init__(self, model: LinearCostModel, nodes: list[SimNode], *, promise_miles: float | None = None) -> None:
        self.model = model
        self.unfilled_penalty = model.unfilled_penalty_cents
        self._points = [(node.node_id, node.point) for node in nodes]
        self._by_id = {node.node_id: node.point for node in nodes}
        self._capacity = {node.node_id: node.capacity for node in nodes}
        self._promise_km = promise_miles * KM_PER_MILE if promise_miles is not None else None
        self._plain = all(cap is None for cap in self._capacity.values()) and promise_miles is None

    def problem(self, order: SimOrder, atp: Atp, shipments_today: Mapping[str, int]) -> SourcingProblem:
        problem = price_linear_problem(order.order_id, _lines(order), order.destination, self._points, atp, self.model)
        problem = problem.model_copy(update={"require_promise": False})
        if self._plain:
            return problem
        return _with_capacity(problem, self._capacity, shipments_today, self._promise_km)

    def unit_estimate(self, node_id: str, point: GeoPoint) -> float:
        miles = haversine_km(self._by_id[node_id], point) / KM_PER_MILE
        return self.model.fixed_per_shipment_cents + self.model.per_unit_cents + self.model.per_unit_mile_cents * miles


class RateTablePricer:
    """Rate cards, handling and calendars: simulated day d's orders arrive at `start` + d days."""

    def __init__(self, cost: RateTableCostFile, nodes: list[SimNode]) -> None:
        self.cost = cost
        self.unfilled_penalty = float(cost.cost_model.unfilled_penalty_cents)
        self._nodes = [Node(node_id=n.node_id, name=n.node_id, kind=n.kind, postal_code=n.postal_code,
                            latitude=n.point.latitude, longitude=n.point.longitude) for n in nodes]
        self._capacity = {node.node_id: node.capacity for node in nodes}
        self._estimates: dict[tuple[str, GeoPoint], float] = {}

    def problem(self, order: SimOrder, atp: Atp, shipments_today: Mapping[str, int]) -> SourcingProblem:
        problem = price_problem(SourcingInput(
            order_id=order.order_id, lines=_lines(order), destination=order.destination, nodes=self._nodes, atp=atp,
            model=self.cost.cost_model, catalog=self.cost.catalog, now=self.cost.start + timedelta(days=order.day),
            level=self.cost.service_level, shipments_today=shipments_today,
        ))
        return _with_capacity(problem, self._capacity, shipments_today)

    def unit_estimate(self, node_id: str, point: GeoPoint) -> float:
        key = (node_id, point)
        if key not in self._estimates:
            node = next(n for n in self._nodes if n.node_id == node_id)
            problem = price_problem(SourcingInput(
                order_id="estimate", lines=[ShipmentLine(line_no=1, sku=PROBE_SKU, quantity=1)], destination=point,
                nodes=[node], atp={node_id: {PROBE_SKU: 1}}, model=self.cost.cost_model, catalog=self.cost.catalog,
                now=self.cost.start,
            ))
            found = problem.candidates[0] if problem.candidates else None
            # A lane no service reaches is as good as no lane: the unfilled penalty.
            self._estimates[key] = (found.shipment_cost + found.unit_cost[PROBE_SKU] if found
                                    else self.unfilled_penalty)
        return self._estimates[key]
