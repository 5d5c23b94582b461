"""Every notification kind renders in every language we have templates for, with no template missing and no
variable undefined (the renderer's StrictUndefined raises); money and dates come out in the customer's
locale; HTML is escaped, text is not; a locale we have no templates for falls back to English, saying so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.notify.render import languages, render, template_language
from models.money import Money
from models.notify import Notification, NotificationKind

# The facts each kind is sent with, as the workflows build them.
FACTS: dict[NotificationKind, dict[str, str]] = {
    NotificationKind.ORDER_CONFIRMED: {"shipments": "2", "backorder": "in part"},
    NotificationKind.LINES_CANCELLED: {"lines": "1, 3", "reason": "out of stock"},
    NotificationKind.BACKORDERED: {"lines": "2", "reason": "backorder"},
    NotificationKind.SHIPPED: {"tracking_number": "EZ100", "carrier": "USPS", "shipment": "web-1-S1"},
    NotificationKind.DELIVERED: {"shipment": "web-1-S1"},
    NotificationKind.ORDER_CANCELLED: {"reason": "customer asked"},
    NotificationKind.ORDER_FAILED: {"reason": "payment declined"},
    NotificationKind.RETURN_LABEL: {"tracking_number": "EZ200", "label_url": "https://labels.example/1.pdf",
                                    "ship_to_node": "dc-east"},
    NotificationKind.RETURN_REJECTED: {"reason": "outside the return window"},
    NotificationKind.REFUND_ISSUED: {},
    NotificationKind.DELIVERY_EXCEPTION: {"shipment": "web-1-S1", "exception": "address issue",
                                          "tracking_number": "EZ100", "carrier": "USPS"},
    NotificationKind.CANCEL_REFUSED: {"lines": "1", "shipments": "web-1-S1", "return": "it can be returned"},
    NotificationKind.READY_FOR_PICKUP: {"shipment": "web-1-S1", "store": "Brooklyn", "pickup_code": "493817"},
    NotificationKind.PICKUP_EXPIRED: {"shipment": "web-1-S1", "store": "Brooklyn", "reason": "not collected"},
    NotificationKind.CURBSIDE_ARRIVAL: {"shipment": "web-1-S1", "spot": "7"},
    NotificationKind.PICKUP_LOCKED: {"shipment": "web-1-S1", "what to do": "contact the store"},
    NotificationKind.PICKUP_SHIPPED_INSTEAD: {"shipments": "1", "re-sourced": "store closed", "units": "2"},
}
COLLECT_BY = datetime(2026, 12, 24, 17, 30, tzinfo=UTC)


def note(kind: NotificationKind, locale: str = "en", **changes: object) -> Notification:
    values: dict[str, object] = {"kind": kind, "to_email": "ada@example.com", "to_name": "Ada", "reference": "web-1",
                                 "facts": FACTS[kind], "locale": locale}
    if kind is NotificationKind.REFUND_ISSUED:
        values["amounts"] = {"refund": Money(amount=123456, currency="EUR")}
    if kind is NotificationKind.READY_FOR_PICKUP:
        values["dates"] = {"collect_by": COLLECT_BY}
    return Notification.model_validate({**values, **changes})


def test_there_are_templates_in_english_and_french() -> None:
    assert {"en", "fr"} <= set(languages())
    assert set(FACTS) == set(NotificationKind), "every kind has sample facts here"


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_renders_in_every_language(kind: NotificationKind, language: str) -> None:
    rendered = render(note(kind, language))

    assert rendered.language == language and not rendered.fell_back
    assert "web-1" in rendered.subject and "\n" not in rendered.subject
    assert "Ada" in rendered.text and "Ada" in rendered.html
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>") and f'<html lang="{language}">' in rendered.html
    assert "web-1" in rendered.sms and len(rendered.sms) <= 160, "one SMS segment"
    for value in FACTS[kind].values():
        assert value in rendered.text


def test_the_two_languages_say_different_things() -> None:
    english, french = render(note(NotificationKind.SHIPPED, "en")), render(note(NotificationKind.SHIPPED, "fr"))

    assert english.subject == "Your order web-1 has shipped"
    assert french.subject == "Votre commande web-1 a été expédiée"
    assert "Suivi : EZ100" in french.sms and "Tracking: EZ100" in english.sms


def test_money_is_formatted_for_the_locale_and_currency() -> None:
    refund = NotificationKind.REFUND_ISSUED
    english, french = render(note(refund, "en")), render(note(refund, "fr"))
    yen = render(note(refund, "en", amounts={"refund": Money(amount=1500, currency="JPY")}))

    assert "€1,234.56" in english.text and "€1,234.56" in english.sms
    assert "1\u202f234,56\xa0€" in french.text, "French groups with a narrow no-break space, comma decimals"
    assert "¥1,500" in yen.text, "JPY has no minor unit: 1500 minor units are 1500 yen"


def test_dates_are_formatted_for_the_locale() -> None:
    english = render(note(NotificationKind.READY_FOR_PICKUP, "en"))
    french = render(note(NotificationKind.READY_FOR_PICKUP, "fr"))

    assert "December 24, 2026" in english.text and "5:30:00\u202fPM UTC" in english.text
    assert "24 décembre 2026" in french.text and "17:30:00 TU" in french.text, "CLDR calls UTC « TU » in French"


def test_a_regional_locale_uses_its_language_and_its_region_for_money() -> None:
    rendered = render(note(NotificationKind.REFUND_ISSUED, "fr-CA"))

    assert (rendered.language, rendered.fell_back) == ("fr", False)
    assert "1\xa0234,56\xa0€" in rendered.text, "fr_CA groups with a no-break space"


def test_an_unknown_locale_falls_back_to_english_and_says_so() -> None:
    rendered = render(note(NotificationKind.SHIPPED, "ja"))

    assert (rendered.language, rendered.fell_back) == ("en", True)
    assert rendered.subject == "Your order web-1 has shipped"
    assert template_language("de-AT") == ("en", True)


def test_html_escapes_what_the_customer_and_the_facts_say_and_text_does_not() -> None:
    rendered = render(note(NotificationKind.ORDER_FAILED, "en", to_name="<script>alert(1)</script>",
                           facts={"reason": "a & b <i>"}))

    assert "<script>" not in rendered.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "a &amp; b &lt;i&gt;" in rendered.html
    assert "Hello <script>alert(1)</script>," in rendered.text and "reason: a & b <i>" in rendered.text


def test_only_an_https_label_link_is_a_link() -> None:
    safe = render(note(NotificationKind.RETURN_LABEL))
    unsafe = render(note(NotificationKind.RETURN_LABEL,
                         facts={**FACTS[NotificationKind.RETURN_LABEL], "label_url": "javascript:alert(1)"}))

    assert '<a href="https://labels.example/1.pdf">' in safe.html
    assert "<a href" not in unsafe.html
