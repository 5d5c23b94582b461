"""Which carrier rate a shipment's label is bought at."""

from __future__ import annotations

from integrations.carriers.easypost import EasyPostRate
from models.costs import ServiceLevel
from sourcing.rates import choose_rate


def rate(carrier: str, service: str, cents: int, days: int) -> EasyPostRate:
    return EasyPostRate(id=f"{carrier}-{service}", carrier=carrier, service=service, rate_minor=cents,
                        currency="USD", delivery_days=days)


RATES = [rate("USPS", "GroundAdvantage", 800, 4), rate("UPS", "Ground", 950, 3), rate("UPS", "2ndDayAir", 2100, 2),
         rate("FedEx", "FEDEX_2_DAY", 2000, 2)]


def test_without_a_priced_service_the_cheapest_rate_in_time_wins() -> None:
    assert choose_rate(RATES, ServiceLevel.STANDARD) == RATES[0]
    assert choose_rate(RATES, ServiceLevel.TWO_DAY) == RATES[3]


def test_the_service_sourcing_priced_is_bought_when_the_carrier_offers_it() -> None:
    assert choose_rate(RATES, ServiceLevel.STANDARD, preferred=("UPS", "Ground")) == RATES[1]
    assert choose_rate(RATES, ServiceLevel.TWO_DAY, preferred=("ups", "2ndDayAir")) == RATES[2]


def test_a_priced_service_the_carrier_does_not_offer_falls_back_to_the_level() -> None:
    assert choose_rate(RATES, ServiceLevel.TWO_DAY, preferred=("UPS", "NextDayAir")) == RATES[3]
    assert choose_rate([], ServiceLevel.STANDARD, preferred=("UPS", "Ground")) is None
