"""Messages to customers: what one is about, who gets it (e-mail always, SMS when they asked), in which
language, and the key that makes each one go out once."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, model_validator

from models.money import Money

DEFAULT_LOCALE = "en"
# A language, optionally with a region: `en`, `fr`, `fr-CA`, `de_AT`. Whether we have templates for it is
# the renderer's question (an unknown one falls back to English); this is only its shape.
_LOCALE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z]{2}|[-_][0-9]{3})?$")
# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise ValueError("must be a language tag such as 'en', 'fr' or 'fr-CA'")
    return value


def _e164(value: str) -> str:
    if not _E164.match(value):
        raise ValueError("must be an E.164 phone number: '+', the country code and the number, digits only "
                         "(e.g. +14155550123)")
    return value


Locale = Annotated[str, AfterValidator(_locale)]
PhoneNumber = Annotated[str, AfterValidator(_e164)]


class NotificationKind(StrEnum):
    ORDER_CONFIRMED = "order_confirmed"
    LINES_CANCELLED = "lines_cancelled"
    BACKORDERED = "backordered"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_FAILED = "order_failed"
    RETURN_LABEL = "return_label"
    RETURN_REJECTED = "return_rejected"
    REFUND_ISSUED = "refund_issued"
    DELIVERY_EXCEPTION = "delivery_exception"
    CANCEL_REFUSED = "cancel_refused"
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKUP_EXPIRED = "pickup_expired"
    CURBSIDE_ARRIVAL = "curbside_arrival"
    PICKUP_LOCKED = "pickup_locked"
    PICKUP_SHIPPED_INSTEAD = "pickup_shipped_instead"


class MessageChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Notification(BaseModel):
    """One message; `facts` fill the template (tracking number, lines), `amounts` and `dates` are shown in
    the customer's locale. Every field added since the first version has a default, so notifications in
    recorded workflow histories still parse."""

    kind: NotificationKind
    to_email: str
    to_name: str
    reference: str = Field(description="order id or RMA the message is about")
    facts: dict[str, str] = Field(default_factory=dict)
    amounts: dict[str, Money] = Field(default_factory=dict, description="money to show, e.g. the refund")
    dates: dict[str, datetime] = Field(default_factory=dict, description="moments to show, e.g. collect by")
    locale: Locale = Field(default=DEFAULT_LOCALE, description="the customer's language, e.g. 'en', 'fr'")
    to_phone: PhoneNumber | None = Field(default=None, description="E.164 number for the SMS")
    sms: bool = Field(default=False, description="the customer asked for SMS as well as e-mail")
    idempotency_key: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="the same key is the same message, sent once per channel (see notification_key)")

    @model_validator(mode="after")
    def _sms_needs_a_phone(self) -> Notification:
        if self.sms and self.to_phone is None:
            raise ValueError("to_phone is required when sms is true")
        return self


def notification_key(workflow_id: str, notification: Notification) -> str:
    """A deterministic key for a message a workflow sends: its workflow id, the kind, what it is about (the
    shipment when the facts name one, else the reference) and a digest of the recipient and facts, so two different
    messages of one kind (two lines cancelled at different times) differ and a repeat of the same one
    does not. Pure: workflows call it."""
    about = notification.facts.get("shipment") or notification.reference
    content = f"to={notification.to_email.strip().lower()}\n"
    content += "\n".join(f"{k}={v}" for k, v in sorted(notification.facts.items()))
    content += "".join(f"\n{k}={m.amount} {m.currency}" for k, m in sorted(notification.amounts.items()))
    content += "".join(f"\n{k}={d.isoformat()}" for k, d in sorted(notification.dates.items()))
    digest = hashlib.sha256(content.encode()).hexdigest()[:16]
    return f"{workflow_id}/{notification.kind.value}/{about}/{digest}"[-200:]
