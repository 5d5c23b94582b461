"""The output of sourcing: which node ships which quantities, what nobody can fill, and why."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from models.shipment import ShipmentLine


class PlannedShipment(BaseModel):
    node_id: str
    lines: list[ShipmentLine]
    distance_km: float = Field(ge=0)
    service: str | None = Field(default=None, description="the carrier service the plan priced it with")
    delivery_date: date | None = None
    carrier: str | None = Field(default=None, description="the priced service's carrier code, e.g. UPS")
    carrier_service: str | None = Field(default=None, description="the carrier's own service code, e.g. Ground")
    weight_lb: float | None = Field(default=None, ge=0, description="actual weight of the contents")
    node_kind: str | None = Field(default=None, description=(
        "the node's kind (NodeKind value), which chooses its fulfilment protocol; None in plans made "
        "before plans named it: a DC"))


class UnfillableLine(BaseModel):
    line_no: int
    sku: str
    quantity: int
    reason: str


class CostPart(BaseModel):
    """One term of a shipment's exact cost."""

    label: str
    cents: int


class ShipmentCost(BaseModel):
    """The exact price of one planned shipment; `parts` add up to `total_cents`."""

    node_id: str
    service: str
    zone: int
    billable_weight_lb: int
    ship_date: date
    delivery_date: date
    parts: list[CostPart]
    total_cents: int


class RunnerUpPlan(BaseModel):
    """A plan that lost, what it would have cost in the model, and why it lost."""

    label: str
    nodes: list[str]
    model_cost_cents: float
    reason: str


class SourcingDecision(BaseModel):
    """Everything an operator needs to see why the order went where it went."""

    strategy: str
    method: str = Field(description="how the answer was found: milp, greedy-fallback, fast-path, nearest, ...")
    status: str = ""
    solve_ms: float = 0.0
    currency: str = "USD"
    total_cents: int = Field(default=0, description="exact: shipments' costs plus the split penalty")
    split_penalty_cents: int = 0
    model_cost_cents: float = Field(default=0.0, description="the optimiser's objective, penalties included")
    shipments: list[ShipmentCost] = Field(default_factory=list)
    runners_up: list[RunnerUpPlan] = Field(default_factory=list)
    rules_fired: list[str] = Field(default_factory=list)
    service_level: str | None = None
    deliver_by: date | None = None
    promise_kept: bool = True
    candidates: int = Field(default=0, description="nodes priced for this order (before pruning)")
    cost_model_version: int | None = None
    rules_version: int | None = None
    look_ahead_cents: float = Field(default=0.0, description="weighted shadow price of the stock the plan uses: "
                                    "what it costs orders still to come (not part of total_cents)")
    shadow_prices_version: int | None = Field(default=None, description="the look-ahead prices planned with")
    amendments: list[str] = Field(default_factory=list, description="changes made to the plan after it was "
                                  "decided (an operator's reroute), oldest first")


class FulfillmentPlan(BaseModel):
    shipments: list[PlannedShipment] = Field(default_factory=list)
    unfillable: list[UnfillableLine] = Field(default_factory=list)
    strategy: str = "nearest"
    explanation: list[str] = Field(default_factory=list)
    decision: SourcingDecision | None = None

    @property
    def is_split(self) -> bool:
        return len(self.shipments) > 1
