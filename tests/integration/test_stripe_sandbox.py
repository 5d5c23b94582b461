"""The Stripe sandbox judged by Stripe's official Python SDK: its own HTTP client, its own typed objects,
its own error classes and its own webhook signature check."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import stripe

from integrations.payments.sandbox import DEV_STRIPE_KEY
from integrations.sandbox import SandboxServer, create_sandbox_app
from tests.fixtures.webhook_inbox import WebhookInbox, webhook_inbox

pytestmark = pytest.mark.conformance


@dataclass(frozen=True)
class Stripe:
    url: str
    client: stripe.StripeClient
    inbox: WebhookInbox
    secret: str


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Stripe]:
    secret = f"whsec_{uuid.uuid4().hex}"
    app = create_sandbox_app(easypost_key="ep", sendgrid_key="sg")
    with webhook_inbox("stripe-signature") as inbox, SandboxServer(app) as server:
        url = f"{server.url}/stripe"
        httpx.post(f"{url}/_sandbox/webhook_endpoints", json={"url": inbox.url, "secret": secret},
                   timeout=5).raise_for_status()
        client = stripe.StripeClient(DEV_STRIPE_KEY, base_addresses={"api": url}, max_network_retries=0,
                                     http_client=stripe.HTTPXClient(allow_sync_methods=True))
        yield Stripe(url, client, inbox, secret)


def _event(inbox: WebhookInbox, event_type: str, intent_id: str) -> tuple[bytes, str]:
    """The `event_type` webhook about the PaymentIntent `intent_id` (or its charge)."""
    def about(event: dict[str, Any]) -> bool:
        obj = event["data"]["object"]
        return event["type"] == event_type and intent_id in (obj.get("id"), obj.get("payment_intent"))
    return inbox.wait_for(about, f"{event_type} webhook for {intent_id}")


def _authorise(client: stripe.StripeClient, amount: int = 5000, **extra: object) -> stripe.PaymentIntent:
    params = {"amount": amount, "currency": "usd", "capture_method": "manual", "confirm": True,
              "payment_method": "pm_card_visa", "metadata": {"omniroute_ref": f"order-{uuid.uuid4().hex[:10]}"},
              **extra}
    return client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]


def test_an_authorisation_is_captured_in_part_and_refunded_twice(sandbox: Stripe) -> None:
    intent = _authorise(sandbox.client)
    assert isinstance(intent, stripe.PaymentIntent)
    assert (intent.status, intent.amount_capturable, intent.amount_received) == ("requires_capture", 5000, 0)

    captured = sandbox.client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 3000})
    # One capture per PaymentIntent: the rest of the hold is released.
    assert (captured.status, captured.amount_received, captured.amount_capturable) == ("succeeded", 3000, 0)

    first = sandbox.client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})
    second = sandbox.client.v1.refunds.create(params={"payment_intent": intent.id})
    assert isinstance(first, stripe.Refund) and (first.amount, second.amount) == (1000, 2000)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        sandbox.client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1})
    assert refused.value.code == "charge_already_refunded"
    charge = sandbox.client.v1.charges.retrieve(str(captured.latest_charge))
    assert (charge.amount_captured, charge.amount_refunded, charge.refunded) == (3000, 3000, True)


def test_a_capture_over_the_hold_names_amount_to_capture(sandbox: Stripe) -> None:
    intent = _authorise(sandbox.client, amount=1000)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        sandbox.client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1001})
    assert (refused.value.param, refused.value.code) == ("amount_to_capture", "amount_too_large")
    assert sandbox.client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"


def test_multicapture_keeps_the_hold_until_the_final_capture(sandbox: Stripe) -> None:
    intent = _authorise(sandbox.client, payment_method_options={"card": {"request_multicapture": "if_available"}})
    first = sandbox.client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 2000,
                                                                         "final_capture": False})
    assert (first.status, first.amount_received, first.amount_capturable) == ("requires_capture", 2000, 3000)
    last = sandbox.client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1000})
    assert (last.status, last.amount_received, last.amount_capturable) == ("succeeded", 3000, 0)


def test_created_then_confirmed_separately(sandbox: Stripe) -> None:
    intent = sandbox.client.v1.payment_intents.create(params={"amount": 900, "currency": "eur",
                                                              "capture_method": "manual"})
    assert intent.status == "requires_payment_method"
    confirmed = sandbox.client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_mastercard"})
    assert (confirmed.status, confirmed.amount_capturable) == ("requires_capture", 900)


def test_a_cancelled_hold_cannot_be_captured_and_a_captured_one_cannot_be_cancelled(sandbox: Stripe) -> None:
    held = _authorise(sandbox.client)
    cancelled = sandbox.client.v1.payment_intents.cancel(held.id, params={"cancellation_reason": "abandoned"})
    assert (cancelled.status, cancelled.cancellation_reason) == ("canceled", "abandoned")
    assert cancelled.amount_capturable == 0
    with pytest.raises(stripe.InvalidRequestError) as not_capturable:
        sandbox.client.v1.payment_intents.capture(held.id)
    assert not_capturable.value.code == "payment_intent_unexpected_state"

    captured = sandbox.client.v1.payment_intents.capture(_authorise(sandbox.client).id)
    with pytest.raises(stripe.InvalidRequestError) as not_cancellable:
        sandbox.client.v1.payment_intents.cancel(captured.id)
    assert not_cancellable.value.code == "payment_intent_unexpected_state"


def test_an_idempotent_replay_is_answered_identically(sandbox: Stripe) -> None:
    key = str(uuid.uuid4())
    params = {"amount": 1200, "currency": "usd", "capture_method": "manual", "confirm": True,
              "payment_method": "pm_card_visa", "metadata": {"omniroute_ref": key}}
    first = sandbox.client.v1.payment_intents.create(params=params, options={"idempotency_key": key})  # type: ignore[arg-type]
    again = sandbox.client.v1.payment_intents.create(params=params, options={"idempotency_key": key})  # type: ignore[arg-type]
    assert again.id == first.id and again.to_dict() == first.to_dict()
    assert again.last_response is not None and again.last_response.headers.get("Idempotent-Replayed") == "true"
    found = sandbox.client.v1.payment_intents.search(params={"query": f"metadata['omniroute_ref']:'{key}'"})
    assert [i.id for i in found.data] == [first.id]

    with pytest.raises(stripe.IdempotencyError):
        sandbox.client.v1.payment_intents.create(params={**params, "amount": 1300},  # type: ignore[arg-type]
                                                 options={"idempotency_key": key})


def test_a_declined_card_raises_the_sdks_card_error(sandbox: Stripe) -> None:
    with pytest.raises(stripe.CardError) as declined:
        _authorise(sandbox.client, payment_method="pm_card_chargeDeclinedInsufficientFunds")
    assert declined.value.http_status == 402 and declined.value.code == "card_declined"
    error = declined.value.error
    assert error is not None and error.decline_code == "insufficient_funds"
    assert error.payment_intent is not None and error.payment_intent.status == "requires_payment_method"


def test_a_wrong_key_is_an_authentication_error(sandbox: Stripe) -> None:
    other = stripe.StripeClient("sk_test_not_ours", base_addresses={"api": sandbox.url}, max_network_retries=0,
                                http_client=stripe.HTTPXClient(allow_sync_methods=True))
    with pytest.raises(stripe.AuthenticationError):
        other.v1.payment_intents.list()


def test_webhooks_pass_the_sdks_signature_check_and_a_tampered_one_fails_it(sandbox: Stripe) -> None:
    intent = _authorise(sandbox.client)
    body, header = _event(sandbox.inbox, "payment_intent.amount_capturable_updated", intent.id)
    event = stripe.Webhook.construct_event(body, header, sandbox.secret)
    assert isinstance(event, stripe.Event) and event.type == "payment_intent.amount_capturable_updated"
    assert event.data.object["amount_capturable"] == 5000

    tampered = body.replace(b'"amount_capturable":5000', b'"amount_capturable":9000')
    assert tampered != body
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, header, sandbox.secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, "whsec_someone_else")

    sandbox.client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 4000})
    body, header = _event(sandbox.inbox, "payment_intent.succeeded", intent.id)
    assert stripe.Webhook.construct_event(body, header, sandbox.secret).data.object["amount_received"] == 4000
    sandbox.client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})
    body, header = _event(sandbox.inbox, "charge.refunded", intent.id)
    assert stripe.Webhook.construct_event(body, header, sandbox.secret).data.object["amount_refunded"] == 500


def test_an_expired_authorisation_is_cancelled_automatically(sandbox: Stripe) -> None:
    intent = _authorise(sandbox.client)
    httpx.post(f"{sandbox.url}/_sandbox/payment_intents/{intent.id}/expire", timeout=5).raise_for_status()
    expired = sandbox.client.v1.payment_intents.retrieve(intent.id)
    assert (expired.status, expired.cancellation_reason) == ("canceled", "automatic")
    body, header = _event(sandbox.inbox, "payment_intent.canceled", intent.id)
    event = stripe.Webhook.construct_event(body, header, sandbox.secret)
    assert event.data.object["cancellation_reason"] == "automatic"
    with pytest.raises(stripe.InvalidRequestError):
        sandbox.client.v1.payment_intents.capture(intent.id)
