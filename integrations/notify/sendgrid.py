"""SendGrid v3 Mail Send client: one email per call, plain text and optionally HTML.

Wire format: `POST {base}/v3/mail/send`, `Authorization: Bearer SG.…`, JSON body with
personalizations/from/subject/content; success is `202 Accepted` with an empty body and the
`X-Message-Id` header; errors are `{"errors": [{"message", "field", "help"}]}`.
SendGrid has no idempotency key: a caller that must not send twice records the message id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from integrations.http import (
    DEFAULT_RETRY,
    ErrorDetail,
    PermanentProviderError,
    ProviderClient,
    RetryPolicy,
    send,
)

PROVIDER = "sendgrid"
MESSAGE_ID_HEADER = "X-Message-Id"


class SendGridClient(ProviderClient):
    """Sync SendGrid client. `send` raises `PermanentProviderError` when SendGrid refuses the message
    (401 bad key, 400 invalid body naming the field) and `TransientProviderError`/`RateLimitedError`
    when it cannot take it now (after in-process retries of throttled answers)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        super().__init__(base_url, {"Authorization": f"Bearer {api_key}"}, timeout=timeout, transport=transport,
                         retry=retry)

    def send(
        self,
        *,
        to_email: str,
        to_name: str,
        from_email: str,
        subject: str,
        text: str,
        html: str | None = None,
        categories: Sequence[str] = (),
        custom_args: Mapping[str, str] | None = None,
        from_name: str | None = None,
    ) -> str:
        """Send one email and return SendGrid's message id (`X-Message-Id`)."""
        body = mail_body(to_email=to_email, to_name=to_name, from_email=from_email, from_name=from_name,
                         subject=subject, text=text, html=html, categories=categories, custom_args=custom_args)
        request = self._http.build_request("POST", "/v3/mail/send", json=body)
        response = send(self._http, request, provider=PROVIDER, parse_error=parse_error, retry=self._retry)
        message_id: str | None = response.headers.get(MESSAGE_ID_HEADER)
        if not message_id:
            raise PermanentProviderError(PROVIDER, "accepted without an X-Message-Id header",
                                         status=response.status_code)
        return message_id


def mail_body(
    *,
    to_email: str,
    to_name: str,
    from_email: str,
    subject: str,
    text: str,
    html: str | None = None,
    categories: Sequence[str] = (),
    custom_args: Mapping[str, str] | None = None,
    from_name: str | None = None,
) -> dict[str, Any]:
    """The Mail Send JSON body for one recipient, a text/plain part and, when given, a text/html part
    (after the plain one: SendGrid wants text/plain first)."""
    recipient = {"email": to_email, "name": to_name} if to_name else {"email": to_email}
    sender = {"email": from_email, "name": from_name} if from_name else {"email": from_email}
    body: dict[str, Any] = {
        "personalizations": [{"to": [recipient]}],
        "from": sender,
        "subject": subject,
        "content": [{"type": "text/plain", "value": text}] + ([{"type": "text/html", "value": html}] if html else []),
    }
    if categories:
        body["categories"] = list(categories)
    if custom_args:
        body["custom_args"] = dict(custom_args)
    return body


def parse_error(response: httpx.Response) -> ErrorDetail:
    """`{"errors": [{"message", "field", "help"}, …]}` → the first error's field, every message."""
    errors = [e for e in response.json().get("errors") or [] if isinstance(e, dict)]
    if not errors:
        return ErrorDetail(message=response.reason_phrase or f"HTTP {response.status_code}")
    messages = "; ".join(str(e.get("message")) for e in errors if e.get("message"))
    field = next((str(e["field"]) for e in errors if e.get("field")), None)
    return ErrorDetail(message=messages or f"HTTP {response.status_code}", field=field)
