"""A sandbox Twilio Messages API that validates requests the way Twilio does.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (HTTP Basic `AccountSid:AuthToken`, form-encoded)
answers 201 with the message resource, or Twilio's `{"code", "message", "more_info", "status"}`: 20003 for
wrong credentials, 21604/21211 for a missing or invalid `To`, 21603/21212 for `From`, 21602/21617 for the
`Body`. `GET …/Messages/{Sid}.json` fetches one (20404 when unknown), `GET …/Messages.json` lists them,
newest first, filtered by `To`/`From`, paginated like Twilio (`page`, `page_size`, `next_page_uri`).
An accepted message goes `sent` then `delivered`, each posted to its `StatusCallback` signed with
`X-Twilio-Signature` as Twilio signs them (integrations.notify.twilio.twilio_signature).
Not Twilio, for tests and the demo: `GET /_sandbox/messages[?to=]`, `GET /_sandbox/callbacks` (the
callbacks posted and their answers) and `/_sandbox/faults` (see integrations.sandbox_kit). Messages live
in `store` too, and outlive a restart when it keeps a file; faults and callbacks do not.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from integrations.notify.twilio import API_VERSION, SIGNATURE_HEADER, twilio_signature
from integrations.sandbox_kit import FieldProblem, install_error_envelope, install_faults
from integrations.sandbox_store import SandboxStore

DEV_TWILIO_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEV_TWILIO_AUTH_TOKEN = "omniroute-dev-twilio-token"
_MESSAGES = "twilio.message"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_MAX_BODY = 1600
_SEGMENT = 160
_CALLBACK_TIMEOUT_SECONDS = 5.0


def twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


class _Refused(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.body = twilio_error(status, code, message)
        self.status = status


def _validate(form: dict[str, str]) -> None:
    to, sender, service, body = form.get("To"), form.get("From"), form.get("MessagingServiceSid"), form.get("Body")
    if not to:
        raise _Refused(400, 21604, "A 'To' phone number is required.")
    if not _E164.match(to):
        raise _Refused(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not sender and not service:
        raise _Refused(400, 21603, "A 'From' phone number is required.")
    if sender and not _E164.match(sender):
        raise _Refused(400, 21212, f"Invalid From Number (caller ID): {sender}")
    if service and not _SERVICE_SID.match(service):
        raise _Refused(400, 21701, f"The Messaging Service Sid {service} is invalid.")
    if not body:
        raise _Refused(400, 21602, "Message body is required.")
    if len(body) > _MAX_BODY:
        raise _Refused(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    callback = form.get("StatusCallback")
    if callback and not callback.startswith(("http://", "https://")):
        raise _Refused(400, 21609, f"Invalid StatusCallback URL: {callback}")


def read_form(body: bytes) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body (the last value of a repeated name wins)."""
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True).replace("GMT", "+0000")


def create_twilio_sandbox(account_sid: str = DEV_TWILIO_ACCOUNT_SID, auth_token: str = DEV_TWILIO_AUTH_TOKEN,
                          store: SandboxStore | None = None) -> FastAPI:
    """A FastAPI app speaking Twilio's Messages API for the one account `account_sid`/`auth_token`."""
    store = store or SandboxStore(None)
    lock = threading.Lock()
    messages: dict[str, dict[str, Any]] = dict(store.load(_MESSAGES))
    callbacks: list[dict[str, Any]] = []
    app = FastAPI(title="Twilio sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    install_faults(app, lambda status, message: twilio_error(status, 20429 if status == 429 else 20500, message))
    install_error_envelope(app, _framework_error, validation_status=400)
    base = f"/{API_VERSION}/Accounts/{{account}}/Messages"

    @app.exception_handler(_Refused)
    async def refused(_: Request, exc: _Refused) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status)

    def authorize(request: Request, account: str) -> None:
        scheme, _, encoded = (request.headers.get("authorization") or "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        if (scheme.lower() != "basic" or not secrets.compare_digest(user.encode(), account_sid.encode())
                or not secrets.compare_digest(password.encode(), auth_token.encode()) or account != account_sid):
            raise _Refused(401, 20003, "Authenticate")

    def resource(message: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in message.items() if key != "status_callback"}

    def save(message: dict[str, Any]) -> None:
        with lock:
            messages[message["sid"]] = message
            store.put(_MESSAGES, message["sid"], message)

    def progress(sid: str) -> None:
        """Sent, then delivered, each reported to the message's StatusCallback."""
        for status in ("sent", "delivered"):
            with lock:
                message = dict(messages[sid])
            message["status"] = status
            message["date_updated"] = _rfc2822(datetime.now(UTC))
            if status == "sent":
                message["date_sent"] = message["date_updated"]
            save(message)
            if message.get("status_callback"):
                post_callback(message)

    def post_callback(message: dict[str, Any]) -> None:
        url = message["status_callback"]
        params = {"MessageSid": message["sid"], "SmsSid": message["sid"], "AccountSid": account_sid,
                  "MessageStatus": message["status"], "SmsStatus": message["status"], "To": message["to"],
                  "From": message["from"] or "", "ApiVersion": API_VERSION}
        headers = {SIGNATURE_HEADER: twilio_signature(auth_token, url, params),
                   "I-Twilio-Idempotency-Token": secrets.token_hex(16),
                   "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1"}
        record: dict[str, Any] = {"url": url, "params": params, "signature": headers[SIGNATURE_HEADER]}
        try:
            record["status"] = httpx.post(url, content=urlencode(params), headers=headers,
                                          timeout=_CALLBACK_TIMEOUT_SECONDS).status_code
        except httpx.HTTPError as exc:
            record["error"] = repr(exc)
        with lock:
            callbacks.append(record)

    @app.post(base + ".json", status_code=201)
    async def create(request: Request, account: str) -> JSONResponse:
        authorize(request, account)
        form = read_form(await request.body())
        _validate(form)
        now = _rfc2822(datetime.now(UTC))
        sid = "SM" + secrets.token_hex(16)
        body = form["Body"]
        message: dict[str, Any] = {
            "sid": sid, "account_sid": account_sid, "messaging_service_sid": form.get("MessagingServiceSid"),
            "to": form["To"], "from": form.get("From"), "body": body, "status": "queued",
            "num_segments": str(max(1, -(-len(body) // _SEGMENT))), "num_media": "0", "direction": "outbound-api",
            "price": None, "price_unit": "USD", "error_code": None, "error_message": None,
            "date_created": now, "date_updated": now, "date_sent": None, "api_version": API_VERSION,
            "uri": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json", "subresource_uris": {},
            "status_callback": form.get("StatusCallback"),
        }
        save(message)
        return JSONResponse(resource(message), status_code=201, background=BackgroundTask(progress, sid))

    @app.get(base + "/{sid}.json")
    def fetch(request: Request, account: str, sid: str) -> dict[str, Any]:
        authorize(request, account)
        with lock:
            message = messages.get(sid)
        if message is None:
            raise _Refused(404, 20404, f"The requested resource {request.url.path} was not found")
        return resource(message)

    @app.get(base + ".json")
    def listing(request: Request, account: str) -> dict[str, Any]:
        authorize(request, account)
        query = request.query_params
        try:
            size, page = int(query.get("PageSize", "50")), int(query.get("Page", "0"))
        except ValueError as exc:
            raise _Refused(400, 20001, "PageSize and Page must be integers") from exc
        size = min(max(size, 1), 1000)
        with lock:
            chosen = [resource(m) for m in reversed(messages.values())
                      if query.get("To") in (None, m["to"]) and query.get("From") in (None, m["from"])]
        shown = chosen[page * size:(page + 1) * size]
        path = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        filters = {k: v for k, v in query.items() if k in ("To", "From")}

        def uri(number: int) -> str:
            return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': number})}"

        has_next = len(chosen) > (page + 1) * size
        return {"messages": shown, "page": page, "page_size": size, "start": page * size,
                "end": page * size + max(len(shown) - 1, 0), "uri": uri(page), "first_page_uri": uri(0),
                "next_page_uri": uri(page + 1) if has_next else None,
                "previous_page_uri": uri(page - 1) if page > 0 else None}

    @app.get("/_sandbox/messages", include_in_schema=False)
    def received(to: str | None = None) -> list[dict[str, Any]]:
        with lock:
            return [dict(m) for m in messages.values() if to is None or m["to"] == to]

    @app.get("/_sandbox/callbacks", include_in_schema=False)
    def posted() -> list[dict[str, Any]]:
        with lock:
            return list(callbacks)

    return app


def _framework_error(status: int, message: str, problems: list[FieldProblem]) -> dict[str, Any]:
    if problems:
        field, problem = problems[0]
        return twilio_error(status, 20001, f"{field}: {problem}")
    return twilio_error(status, 20404 if status == 404 else 20001, message)
