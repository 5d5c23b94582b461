"""Look-ahead sourcing: price each unit of stock by what it is worth to the demand still to come.

After Acimovic & Graves, "Making better fulfillment decisions on the fly in an online retail
environment" (M&SOM 17(1), 2015): solve a transportation LP of today's stock against forecast
demand per region; the dual of each node's supply row is the cost the network will pay later for
every unit used now. Adding that shadow price to the unit cost steers an order away from stock
another region will need, even when that stock is nearer or cheaper today.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import isfinite

from sourcing.optimizer import MilpStrategy, MipModel
from sourcing.problem import Solution, SourcingProblem, objective_of

# The LP is small and continuous; this only guards against a pathological input.
_LP_TIME_LIMIT_S = 10.0


def shadow_prices(
    supply: Mapping[tuple[str, str], int],
    demand: Mapping[tuple[str, str], float],
    unit_cost: Mapping[tuple[str, str], float],
    unfilled_penalty: float,
) -> dict[tuple[str, str], float]:
    """The value (cents, >= 0) of one more unit at each (node_id, sku) of `supply`.

    supply: units per (node_id, sku); demand: forecast units per (region_id, sku); unit_cost: cost of
    sending one unit from node to region, per (node_id, region_id) (a missing pair cannot ship);
    unfilled_penalty: cost per forecast unit nobody serves. The LP is

        min sum c[n,r] z[n,r,s] + unfilled_penalty * short[r,s]
        s.t. sum_r z[n,r,s] <= supply[n,s];  sum_n z[n,r,s] + short[r,s] = demand[r,s]

    and a (node, SKU)'s price is minus the dual of its supply row. When the LP is degenerate the
    dual is one of several valid prices (HiGHS's basis decides which).
    """
    _check(supply, "supply")
    _check(demand, "demand")
    _check(unit_cost, "unit_cost")
    if not (isfinite(unfilled_penalty) and unfilled_penalty >= 0):
        raise ValueError(f"unfilled_penalty must be a non-negative number, got {unfilled_penalty}")
    model = MipModel()
    routes: dict[tuple[str, str], list[int]] = {}
    served: dict[tuple[str, str], list[int]] = {}
    wanted_of: dict[str, list[tuple[str, float]]] = {}  # the LP separates by SKU: pair stock with its own SKU only
    for (region_id, sku), wanted in demand.items():
        if wanted > 0:
            wanted_of.setdefault(sku, []).append((region_id, wanted))
    for (node_id, sku), units in supply.items():
        for region_id, wanted in wanted_of.get(sku, []) if units > 0 else []:
            cost = unit_cost.get((node_id, region_id))
            if cost is not None:
                col = model.column(cost, wanted, integer=False)
                routes.setdefault((node_id, sku), []).append(col)
                served.setdefault((region_id, sku), []).append(col)
    rows = {key: model.row([(col, 1.0) for col in cols], upper=supply[key]) for key, cols in routes.items()}
    for key, wanted in demand.items():
        if wanted > 0:
            short = model.column(unfilled_penalty, wanted, integer=False)
            model.row([*((col, 1.0) for col in served.get(key, [])), (short, 1.0)], lower=wanted, upper=wanted)
    outcome = model.solve(_LP_TIME_LIMIT_S)
    if not outcome.optimal or outcome.row_duals is None:
        raise RuntimeError(f"the transportation LP did not solve: {outcome.status}")
    duals = outcome.row_duals
    return {key: max(0.0, -duals[rows[key]]) if key in rows else 0.0 for key in supply}


def sku_batches(
    supply: dict[tuple[str, str], int], demand: dict[tuple[str, str], float], max_pairs: int
) -> list[tuple[dict[tuple[str, str], int], dict[tuple[str, str], float]]]:
    """The transportation LP separates by SKU (no row holds two SKUs), so it is asked in batches of whole
    SKUs, each with at most about `max_pairs` supply x demand pairs of the same SKU: the same prices as one
    call, without one call's size growing past what HiGHS solves in a moment."""
    supply_of: dict[str, dict[tuple[str, str], int]] = {}
    for key, units in supply.items():
        supply_of.setdefault(key[1], {})[key] = units
    demand_of: dict[str, dict[tuple[str, str], float]] = {}
    for key, expected in demand.items():
        demand_of.setdefault(key[1], {})[key] = expected
    batches: list[tuple[dict[tuple[str, str], int], dict[tuple[str, str], float]]] = []
    batch_supply: dict[tuple[str, str], int] = {}
    batch_demand: dict[tuple[str, str], float] = {}
    pairs = 0
    for sku in sorted(supply_of):
        more_supply, more_demand = supply_of[sku], demand_of.get(sku, {})
        more = len(more_supply) * len(more_demand)
        if batch_supply and pairs + more > max_pairs:
            batches.append((batch_supply, batch_demand))
            batch_supply, batch_demand, pairs = {}, {}, 0
        batch_supply.update(more_supply)
        batch_demand.update(more_demand)
        pairs += more
    if batch_supply:
        batches.append((batch_supply, batch_demand))
    return batches


def with_prices(problem: SourcingProblem, prices: Mapping[tuple[str, str], float]) -> SourcingProblem:
    """The problem with each (node, SKU)'s shadow price added to its unit cost, for the order's SKUs."""
    skus = {line.sku for line in problem.lines}
    candidates = []
    for c in problem.candidates:
        raised = {sku: c.unit_cost.get(sku, 0.0) + prices[(c.node_id, sku)]
                  for sku in skus if (c.node_id, sku) in prices}
        candidates.append(c.model_copy(update={"unit_cost": {**c.unit_cost, **raised}}) if raised else c)
    return problem.model_copy(update={"candidates": candidates})


class LookAheadStrategy:
    """The MILP on unit costs raised by shadow prices; the reported objective is the order's real cost.

    The prices only steer the choice: the Solution's objective is `objective_of` the original
    problem, so look-ahead and myopic strategies compare on what the order itself costs.

    `price_weight` multiplies every price before it is added (1: the LP's duals as they are). The LP
    prices a unit by the lane costs it saves later, but sees each SKU alone: a unit taken from a node
    that holds much of the assortment also costs later orders the chance to ship whole from there, a
    cost of whole shipments that no per-SKU dual carries. A weight above 1 stands in for it.
    """

    name = "look-ahead"

    def __init__(self, base: MilpStrategy | None = None, *, price_weight: float = 1.0) -> None:
        if not (isfinite(price_weight) and price_weight >= 0):
            raise ValueError(f"price_weight must be a non-negative number, got {price_weight}")
        self.base = base or MilpStrategy()
        self.price_weight = price_weight
        self.prices: dict[tuple[str, str], float] = {}

    def set_prices(self, prices: Mapping[tuple[str, str], float]) -> None:
        """Use these (node_id, sku) prices, times `price_weight`, from now on (e.g. from `shadow_prices`,
        refreshed as stock moves)."""
        _check(prices, "prices")
        self.prices = {key: price * self.price_weight for key, price in prices.items()}

    def solve(self, problem: SourcingProblem) -> Solution:
        chosen = self.base.solve(with_prices(problem, self.prices))
        method = "look-ahead" if chosen.method == "milp" else chosen.method
        return chosen.model_copy(update={
            "objective": objective_of(problem, chosen.assignments, chosen.unfilled),
            "method": method,
        })


def _check(values: Mapping[tuple[str, str], float], name: str) -> None:
    for key, value in values.items():
        if not (isfinite(value) and value >= 0):
            raise ValueError(f"{name}[{key!r}] must be a non-negative number, got {value}")
