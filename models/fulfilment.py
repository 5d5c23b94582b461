"""The fulfilment of one shipment: what the order hands it, what it reports back, how it ends.

Every node kind has its own protocol (a DC's label and WMS events today; a 3PL's order API, a
dropship vendor's purchase order, a store's accept-and-pick with SLAs next), and each runs as a
workflow of its own under `names.fulfilment_workflow_id(shipment_id)`. The order knows only this
contract: it starts a fulfilment with `FulfilShipment`, hears `FulfilmentProgress` as the shipment
moves, may send `CancelFulfilment`, and acts on the `FulfilmentOutcome` it ends with.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from models.address import Address
from models.costs import ServiceLevel
from models.order import Customer
from models.plan import PlannedShipment
from models.shipment import Label, ShipmentEventType, ShipmentLine, ShipmentState, ShipmentView


class FulfilShipment(BaseModel):
    """Start fulfilling one planned, reserved shipment (the order's child workflow input)."""

    order_id: str
    order_workflow_id: str = Field(description="where progress is reported")
    shipment: ShipmentView
    reservation_keys: dict[str, str] = Field(description="sku -> reservation key, made by the order")
    planned: PlannedShipment | None = Field(default=None, description="what sourcing priced: carrier, weight")
    ship_to: Address
    service_level: ServiceLevel
    customer: Customer
    currency: str
    pickup: bool = Field(default=False, description="the customer collects it at the node (BOPIS)")
    curbside: bool = Field(default=False, description="collected at the curb: the customer says when they arrive")


class FulfilmentProgress(BaseModel):
    """Sent to the order each time the shipment's view changes (label bought, picked, shipped...)."""

    shipment: ShipmentView
    note: str = Field(description="what happened, for the order's event list")
    handed_back: list[ShipmentLine] = Field(default_factory=list, description=(
        "lines the node gave back while the shipment goes on without them (a short pick): the order "
        "plans them again, never from this node"))
    reason: str | None = Field(default=None, description="why they were handed back")


class CancelFulfilment(BaseModel):
    """Asked by the order: stop the shipment, or drop some of its SKUs, if it has not left the node."""

    skus: list[str] | None = Field(default=None, description="the SKUs to drop; None cancels the whole shipment")
    reason: str


class CancelAnswer(StrEnum):
    """A node's answer when asked to cancel a shipment it has (a WMS by webhook, a dropship vendor's PO
    cancel): it cancelled, it refused because it has shipped, or it answers later (a `cancelled`
    event, or it ships)."""

    CANCELLED = "cancelled"
    REFUSED = "refused"
    LATER = "later"

    @classmethod
    def _missing_(cls, value: object) -> CancelAnswer | None:
        """A dropship PO cancel's answer as recorded before the answers were one (running histories)."""
        return {"refused_shipped": cls.REFUSED, "pending": cls.LATER}.get(str(value))

    @property
    def decision(self) -> bool | None:
        """True it cancelled, False it refused, None it answers later: what the fulfilment acts on."""
        return {CancelAnswer.CANCELLED: True, CancelAnswer.REFUSED: False}.get(self)


class OutcomeKind(StrEnum):
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    HANDED_BACK = "handed_back"


class FulfilmentOutcome(BaseModel):
    """How a fulfilment ended. `handed_back` lines go back to the order for re-sourcing, never from the
    same node (the node rejected them, timed out or short-picked). A fulfilment that cannot go on
    undoes its own steps and fails instead (the order then fails)."""

    kind: OutcomeKind
    shipment: ShipmentView
    label: Label | None = None
    handed_back: list[ShipmentLine] = Field(default_factory=list)
    reason: str | None = None
    seen_event_ids: list[str] = Field(default_factory=list, description="the node's event ids it applied")
    resource: list[ShipmentLine] = Field(default_factory=list, description=(
        "cancelled: the lines that were not to be cancelled, when the order cancelled some lines of a "
        "shipment whose node could cancel only the whole of it; the order plans them again (that node may "
        "be chosen again)"))
    carrier_scanned_first: bool = Field(default=False, description=(
        "the carrier scanned the shipment before its node reported it shipped (`shipped` was recorded from "
        "the scan)"))


class ShipmentEventApplied(BaseModel):
    """The answer to a node's shipment event: the move it made, or `replay` when nothing moved: the
    event id was seen before, or (`carrier_first`) the carrier's scan already did what it reports."""

    shipment_id: str
    order_id: str
    type: ShipmentEventType
    from_state: ShipmentState
    to_state: ShipmentState
    replay: bool = False
    carrier_first: bool = Field(default=False, description=(
        "the node's accepted/picked/packed/shipped came after the carrier had scanned the shipment: it "
        "counts as done (`replay`, nothing moved)"))


class UnlockPickup(BaseModel):
    """An operator lets the customer try pickup codes again after too many wrong ones."""

    actor: str = Field(min_length=1, max_length=200, description="who unlocked it (the gateway: the key's id)")
    reason: str = Field(default="unlocked by an operator", min_length=1, max_length=500)


class UnlockPickupIn(BaseModel):
    """The body of `POST /v1/orders/{order_id}/shipments/{shipment_id}/unlock-pickup`."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="unlocked by an operator", min_length=1, max_length=500)


class PickupUnlocked(BaseModel):
    shipment_id: str
    order_id: str
    wrong_codes: int = Field(description="the wrong codes tried before the unlock (the count starts again)")
    state: ShipmentState


# The ApplicationError type a refused shipment or return event carries; its first detail is the
# current state (a ShipmentState or ReturnStatus value), so a caller can name it.
EVENT_REFUSED = "EventRefused"
