"""integrations.http: Retry-After parsing, the retry budget and the error tree, through httpx.MockTransport."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from integrations.http import (
    ErrorDetail,
    PermanentProviderError,
    ProviderError,
    RateLimitedError,
    RetryPolicy,
    TransientProviderError,
    idempotency_headers,
    parse_retry_after,
    send,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _message_only(response: httpx.Response) -> ErrorDetail:
    return ErrorDetail(message=response.text or "empty", code="X", field="f")


def _client(answers: list[httpx.Response | Exception]) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.Client(base_url="https://provider.test", transport=httpx.MockTransport(handler)), seen


def _send(client: httpx.Client, retry: RetryPolicy = RetryPolicy(), sleeps: list[float] | None = None):
    request = client.build_request("POST", "/things", json={"a": 1})
    record = sleeps if sleeps is not None else []
    return send(client, request, provider="acme", parse_error=_message_only, retry=retry, sleep=record.append)


@pytest.mark.parametrize(("value", "seconds"), [("2", 2.0), ("2.5", 2.5), (" 0 ", 0.0), ("-3", 0.0)])
def test_retry_after_in_seconds_is_read_as_a_number(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_retry_after_as_an_http_date_is_the_time_until_then() -> None:
    later = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=NOW) == pytest.approx(30.0)


def test_retry_after_in_the_past_means_no_wait() -> None:
    assert parse_retry_after(format_datetime(NOW - timedelta(minutes=5), usegmt=True), now=NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "nan", "inf"])
def test_unreadable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_a_503_with_retry_after_is_retried_after_the_requested_wait() -> None:
    client, seen = _client([httpx.Response(503, headers={"Retry-After": "1.5"}), httpx.Response(200, json={})])
    sleeps: list[float] = []
    assert _send(client, sleeps=sleeps).status_code == 200
    assert sleeps == [1.5]
    assert [r.content for r in seen] == [b'{"a":1}', b'{"a":1}']


def test_a_429_without_retry_after_backs_off_from_the_default_wait() -> None:
    client, _ = _client([httpx.Response(429), httpx.Response(429), httpx.Response(204)])
    sleeps: list[float] = []
    _send(client, retry=RetryPolicy(max_retries=2, default_wait=0.25), sleeps=sleeps)
    assert sleeps == [0.25, 0.5]


def test_throttling_beyond_the_retry_budget_raises_rate_limited_with_the_wait() -> None:
    client, seen = _client([httpx.Response(429, headers={"Retry-After": "1"}, text="slow down")] * 3)
    with pytest.raises(RateLimitedError) as caught:
        _send(client, retry=RetryPolicy(max_retries=2))
    assert len(seen) == 3
    assert caught.value.retry_after == 1.0
    assert caught.value.status == 429
    assert caught.value.message == "slow down"


def test_a_wait_longer_than_the_cap_is_raised_at_once_not_slept() -> None:
    client, seen = _client([httpx.Response(429, headers={"Retry-After": "60"})])
    sleeps: list[float] = []
    with pytest.raises(RateLimitedError) as caught:
        _send(client, retry=RetryPolicy(max_retries=2, max_wait=5), sleeps=sleeps)
    assert (len(seen), sleeps, caught.value.retry_after) == (1, [], 60.0)


@pytest.mark.parametrize("status", [500, 502, 504, 408])
def test_server_failures_and_timeouts_are_transient_and_not_retried_in_process(status: int) -> None:
    client, seen = _client([httpx.Response(status)])
    with pytest.raises(TransientProviderError) as caught:
        _send(client)
    assert len(seen) == 1
    assert not isinstance(caught.value, RateLimitedError)
    assert caught.value.status == status


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_permanent_with_the_parsed_detail(status: int) -> None:
    client, _ = _client([httpx.Response(status, text="nope")])
    with pytest.raises(PermanentProviderError) as caught:
        _send(client)
    error = caught.value
    assert (error.provider, error.status, error.code, error.field, error.message) == ("acme", status, "X", "f", "nope")


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eof")],
)
def test_network_failures_become_transient_without_a_status(failure: Exception) -> None:
    client, _ = _client([failure])
    with pytest.raises(TransientProviderError) as caught:
        _send(client)
    assert caught.value.status is None
    assert caught.value.__cause__ is failure


def test_an_error_parser_that_fails_still_yields_a_classified_error() -> None:
    def broken(_: httpx.Response) -> ErrorDetail:
        raise ValueError("not json")

    client = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(502, text="<html>bad gateway")))
    with pytest.raises(TransientProviderError, match="bad gateway"):
        send(client, client.build_request("GET", "https://p.test/"), provider="acme", parse_error=broken)


def test_provider_errors_survive_pickling_with_their_attributes() -> None:
    original = RateLimitedError("acme", "slow", status=429, code="RL", field=None, retry_after=2.0)
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is RateLimitedError
    assert (copy.provider, copy.message, copy.status, copy.code, copy.retry_after) == ("acme", "slow", 429, "RL", 2.0)
    plain = pickle.loads(pickle.dumps(PermanentProviderError("acme", "bad", status=422, field="zip")))
    assert isinstance(plain, ProviderError) and plain.field == "zip"
    assert str(plain) == "acme 422: bad (field: zip)"


def test_idempotency_headers_carry_a_valid_key_and_refuse_a_bad_one() -> None:
    assert idempotency_headers("order-1-label") == {"Idempotency-Key": "order-1-label"}
    assert idempotency_headers(None) == {}
    with pytest.raises(ValueError):
        idempotency_headers("x" * 256)
    with pytest.raises(ValueError):
        idempotency_headers("")


def test_a_negative_retry_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)
