"""Our StripeClient against the Stripe sandbox over real HTTP: every operation, the error mapping,
and a lost answer read back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from integrations.http import PermanentProviderError, RateLimitedError, RetryPolicy, TransientProviderError
from integrations.payments.sandbox import DEV_STRIPE_KEY
from integrations.payments.stripe import CancellationReason, CardDeclinedError, IntentStatus, StripeClient
from integrations.sandbox import SandboxServer, create_sandbox_app
from models.money import Money

NO_WAIT = RetryPolicy(max_retries=0)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with SandboxServer(create_sandbox_app(easypost_key="ep", sendgrid_key="sg")) as server:
        yield f"{server.url}/stripe"


@pytest.fixture
def client(base_url: str) -> Iterator[StripeClient]:
    with StripeClient(base_url, DEV_STRIPE_KEY, retry=NO_WAIT) as stripe_client:
        yield stripe_client


def _ref() -> str:
    return f"order-test-{uuid.uuid4().hex[:10]}"


def _key() -> str:
    return str(uuid.uuid4())


def test_authorise_capture_in_part_and_refund_in_parts(client: StripeClient) -> None:
    ref = _ref()
    held = client.authorize(Money(amount=4599, currency="USD"), payment_method="pm_card_visa", reference=ref,
                            idempotency_key=_key(), metadata={"channel": "web"})
    assert (held.status, held.amount_capturable, held.reference) == (IntentStatus.REQUIRES_CAPTURE, 4599, ref)
    assert held.metadata["channel"] == "web" and held.authorized == Money(amount=4599, currency="USD")
    assert client.get(held.id) == held

    captured = client.capture(held.id, amount=4000, idempotency_key=_key())
    assert (captured.status, captured.amount_received, captured.amount_capturable) == (IntentStatus.SUCCEEDED, 4000, 0)
    first = client.refund(held.id, amount=1500, idempotency_key=_key(), reason="requested_by_customer")
    rest = client.refund(held.id, idempotency_key=_key())
    assert (first.amount, rest.amount, first.payment_intent) == (1500, 2500, held.id)
    assert sorted(r.amount for r in client.refunds(held.id)) == [1500, 2500]


def test_multicapture_captures_per_shipment(client: StripeClient) -> None:
    held = client.authorize(Money(amount=3000, currency="EUR"), payment_method="pm_card_visa", reference=_ref(),
                            idempotency_key=_key(), multicapture=True)
    first = client.capture(held.id, amount=1000, final_capture=False, idempotency_key=_key())
    assert (first.status, first.amount_capturable) == (IntentStatus.REQUIRES_CAPTURE, 2000)
    last = client.capture(held.id, amount=2000, idempotency_key=_key())
    assert (last.status, last.amount_received) == (IntentStatus.SUCCEEDED, 3000)


def test_cancel_releases_the_hold(client: StripeClient) -> None:
    held = client.authorize(Money(amount=800, currency="USD"), payment_method="pm_card_visa", reference=_ref(),
                            idempotency_key=_key())
    cancelled = client.cancel(held.id, reason=CancellationReason.REQUESTED_BY_CUSTOMER, idempotency_key=_key())
    assert (cancelled.status, cancelled.cancellation_reason, cancelled.amount_capturable) == (
        IntentStatus.CANCELED, "requested_by_customer", 0)


def test_errors_name_the_field_from_param(client: StripeClient) -> None:
    held = client.authorize(Money(amount=1000, currency="USD"), payment_method="pm_card_visa", reference=_ref(),
                            idempotency_key=_key())
    with pytest.raises(PermanentProviderError) as too_much:
        client.capture(held.id, amount=1001, idempotency_key=_key())
    assert (too_much.value.status, too_much.value.code, too_much.value.field) == (400, "amount_too_large",
                                                                                  "amount_to_capture")
    with pytest.raises(PermanentProviderError) as too_small:
        client.authorize(Money(amount=10, currency="USD"), payment_method="pm_card_visa", reference=_ref(),
                         idempotency_key=_key())
    assert too_small.value.field == "amount" and too_small.value.code == "amount_too_small"
    with pytest.raises(PermanentProviderError) as unknown:
        client.get("pi_missing")
    assert (unknown.value.status, unknown.value.code) == (404, "resource_missing")
    client.capture(held.id, idempotency_key=_key())
    with pytest.raises(PermanentProviderError) as over_refund:
        client.refund(held.id, amount=1001, idempotency_key=_key())
    assert over_refund.value.field == "amount"


def test_a_declined_card_is_permanent_with_the_issuers_reason(client: StripeClient) -> None:
    ref = _ref()
    with pytest.raises(CardDeclinedError) as declined:
        client.authorize(Money(amount=2500, currency="USD"), payment_method="pm_card_chargeDeclined",
                         reference=ref, idempotency_key=_key())
    error = declined.value
    assert isinstance(error, PermanentProviderError)
    assert (error.status, error.code, error.decline_code) == (402, "card_declined", "generic_decline")
    [left] = client.find_by_reference(ref)
    assert left.id == error.payment_intent_id and left.status == IntentStatus.REQUIRES_PAYMENT_METHOD


def test_a_lost_answer_is_read_back_by_key_and_by_reference(base_url: str, client: StripeClient) -> None:
    ref, key = _ref(), _key()

    def drop_answer(request: httpx.Request) -> httpx.Response:
        with httpx.Client() as real:  # the request reaches Stripe; its answer is lost on the way back
            real.send(request)
        raise httpx.ReadTimeout("answer lost", request=request)

    with StripeClient(base_url, DEV_STRIPE_KEY, transport=httpx.MockTransport(drop_answer), retry=NO_WAIT) as lossy:
        with pytest.raises(TransientProviderError):
            lossy.authorize(Money(amount=2000, currency="USD"), payment_method="pm_card_visa", reference=ref,
                            idempotency_key=key)
    [found] = client.find_by_reference(ref)
    assert found.status == IntentStatus.REQUIRES_CAPTURE
    retried = client.authorize(Money(amount=2000, currency="USD"), payment_method="pm_card_visa", reference=ref,
                               idempotency_key=key)
    assert retried == found and len(client.find_by_reference(ref)) == 1


def test_throttling_and_outages_are_transient(base_url: str, client: StripeClient) -> None:
    httpx.post(f"{base_url}/_sandbox/faults", json={"status": 429, "count": 1}, timeout=5).raise_for_status()
    try:
        with pytest.raises(RateLimitedError):
            client.get("pi_whatever")
        httpx.post(f"{base_url}/_sandbox/faults", json={"status": 503, "count": 1}, timeout=5).raise_for_status()
        with pytest.raises(TransientProviderError) as outage:
            client.find_by_reference(_ref())
        assert outage.value.status == 503
    finally:
        httpx.delete(f"{base_url}/_sandbox/faults", timeout=5).raise_for_status()


def test_a_wrong_key_is_permanent(base_url: str) -> None:
    with StripeClient(base_url, "sk_test_wrong", retry=NO_WAIT) as wrong:
        with pytest.raises(PermanentProviderError) as refused:
            wrong.find_by_reference(_ref())
    assert refused.value.status == 401
