"""The sandbox's Stripe errors and test cards: what each test PaymentMethod does when it is confirmed.

The ids are Stripe's own test PaymentMethods (docs.stripe.com/testing): `pm_card_visa` and the other
brands authorise; the `pm_card_chargeDeclined*` family declines with Stripe's codes. Any other id is
"No such PaymentMethod", as in Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

APPROVED = frozenset({"pm_card_visa", "pm_card_visa_debit", "pm_card_mastercard", "pm_card_amex",
                      "pm_card_discover", "pm_card_us"})
BRANDS = {"pm_card_mastercard": "mastercard", "pm_card_amex": "amex", "pm_card_discover": "discover"}


@dataclass(frozen=True)
class Decline:
    code: str
    decline_code: str | None
    message: str


DECLINES = {
    "pm_card_chargeDeclined": Decline("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": Decline("card_declined", "insufficient_funds",
                                                       "Your card has insufficient funds."),
    "pm_card_chargeDeclinedLostCard": Decline("card_declined", "lost_card", "Your card was declined."),
    "pm_card_chargeDeclinedStolenCard": Decline("card_declined", "stolen_card", "Your card was declined."),
    "pm_card_chargeDeclinedExpiredCard": Decline("expired_card", None, "Your card has expired."),
    "pm_card_chargeDeclinedIncorrectCvc": Decline("incorrect_cvc", None, "Your card's security code is incorrect."),
    "pm_card_chargeDeclinedProcessingError": Decline("processing_error", None,
                                                     "An error occurred while processing your card. Try again "
                                                     "in a little bit."),
}


@dataclass
class StripeApiError(Exception):
    """An answer in Stripe's error envelope. `saved` is False for requests refused before they ran
    (bad parameters), whose answer Stripe does not keep under their Idempotency-Key."""

    status: int
    type: str
    message: str
    code: str | None = None
    param: str | None = None
    saved: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    # The webhooks the refused request still caused (a declined card: payment_intent.payment_failed).
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://docs.stripe.com/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": {**error, **self.extra}}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeApiError:
    """A parameter refused before anything ran (not kept under the Idempotency-Key)."""
    return StripeApiError(400, "invalid_request_error", message, code=code, param=param, saved=False)


def unexpected_state(message: str, *, param: str | None = None, code: str = "payment_intent_unexpected_state"
                     ) -> StripeApiError:
    return StripeApiError(400, "invalid_request_error", message, code=code, param=param)


def no_such(kind: str, object_id: str, param: str = "id") -> StripeApiError:
    return StripeApiError(404, "invalid_request_error", f"No such {kind}: '{object_id}'", code="resource_missing",
                          param=param, saved=False)


def integer_param(params: dict[str, Any], name: str, *, required: bool = False, minimum: int = 1) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return None
    if not isinstance(raw, str) or not raw.lstrip("-").isdigit():
        raise invalid(f"Invalid integer: {raw}", param=name, code="parameter_invalid_integer")
    value = int(raw)
    if value < minimum:
        code = "amount_too_small" if name == "amount" else "parameter_invalid_integer"
        raise invalid(f"This value must be greater than or equal to {minimum}.", param=name, code=code)
    return value


def boolean_param(params: dict[str, Any], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise invalid(f"Invalid boolean: {raw}", param=name, code="parameter_invalid_boolean")
    return bool(raw == "true")


def choice_param(params: dict[str, Any], name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise invalid(f"Invalid {name}: must be one of {', '.join(choices)}", param=name)
    return str(raw)


def metadata_param(params: dict[str, Any], current: dict[str, str] | None = None) -> dict[str, str]:
    """Stripe's metadata rules: up to 50 keys of at most 40 characters, values of at most 500;
    an empty value unsets a key."""
    raw = params.get("metadata")
    merged = dict(current or {})
    if raw is None or raw == "":
        return merged
    if not isinstance(raw, dict):
        raise invalid("Invalid object", param="metadata", code="parameter_invalid_empty")
    for key, value in raw.items():
        if not isinstance(value, str):
            raise invalid(f"Invalid value for metadata[{key}]", param=f"metadata[{key}]")
        if len(key) > 40:
            raise invalid("Metadata keys can be at most 40 characters.", param=f"metadata[{key}]")
        if len(value) > 500:
            raise invalid("Metadata values can be at most 500 characters.", param=f"metadata[{key}]")
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > 50:
        raise invalid("Metadata can have at most 50 keys.", param="metadata")
    return merged
