"""HTTP concerns shared by every provider client, written once.

Every provider failure leaves a client as one of these exceptions::

    ProviderError                   provider, status, code, message, field
    ├── TransientProviderError      network error, timeout, 408, 429, 5xx: the same call may succeed later
    │   └── RateLimitedError        429 (or a 503 that says when to come back); carries retry_after
    └── PermanentProviderError      any other 4xx: bad request, bad credentials, a business rule;
                                    sending the same request again will fail the same way

`send` is the one way clients talk to a provider: it sends a request on a sync `httpx.Client`,
waits out short `Retry-After` answers (429/503) a bounded number of times in-process, and turns
httpx exceptions and error statuses into the tree above using the provider's own error parser.
Longer waits are not slept here: the error is raised with `retry_after` so that the caller's
retry policy (a Temporal activity's) owns the schedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self

import httpx

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
_MAX_IDEMPOTENCY_KEY_LENGTH = 255
_THROTTLE_STATUSES = frozenset({429, 503})
RETRY_AFTER_HEADER = "retry-after"  # the standard one; a provider with its own passes its name


class ProviderError(Exception):
    """A provider call failed. `status` is None when no HTTP answer arrived (network, timeout)."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(provider, message, status, code, field)
        self.provider = provider
        self.message = message
        self.status = status
        self.code = code
        self.field = field

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # keyword-only attributes survive pickling
        return _rebuild_error, (type(self), self.provider, self.message, self.status, self.code,
                                self.field, getattr(self, "retry_after", None))

    def __str__(self) -> str:
        parts = [self.provider]
        if self.status is not None:
            parts.append(str(self.status))
        if self.code:
            parts.append(self.code)
        text = " ".join(parts) + f": {self.message}"
        return f"{text} (field: {self.field})" if self.field else text


class TransientProviderError(ProviderError):
    """The provider could not answer now (network, timeout, 408, 429, 5xx): retry later."""


class PermanentProviderError(ProviderError):
    """The provider refused the request (4xx other than 408/429): retrying the same call won't help."""


class RateLimitedError(TransientProviderError):
    """The provider asked us to slow down; `retry_after` is its requested wait in seconds, if it said."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = 429,
        code: str | None = None,
        field: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(provider, message, status=status, code=code, field=field)
        self.retry_after = retry_after


def _rebuild_error(cls, provider, message, status, code, field, retry_after):  # type: ignore[no-untyped-def]
    if issubclass(cls, RateLimitedError):
        return cls(provider, message, status=status, code=code, field=field, retry_after=retry_after)
    return cls(provider, message, status=status, code=code, field=field)


@dataclass(frozen=True)
class ErrorDetail:
    """What a provider's error body says, in the provider-neutral shape the tree carries."""

    message: str
    code: str | None = None
    field: str | None = None


ErrorParser = Callable[[httpx.Response], ErrorDetail]


@dataclass(frozen=True)
class RetryPolicy:
    """In-process retries of throttled answers (429/503) only.

    `max_retries` extra attempts, each after the provider's Retry-After (or `default_wait` doubling
    when it gave none). A requested wait above `max_wait` is not slept: it is raised at once.
    """

    max_retries: int = 2
    max_wait: float = 5.0
    default_wait: float = 0.5

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.max_wait < 0 or self.default_wait < 0:
            raise ValueError("max_wait and default_wait must be >= 0")


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(max_retries=0)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds ("2", "2.0") or an HTTP date.

    Returns None when the header is absent or unreadable; a date in the past gives 0.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # HTTP dates are GMT by definition
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds == float("inf"):  # NaN or infinity
        return None
    return max(seconds, 0.0)


def idempotency_headers(key: str | None) -> dict[str, str]:
    """The `Idempotency-Key` header for a provider that honours one (empty when no key is given)."""
    if key is None:
        return {}
    if not key or len(key) > _MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise ValueError(f"idempotency key must be 1..{_MAX_IDEMPOTENCY_KEY_LENGTH} printable characters")
    return {IDEMPOTENCY_KEY_HEADER: key}


def error_for_response(provider: str, response: httpx.Response, parse_error: ErrorParser, *,
                       retry_after_header: str = RETRY_AFTER_HEADER) -> ProviderError:
    """Classify an error response into the tree, with the provider's own code, message and field.

    `retry_after_header` names the header that carries the wait (ShipBob: `x-retry-after`)."""
    try:
        detail = parse_error(response)
    except Exception:  # a body we cannot read still has a status worth classifying
        detail = ErrorDetail(message=_body_excerpt(response))
    status, code, field = response.status_code, detail.code, detail.field
    if status == 429 or (status == 503 and retry_after_header in response.headers):
        retry_after = parse_retry_after(response.headers.get(retry_after_header))
        return RateLimitedError(provider, detail.message, status=status, code=code, field=field,
                                retry_after=retry_after)
    if status == 408 or status >= 500:
        return TransientProviderError(provider, detail.message, status=status, code=code, field=field)
    return PermanentProviderError(provider, detail.message, status=status, code=code, field=field)


def send(
    client: httpx.Client,
    request: httpx.Request,
    *,
    provider: str,
    parse_error: ErrorParser,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
    retry_after_header: str = RETRY_AFTER_HEADER,
) -> httpx.Response:
    """Send `request` and return its 2xx/3xx response, or raise a ProviderError.

    Throttled answers (429, 503) are retried up to `retry.max_retries` times, waiting what the
    provider asked (in `retry_after_header`) when that fits under `retry.max_wait`. Network errors are not retried here:
    whether a lost POST took effect is the caller's question (see EasyPost's buy).
    """
    wait_without_header = retry.default_wait
    for attempt in range(retry.max_retries + 1):
        try:
            response = client.send(request)
        except httpx.TimeoutException as exc:
            raise TransientProviderError(provider, f"timed out: {exc!r}") from exc
        except httpx.RequestError as exc:  # connect/read/protocol errors, undecodable bodies
            raise TransientProviderError(provider, f"network error: {exc!r}") from exc
        if response.status_code < 400:
            return response
        error = error_for_response(provider, response, parse_error, retry_after_header=retry_after_header)
        if response.status_code not in _THROTTLE_STATUSES or attempt == retry.max_retries:
            raise error
        requested = parse_retry_after(response.headers.get(retry_after_header))
        wait = wait_without_header if requested is None else requested
        if wait > retry.max_wait:
            raise error
        sleep(wait)
        wait_without_header *= 2
    raise AssertionError("unreachable: the last attempt returns or raises")


def _body_excerpt(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip()
    return text[:limit] if text else (response.reason_phrase or f"HTTP {response.status_code}")


class ProviderClient:
    """What every provider client shares: one sync httpx.Client, closed with the client, and usable
    as a context manager. Subclasses add the provider's calls."""

    provider: str = "provider"

    def __init__(self, base_url: str, headers: dict[str, str], *, timeout: float,
                 transport: httpx.BaseTransport | None, retry: RetryPolicy) -> None:
        self._retry = retry
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout,
                                  transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def json_object(provider: str, response: httpx.Response) -> dict[str, Any]:
    """The response body as a JSON object, or a PermanentProviderError saying it is not one."""
    try:
        data = response.json()
    except ValueError as exc:
        raise PermanentProviderError(provider, "response is not JSON", status=response.status_code) from exc
    if not isinstance(data, dict):
        raise PermanentProviderError(provider, "response is not a JSON object", status=response.status_code)
    return data
