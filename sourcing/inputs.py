"""The one input of each sourcing decision: an order (or a cart) and everything it is decided with.

`price_problem` and `promise` read a `SourcingInput`; `decide` reads a `DecisionInput`, which adds how
to solve and the order's rules. Both are frozen: a caller builds one per decision, and a variant (say,
the order at a faster service level) is a `dataclasses.replace` of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from models.address import GeoPoint
from models.catalog import Catalog
from models.costs import CostModel, ServiceLevel
from models.network import Node
from models.rules import RuleOutcome
from models.shipment import ShipmentLine
from sourcing.problem import Strategy

# ATP per node id, then per SKU.
Atp = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, kw_only=True)
class SourcingInput:
    """What to source (`lines` to `destination`) from which `nodes` holding which `atp`, priced by
    `model` and `catalog` as of `now`.

    `order_id` names the problem (empty for a cart being promised). `level` and `deliver_by` are the
    promise to keep; `shadow_prices[(node_id, sku)]` adds the look-ahead's cents per unit;
    `shipments_today[node_id]` counts the orders a node already took against its daily capacity.
    """

    lines: Sequence[ShipmentLine]
    destination: GeoPoint
    nodes: Sequence[Node]
    atp: Atp
    model: CostModel
    catalog: Catalog
    now: datetime
    order_id: str = ""
    level: ServiceLevel | None = None
    deliver_by: date | None = None
    shadow_prices: Mapping[tuple[str, str], float] | None = None
    shipments_today: Mapping[str, int] | None = None


@dataclass(frozen=True, kw_only=True)
class DecisionInput:
    """One live decision: the order to source, the `strategy` that solves it, the order's rule
    `outcome` (None: no rules), the network's tags per node id for the rules' selectors, and how many
    runners-up to explain."""

    order: SourcingInput
    strategy: Strategy
    outcome: RuleOutcome | None = None
    node_tags: Mapping[str, Sequence[str]] | None = None
    alternatives: int = 3
