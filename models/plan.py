"""The output of sourcing: which node ships which quantities, and what nobody can fill."""

from __future__ import annotations

from pydantic import BaseModel, Field

from models.shipment import ShipmentLine


class PlannedShipment(BaseModel):
    node_id: str
    lines: list[ShipmentLine]
    distance_km: float = Field(ge=0)


class UnfillableLine(BaseModel):
    line_no: int
    sku: str
    quantity: int
    reason: str


class FulfillmentPlan(BaseModel):
    shipments: list[PlannedShipment] = Field(default_factory=list)
    unfillable: list[UnfillableLine] = Field(default_factory=list)
    strategy: str = "nearest"
    explanation: list[str] = Field(default_factory=list)

    @property
    def is_split(self) -> bool:
        return len(self.shipments) > 1
