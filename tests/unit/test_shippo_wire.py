"""Reading Shippo's JSON: DRF error bodies into a message and a field, both shapes of a transaction's
rate, and the amounts in cents."""

from __future__ import annotations

import httpx
import pytest

from integrations.carriers.shippo_wire import (
    TransactionStatus,
    parse_error,
    parse_rate,
    parse_transaction,
)
from integrations.http import PermanentProviderError


def _error(status: int, body: object) -> tuple[str, str | None]:
    detail = parse_error(httpx.Response(status, json=body))
    return detail.message, detail.field


@pytest.mark.parametrize(("body", "message", "field"), [
    ({"detail": "Invalid token."}, "Invalid token.", None),
    ({"rate": ["Rate with object_id x does not exist."]}, "rate: Rate with object_id x does not exist.", "rate"),
    ({"address_to": {"zip": ["This field is required."]}}, "address_to.zip: This field is required.", "address_to.zip"),
    ({"parcels": [{"weight": ["A number greater than 0 is required."]}]},
     "parcels.0.weight: A number greater than 0 is required.", "parcels.0.weight"),
    ({"non_field_errors": ["Addresses must differ."]}, "Addresses must differ.", None),
    (["Something went wrong."], "Something went wrong.", None),
])
def test_drf_errors_give_the_message_and_the_dotted_field(body: object, message: str, field: str | None) -> None:
    assert _error(400, body) == (message, field)


def test_an_error_body_with_nothing_to_say_falls_back_to_the_reason() -> None:
    assert _error(500, {}) == ("Internal Server Error", None)


def test_a_transaction_rate_may_be_an_id_or_a_short_rate_object() -> None:
    base = {"object_id": "t1", "status": "SUCCESS", "tracking_number": "940011", "label_file_type": "ZPLII",
            "metadata": "order-1"}
    by_id = parse_transaction({**base, "rate": "r1"})
    by_object = parse_transaction({**base, "rate": {"object_id": "r1", "amount": "7.60"}})
    assert by_id == by_object
    assert (by_id.rate_id, by_id.status, by_id.label_format, by_id.reference) == ("r1", TransactionStatus.SUCCESS,
                                                                                  "ZPL", "order-1")


def test_an_unreadable_transaction_is_a_permanent_error() -> None:
    with pytest.raises(PermanentProviderError, match="unreadable transaction"):
        parse_transaction({"object_id": "t1", "status": "LOST_IN_SPACE"})


def test_rates_are_exact_cents() -> None:
    rate = parse_rate({"object_id": "r1", "provider": "UPS", "amount": "12.05", "currency": "USD",
                       "servicelevel": {"token": "ups_ground", "name": "Ground"}, "estimated_days": 3})
    assert (rate.rate_minor, rate.carrier, rate.service, rate.delivery_days) == (1205, "UPS", "ups_ground", 3)
    with pytest.raises(ValueError):
        parse_rate({"object_id": "r2", "provider": "UPS", "amount": "1.005", "servicelevel": {"token": "x"}})
