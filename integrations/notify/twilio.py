"""Twilio Messages API client: one SMS per call, fetched by its sid, found again by recipient and body.

Wire format: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic
`AccountSid:AuthToken`, form-encoded `To` (E.164), `From` or `MessagingServiceSid`, `Body` and an optional
`StatusCallback`; success is `201` with the message resource (`sid` "SM…", `status` "queued", …);
errors are `{"code", "message", "more_info", "status"}` (21211 an invalid `To`, 20003 bad credentials,
20429 too many requests). Status callbacks are form posts signed with `X-Twilio-Signature`: base64
HMAC-SHA1, keyed with the auth token, over the full URL followed by every POST parameter, sorted by
name, as name and value (`twilio_signature`). The Messages API has no idempotency key: a caller that
must not send twice records the sid and, when unsure, looks for the message (`find_sent`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from integrations.http import (
    DEFAULT_RETRY,
    ErrorDetail,
    ProviderClient,
    RetryPolicy,
    json_object,
    send,
)

PROVIDER = "twilio"
API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
# The request parameter each of Twilio's validation codes is about (twilio.com/docs/api/errors).
_FIELD_OF_CODE = {21211: "To", 21604: "To", 21614: "To", 21610: "To", 21603: "From", 21212: "From",
                  21606: "From", 21659: "From", 21602: "Body", 21617: "Body", 21609: "StatusCallback",
                  21701: "MessagingServiceSid"}
_LOOKUP_PAGE_SIZE = 50


@dataclass(frozen=True)
class SmsMessage:
    """What Twilio says of one message."""

    sid: str
    to: str
    sender: str | None
    body: str
    status: str
    date_created: datetime | None
    error_code: int | None = None


class TwilioClient(ProviderClient):
    """Sync Twilio Messages client for one account, sending from `sender`: a phone number (`From`) or a
    Messaging Service (`MG…`, sent as `MessagingServiceSid`). `send_sms` raises `PermanentProviderError`
    when Twilio refuses the message (an invalid number, bad credentials: the field named when Twilio's
    code says which) and `TransientProviderError`/`RateLimitedError` when it cannot take it now."""

    provider = PROVIDER

    def __init__(self, base_url: str, account_sid: str, auth_token: str, sender: str, *,
                 status_callback: str | None = None, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy = DEFAULT_RETRY) -> None:
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        super().__init__(base_url, {"Authorization": f"Basic {credentials}", "Accept": "application/json"},
                         timeout=timeout, transport=transport, retry=retry)
        self._messages = f"/{API_VERSION}/Accounts/{account_sid}/Messages"
        self._sender = sender
        self._status_callback = status_callback

    def send_sms(self, *, to: str, body: str) -> SmsMessage:
        """Create one message to `to` (E.164) and return it as Twilio accepted it (status `queued`)."""
        form = {"To": to, "Body": body}
        form["MessagingServiceSid" if self._sender.startswith("MG") else "From"] = self._sender
        if self._status_callback:
            form["StatusCallback"] = self._status_callback
        request = self._http.build_request("POST", f"{self._messages}.json", data=form)
        return _message(json_object(PROVIDER, self._send(request)))

    def fetch(self, sid: str) -> SmsMessage:
        request = self._http.build_request("GET", f"{self._messages}/{sid}.json")
        return _message(json_object(PROVIDER, self._send(request)))

    def find_sent(self, *, to: str, body: str, since: datetime) -> SmsMessage | None:
        """The newest message to `to` with exactly `body`, created at or after `since` (whole seconds, as
        Twilio dates go), among the latest page of messages to that number; None when there is none."""
        request = self._http.build_request("GET", f"{self._messages}.json",
                                           params={"To": to, "PageSize": str(_LOOKUP_PAGE_SIZE)})
        page = json_object(PROVIDER, self._send(request))
        floor = since.replace(microsecond=0)
        for item in page.get("messages") or []:
            message = _message(item)
            if message.body == body and message.date_created is not None and message.date_created >= floor:
                return message
        return None

    def _send(self, request: httpx.Request) -> httpx.Response:
        return send(self._http, request, provider=PROVIDER, parse_error=parse_error, retry=self._retry)


def _message(data: Mapping[str, Any]) -> SmsMessage:
    created = data.get("date_created")
    code = data.get("error_code")
    return SmsMessage(sid=str(data["sid"]), to=str(data.get("to") or ""), sender=data.get("from"),
                      body=str(data.get("body") or ""), status=str(data.get("status") or ""),
                      date_created=parsedate_to_datetime(created) if created else None,
                      error_code=int(code) if code is not None else None)


def parse_error(response: httpx.Response) -> ErrorDetail:
    """`{"code", "message", "more_info", "status"}` → the code, the message, and the field the code is about."""
    data = response.json()
    code = data.get("code")
    message = str(data.get("message") or response.reason_phrase or f"HTTP {response.status_code}")
    field = _FIELD_OF_CODE.get(code) if isinstance(code, int) else None
    return ErrorDetail(message=message, code=str(code) if code is not None else None, field=field)


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The `X-Twilio-Signature` of a form POST to `url`: base64 HMAC-SHA1 over the URL and each parameter
    (sorted by name) as name then value."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid_signature(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    return signature is not None and hmac.compare_digest(twilio_signature(auth_token, url, params), signature)
