"""The shape every sourcing strategy works on: one order, its priced candidates, and the answer.

A cost model (rate tables, or the linear form of the fulfilment literature) turns an order and
the network into a `SourcingProblem`: per candidate node the service it would ship with, the date
that delivers, a fixed cost per shipment and a cost per unit of each SKU, the stock it may use and
its capacity left. Strategies (the MILP, greedy baselines) only ever see this problem, so the
same strategy runs live, in simulation and in the benchmark. Costs are in minor currency units
(cents) as floats, because look-ahead shadow prices are fractional; exact plan prices are
recomputed by the cost model from the chosen assignment.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from models.shipment import ShipmentLine


class PricedCandidate(BaseModel):
    """A node that could ship part of the order, priced for this order's destination."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    service: str = Field(description="carrier service chosen for this node (cheapest that keeps the promise)")
    distance_km: float = Field(ge=0)
    delivery_date: date | None = Field(default=None, description="when a shipment from here would arrive")
    meets_promise: bool = True
    shipment_cost: float = Field(ge=0, description="fixed cost of one shipment from this node (cents)")
    unit_cost: dict[str, float] = Field(
        default_factory=dict, description="cost per unit of each SKU shipped from here (cents), incl. shadow price"
    )
    atp: dict[str, int] = Field(default_factory=dict, description="units of each SKU this node may use")
    capacity_left: int | None = Field(
        default=None, ge=0, description="shipments it can still take today; None = no limit"
    )


class SourcingProblem(BaseModel):
    """One order to source."""

    order_id: str
    lines: list[ShipmentLine]
    candidates: list[PricedCandidate]
    split_penalty: float = Field(default=0.0, ge=0, description="added per shipment beyond the first (cents)")
    unfilled_penalty: float = Field(default=100_000.0, ge=0, description="per unit nobody ships (cents)")
    max_shipments: int | None = Field(default=None, ge=1)
    ship_complete: bool = Field(default=False, description="all lines from one node or nothing")
    require_promise: bool = Field(default=True, description="candidates that miss the promise may not be used")


class Assignment(BaseModel):
    """Units of one order line sent from one node."""

    model_config = ConfigDict(frozen=True)

    line_no: int
    sku: str
    node_id: str
    quantity: int = Field(gt=0)


class Solution(BaseModel):
    """A strategy's answer: what each node ships, what nobody ships, and the model cost of it."""

    assignments: list[Assignment] = Field(default_factory=list)
    unfilled: dict[int, int] = Field(default_factory=dict, description="line_no -> units nobody ships")
    objective: float = Field(description="the problem's cost of this answer (cents), penalties included")
    method: str = Field(description="milp | greedy-fallback | nearest | single-node | ...")
    status: str = "optimal"
    solve_ms: float = 0.0

    def nodes(self) -> list[str]:
        return sorted({a.node_id for a in self.assignments})


class Strategy(Protocol):
    """Anything that answers a SourcingProblem."""

    name: str

    def solve(self, problem: SourcingProblem) -> Solution: ...


def objective_of(problem: SourcingProblem, assignments: list[Assignment], unfilled: dict[int, int]) -> float:
    """The problem's cost of an answer: shipments, units, split penalty and unfilled penalty."""
    by_node = {c.node_id: c for c in problem.candidates}
    used = {a.node_id for a in assignments}
    cost = sum(by_node[node].shipment_cost for node in used)
    cost += sum(by_node[a.node_id].unit_cost.get(a.sku, 0.0) * a.quantity for a in assignments)
    cost += problem.split_penalty * max(0, len(used) - 1)
    cost += problem.unfilled_penalty * sum(unfilled.values())
    return cost
