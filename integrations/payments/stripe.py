"""Stripe client: authorise a payment (manual capture), capture it, cancel it, refund it, find it again.

Wire format: https://api.stripe.com/v1, `Authorization: Bearer sk_...`, a pinned `Stripe-Version`,
form-encoded bodies with bracketed keys (integrations.payments.wire), `Idempotency-Key` on every POST,
errors as `{"error": {"type", "code", "decline_code", "message", "param"}}`. Errors map into
integrations.http's tree with `param` as the field: 402 card errors are permanent (`CardDeclinedError`),
429, 5xx and 409 `idempotency_key_in_use` transient, other 4xx permanent.

Capturing: one capture per PaymentIntent, of at most `amount_capturable`; a partial capture releases
the rest of the hold. Several captures need Stripe's multicapture (IC+ pricing, card only), requested
at authorisation with `multicapture=True` and taken with `final_capture=False` on all but the last.
A lost answer is read back with the same Idempotency-Key (Stripe replays it for 24 h at least) or by
our reference: every PaymentIntent carries `metadata[omniroute_ref]`, found by `find_by_reference`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from integrations.http import (
    DEFAULT_RETRY,
    ErrorDetail,
    PermanentProviderError,
    ProviderClient,
    RetryPolicy,
    TransientProviderError,
    idempotency_headers,
    json_object,
    send,
)
from integrations.payments.wire import encode_form
from models.money import Money

PROVIDER = "stripe"
STRIPE_API_VERSION = "2026-10-28.endive"
REFERENCE_KEY = "omniroute_ref"
_RETRYABLE_CONFLICTS = frozenset({"idempotency_key_in_use", "lock_timeout"})


class IntentStatus(StrEnum):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


class CancellationReason(StrEnum):
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"
    REQUESTED_BY_CUSTOMER = "requested_by_customer"
    ABANDONED = "abandoned"


class CardDeclinedError(PermanentProviderError):
    """A 402 card error: the card was refused (`code` card_declined, expired_card, ...). `decline_code`
    is the issuer's reason; `payment_intent_id` names the PaymentIntent left in requires_payment_method."""

    def __init__(self, message: str, *, code: str | None, decline_code: str | None,
                 payment_intent_id: str | None) -> None:
        super().__init__(PROVIDER, message, status=402, code=code)
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _rebuild_declined, (self.message, self.code, self.decline_code, self.payment_intent_id)


def _rebuild_declined(message: str, code: str | None, decline_code: str | None,
                      payment_intent_id: str | None) -> CardDeclinedError:
    return CardDeclinedError(message, code=code, decline_code=decline_code, payment_intent_id=payment_intent_id)


class PaymentIntent(BaseModel):
    """The parts of a Stripe PaymentIntent Omniroute acts on; amounts in minor units."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: IntentStatus
    amount: int = Field(ge=0)
    amount_capturable: int = Field(ge=0)
    amount_received: int = Field(ge=0)
    currency: str
    capture_method: str
    metadata: dict[str, str] = Field(default_factory=dict)
    latest_charge: str | None = None
    payment_method: str | None = None
    cancellation_reason: str | None = None
    decline_code: str | None = None

    @property
    def reference(self) -> str | None:
        return self.metadata.get(REFERENCE_KEY)

    @property
    def authorized(self) -> Money:
        return Money(amount=self.amount, currency=self.currency.upper())


class Refund(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    amount: int = Field(ge=0)
    currency: str
    payment_intent: str | None
    charge: str | None
    status: str
    reason: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class StripeClient(ProviderClient):
    """Sync Stripe client. Every method raises an `integrations.http.ProviderError` subclass on failure
    (see the module docstring); POSTs take the caller's idempotency key, made once per step by the
    workflow, so that a retried call is the same call."""

    provider = PROVIDER

    def __init__(self, base_url: str, api_key: str, *, api_version: str = STRIPE_API_VERSION,
                 timeout: float = 30.0, transport: httpx.BaseTransport | None = None,
                 retry: RetryPolicy = DEFAULT_RETRY) -> None:
        super().__init__(base_url, {"Authorization": f"Bearer {api_key}", "Stripe-Version": api_version,
                                    "Accept": "application/json"}, timeout=timeout, transport=transport, retry=retry)

    def authorize(self, amount: Money, *, payment_method: str, reference: str, idempotency_key: str,
                  metadata: dict[str, str] | None = None, description: str | None = None,
                  multicapture: bool = False) -> PaymentIntent:
        """Create and confirm a PaymentIntent with `capture_method=manual`: a hold of `amount` on the card
        (status requires_capture). Raises CardDeclinedError when the card is refused."""
        params: dict[str, Any] = {
            "amount": amount.amount, "currency": amount.currency.lower(), "capture_method": "manual",
            "confirm": True, "payment_method": payment_method, "payment_method_types": ["card"],
            "metadata": {**(metadata or {}), REFERENCE_KEY: reference}, "description": description,
        }
        if multicapture:
            params["payment_method_options"] = {"card": {"request_multicapture": "if_available"}}
        return parse_intent(self._post("/v1/payment_intents", params, idempotency_key))

    def get(self, intent_id: str) -> PaymentIntent:
        return parse_intent(self._call("GET", f"/v1/payment_intents/{intent_id}"))

    def capture(self, intent_id: str, *, idempotency_key: str, amount: int | None = None,
                final_capture: bool | None = None) -> PaymentIntent:
        """Capture `amount` (default: all that is capturable). `final_capture=False` keeps the rest of
        the hold for later captures (multicapture only)."""
        params = {"amount_to_capture": amount, "final_capture": final_capture}
        return parse_intent(self._post(f"/v1/payment_intents/{intent_id}/capture", params, idempotency_key))

    def cancel(self, intent_id: str, *, idempotency_key: str,
               reason: CancellationReason | None = None) -> PaymentIntent:
        """Release an uncaptured authorisation. A captured PaymentIntent cannot be cancelled: refund it."""
        params = {"cancellation_reason": reason.value if reason else None}
        return parse_intent(self._post(f"/v1/payment_intents/{intent_id}/cancel", params, idempotency_key))

    def refund(self, intent_id: str, *, idempotency_key: str, amount: int | None = None,
               reason: str | None = None, metadata: dict[str, str] | None = None) -> Refund:
        """Refund `amount` of what was captured (default: all that is left); refunds add up to at most
        the captured amount."""
        params = {"payment_intent": intent_id, "amount": amount, "reason": reason, "metadata": metadata}
        return parse_refund(self._post("/v1/refunds", params, idempotency_key))

    def refunds(self, intent_id: str) -> list[Refund]:
        data = self._call("GET", "/v1/refunds", query={"payment_intent": intent_id, "limit": 100})
        return [parse_refund(item) for item in data.get("data") or []]

    def find_by_reference(self, reference: str) -> list[PaymentIntent]:
        """The PaymentIntents made for `reference`, newest first (Stripe's search; on real Stripe new
        objects can take a short while to become searchable)."""
        if "'" in reference or "\\" in reference:
            raise ValueError("reference must not contain quotes or backslashes")
        query = f"metadata['{REFERENCE_KEY}']:'{reference}'"
        data = self._call("GET", "/v1/payment_intents/search", query={"query": query, "limit": 100})
        return [parse_intent(item) for item in data.get("data") or []]

    def _post(self, path: str, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self._call("POST", path, form=encode_form(params), headers=idempotency_headers(idempotency_key))

    def _call(self, method: str, path: str, *, form: list[tuple[str, str]] | None = None,
              query: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
        # encode_form's keys are unique (arrays are indexed), so a dict keeps every pair, in order.
        request = self._http.build_request(method, path, data=dict(form) if form is not None else None,
                                           params=query, headers=headers)
        envelope: dict[str, Any] = {}

        def parse(response: httpx.Response) -> ErrorDetail:
            envelope.update(response.json().get("error") or {})
            return parse_error(response)

        try:
            response = send(self._http, request, provider=PROVIDER, parse_error=parse, retry=self._retry)
        except PermanentProviderError as exc:
            if exc.status == 402:
                raise CardDeclinedError(exc.message, code=exc.code, decline_code=envelope.get("decline_code"),
                                        payment_intent_id=_id_of(envelope.get("payment_intent"))) from exc
            if exc.status == 409 and exc.code in _RETRYABLE_CONFLICTS:
                raise TransientProviderError(PROVIDER, exc.message, status=409, code=exc.code,
                                             field=exc.field) from exc
            raise
        return json_object(PROVIDER, response)


def parse_error(response: httpx.Response) -> ErrorDetail:
    """Stripe's envelope → ErrorDetail; `param` is the field, the decline code joins the message."""
    error = response.json().get("error") or {}
    message = str(error.get("message") or response.reason_phrase or f"HTTP {response.status_code}")
    code = error.get("code") or error.get("type")
    if error.get("decline_code"):
        message = f"{message} (decline_code: {error['decline_code']})"
    return ErrorDetail(message=message, code=code, field=error.get("param"))


def parse_intent(data: dict[str, Any]) -> PaymentIntent:
    try:
        last_error = data.get("last_payment_error") or {}
        return PaymentIntent(
            id=data["id"], status=IntentStatus(data["status"]), amount=data["amount"],
            amount_capturable=data.get("amount_capturable") or 0, amount_received=data.get("amount_received") or 0,
            currency=data["currency"], capture_method=data.get("capture_method") or "automatic",
            metadata=data.get("metadata") or {}, latest_charge=_id_of(data.get("latest_charge")),
            payment_method=_id_of(data.get("payment_method")), cancellation_reason=data.get("cancellation_reason"),
            decline_code=last_error.get("decline_code"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentProviderError(PROVIDER, f"unreadable payment_intent: {exc}") from exc


def parse_refund(data: dict[str, Any]) -> Refund:
    try:
        return Refund(id=data["id"], amount=data["amount"], currency=data["currency"],
                      payment_intent=_id_of(data.get("payment_intent")), charge=_id_of(data.get("charge")),
                      status=data["status"], reason=data.get("reason"), metadata=data.get("metadata") or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentProviderError(PROVIDER, f"unreadable refund: {exc}") from exc


def _id_of(value: object) -> str | None:
    """An expandable field: the id, or the expanded object's id."""
    if isinstance(value, dict):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None
