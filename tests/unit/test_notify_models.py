"""The customer's and the notification's new optional fields: defaults that keep old payloads parsing,
validation that names the field, and the deterministic message key workflows make."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from models.money import Money
from models.notify import Notification, NotificationKind, notification_key
from models.order import Customer


def test_a_customer_recorded_before_sms_and_locale_still_parses_with_defaults() -> None:
    customer = Customer.model_validate({"email": "ada@example.com", "name": "Ada"})

    assert (customer.phone, customer.sms, customer.locale) == (None, False, "en")


@pytest.mark.parametrize(("field", "value"), [("phone", "555-0100"), ("phone", "+0441234567"),
                                              ("locale", "French"), ("locale", "fr-")])
def test_a_bad_phone_or_locale_is_refused_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Customer.model_validate({"email": "ada@example.com", "name": "Ada", field: value})

    assert refused.value.errors()[0]["loc"] == (field,)


def test_sms_consent_needs_a_phone_and_says_so() -> None:
    with pytest.raises(ValidationError, match="phone is required when sms is true"):
        Customer.model_validate({"email": "ada@example.com", "name": "Ada", "sms": True})
    with pytest.raises(ValidationError, match="to_phone is required when sms is true"):
        Notification(kind=NotificationKind.SHIPPED, to_email="a@example.com", to_name="A", reference="o-1", sms=True)

    customer = Customer(email="ada@example.com", name="Ada", phone="+14155550123", sms=True, locale="fr-CA")
    assert customer.phone == "+14155550123"


def test_a_notification_from_an_old_history_parses() -> None:
    old = {"kind": "shipped", "to_email": "a@example.com", "to_name": "A", "reference": "o-1",
           "facts": {"shipment": "o-1-S1"}}

    parsed = Notification.model_validate(old)

    assert (parsed.locale, parsed.to_phone, parsed.sms, parsed.idempotency_key) == ("en", None, False, None)


def base(**changes: object) -> Notification:
    values: dict[str, object] = {"kind": NotificationKind.SHIPPED, "to_email": "a@example.com", "to_name": "A",
                                 "reference": "o-1", "facts": {"shipment": "o-1-S1", "tracking_number": "EZ1"}}
    return Notification.model_validate({**values, **changes})


def test_the_message_key_is_the_workflow_the_kind_and_the_shipment_and_is_stable() -> None:
    key = notification_key("order-web-1", base())

    assert key.startswith("order-web-1/shipped/o-1-S1/")
    assert key == notification_key("order-web-1", base()), "the same message, the same key, on every replay"


def test_different_messages_get_different_keys() -> None:
    first = notification_key("order-web-1", base())

    assert notification_key("order-web-2", base()) != first
    assert notification_key("order-web-1", base(kind=NotificationKind.DELIVERED)) != first
    assert notification_key("order-web-1", base(facts={"shipment": "o-1-S2", "tracking_number": "EZ1"})) != first
    assert notification_key("order-web-1", base(to_email="b@example.com")) != first
    assert notification_key("order-web-1", base(amounts={"refund": Money(amount=1, currency="USD")})) != first
    assert notification_key("order-web-1", base(dates={"by": datetime(2026, 1, 1, tzinfo=UTC)})) != first
    assert notification_key("order-web-1", base(to_email="A@Example.com ")) == first, "one address however written"


def test_a_very_long_key_still_fits_the_ledger() -> None:
    assert len(notification_key("w" * 400, base())) == 200
