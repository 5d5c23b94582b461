"""Carrier activities: rate, buy and void labels through the carrier aggregator (EasyPost wire format)."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import INVALID_DATA, classified_errors
from integrations.carriers.easypost import EasyPostClient, Parcel
from models.commands import BuyLabel, Direction, RateShipment, ShipmentRated, VoidLabel
from models.money import Money
from models.shipment import Label
from sourcing.geo import node_address
from sourcing.rates import choose_rate
from store.ports import NetworkReader

# Until SKUs carry dimensions (sourcing issue), every unit is a 1 lb, 10x8x4 in item.
OUNCES_PER_UNIT = 16.0


class CarrierActivities:
    def __init__(self, carrier: EasyPostClient, network: NetworkReader) -> None:
        self._carrier = carrier
        self._network = network

    @activity.defn
    def rate_shipment(self, request: RateShipment) -> ShipmentRated:
        """Create the carrier shipment and pick the rate to buy (`sourcing.rates.choose_rate`): the
        service sourcing priced when the carrier offers it, else the cheapest that meets the level.

        Creating an unbought carrier shipment has no effect outside, so a retry may create another;
        only `buy_label` must happen once. Raises ApplicationError InvalidData (unknown node) or
        ProviderRejected (the carrier refused the addresses), both non-retryable.
        """
        with classified_errors():
            node = self._network.get_node(request.node_id)
            if node is None:
                raise ApplicationError(f"unknown node {request.node_id}", type=INVALID_DATA, non_retryable=True)
            warehouse = node_address(node)
            # A return label keeps the outbound addresses; EasyPost's is_return flips the direction.
            shipment = self._carrier.create_shipment(
                from_address=warehouse,
                to_address=request.customer,
                parcel=Parcel(length=10, width=8, height=4,
                              weight=request.weight_oz or OUNCES_PER_UNIT * request.units),
                reference=request.reference,
                is_return=request.direction is Direction.RETURN,
            )
        preferred = (request.carrier, request.carrier_service) if request.carrier else None
        rate = choose_rate(shipment.rates, request.service_level, preferred=preferred)
        if rate is None:
            raise ApplicationError(f"the carrier offered no rates for {request.reference}",
                                   type="NoRates", non_retryable=True)
        return ShipmentRated(
            carrier_shipment_id=shipment.id, rate_id=rate.id, carrier=rate.carrier, service=rate.service,
            cost=Money(amount=rate.rate_minor, currency=rate.currency), delivery_days=rate.delivery_days,
        )

    @activity.defn
    def buy_label(self, request: BuyLabel) -> Label:
        """Buy the chosen rate. Exactly once per carrier shipment: a retry after a lost response finds
        the label already bought (SHIPMENT.POSTAGE.EXISTS) and returns it."""
        with classified_errors():
            shipment = self._carrier.buy(request.carrier_shipment_id, request.rate_id)
        selected = shipment.selected_rate
        if selected is None or shipment.tracking_code is None:
            raise ApplicationError(f"carrier returned no label for {request.reference}", type="NoLabel")
        return Label(
            carrier=selected.carrier, service=selected.service, tracking_number=shipment.tracking_code,
            label_url=shipment.label_url, label_format=shipment.label_format,
            cost=Money(amount=selected.rate_minor, currency=selected.currency),
            carrier_shipment_id=shipment.id,
        )

    @activity.defn
    def void_label(self, request: VoidLabel) -> None:
        """Ask the carrier to refund an unused label (compensation). Idempotent at the carrier."""
        with classified_errors():
            self._carrier.refund(request.carrier_shipment_id)

