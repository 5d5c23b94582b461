"""A sandbox SendGrid Mail Send endpoint that validates bodies the way SendGrid does.

`POST /v3/mail/send` answers 202 with `X-Message-Id`, 400 with `{"errors": [...]}` naming each
invalid field, 401 for a wrong key. Not SendGrid, for tests and the demo:
`GET /_sandbox/messages[?to=]` and `/_sandbox/faults` (see integrations.sandbox_kit). Received
messages outlive a restart when the sandbox is given a file store (integrations.sandbox_store).
"""

from __future__ import annotations

import re
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from integrations.sandbox_kit import install_faults
from integrations.sandbox_store import SandboxStore

_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message."
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_CATEGORIES = 10
_MESSAGES = "sendgrid.message"


def _error(message: str, field: str | None, help_anchor: str | None = None) -> dict[str, Any]:
    return {"message": message, "field": field, "help": _HELP + help_anchor if help_anchor else None}


def errors_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"errors": errors}


def validate_mail(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every problem SendGrid would report for this Mail Send body (empty when it is acceptable)."""
    errors: list[dict[str, Any]] = []
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        errors.append(_error("The personalizations field is required and must have at least one personalization.",
                             "personalizations", "personalizations"))
        personalizations = []
    for i, personalization in enumerate(personalizations):
        to = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(to, list) or not to:
            errors.append(_error("The to array is required for all personalization objects, and must have at "
                                 "least one email object with a valid email address.",
                                 f"personalizations.{i}.to", "personalizations.to"))
            continue
        for j, recipient in enumerate(to):
            email = recipient.get("email") if isinstance(recipient, dict) else None
            if not isinstance(email, str) or not _EMAIL.match(email):
                errors.append(_error("Does not contain a valid address.",
                                     f"personalizations.{i}.to.{j}.email", "personalizations.to"))
    sender = body.get("from")
    if not isinstance(sender, dict):
        errors.append(_error("The from object must be provided for every email send. It is an object that "
                             "requires the email parameter, but may also contain a name parameter.", "from", "from"))
    elif not isinstance(sender.get("email"), str) or not _EMAIL.match(sender["email"]):
        errors.append(_error("The from email does not contain a valid address.", "from.email", "from"))
    every_personalization_has_subject = bool(personalizations) and all(
        isinstance(p, dict) and isinstance(p.get("subject"), str) and p["subject"] for p in personalizations)
    if not (isinstance(body.get("subject"), str) and body["subject"]) and not every_personalization_has_subject:
        errors.append(_error("The subject is required. You can get around this requirement if you use a template "
                             "with a subject defined or if every personalization has a subject defined.",
                             "subject", "subject"))
    errors.extend(_content_errors(body))
    errors.extend(_category_and_arg_errors(body))
    return errors


def _content_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    content = body.get("content")
    if body.get("template_id") and content is None:
        return []
    if not isinstance(content, list) or not content:
        return [_error("Unless a valid template_id is provided, the content parameter is required. There must be "
                       "at least one defined content block.", "content", "content")]
    errors = []
    for i, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str) or not part["type"]:
            errors.append(_error("The content type cannot be blank.", f"content.{i}.type", "content.type"))
        elif not isinstance(part.get("value"), str) or not part["value"]:
            errors.append(_error("The content value must be a string at least one character in length.",
                                 f"content.{i}.value", "content.value"))
    return errors


def _category_and_arg_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors = []
    categories = body.get("categories")
    if categories is not None and (
        not isinstance(categories, list) or len(categories) > _MAX_CATEGORIES
        or not all(isinstance(c, str) and 0 < len(c) <= 255 for c in categories)
    ):
        errors.append(_error(f"The categories parameter must be an array of at most {_MAX_CATEGORIES} strings "
                             "of 1 to 255 characters.", "categories", "categories"))
    custom_args = body.get("custom_args")
    if custom_args is not None and (
        not isinstance(custom_args, dict) or not all(isinstance(v, str) for v in custom_args.values())
    ):
        errors.append(_error("The custom_args parameter must be an object whose values are strings.",
                             "custom_args", "custom_args"))
    return errors


def _received(message_id: str, body: dict[str, Any]) -> dict[str, Any]:
    recipients = [r for p in body["personalizations"] for r in p["to"]]
    content = body.get("content") or []
    text = next((c["value"] for c in content if c.get("type") == "text/plain"), None)
    first = body["personalizations"][0]
    return {
        "message_id": message_id,
        "to": recipients[0]["email"],
        "to_name": recipients[0].get("name"),
        "recipients": [r["email"] for r in recipients],
        "from": body["from"]["email"],
        "subject": first.get("subject") or body.get("subject"),
        "text": text if text is not None else (content[0]["value"] if content else None),
        "categories": list(body.get("categories") or []),
        "custom_args": {**(body.get("custom_args") or {}), **(first.get("custom_args") or {})},
        "received_at": datetime.now(UTC).isoformat(),
    }


def create_sendgrid_sandbox(api_key: str, store: SandboxStore | None = None) -> FastAPI:
    """A FastAPI app speaking SendGrid's Mail Send wire format, accepting only `Bearer api_key`.
    The messages it received live in memory, and in `store` when it keeps a file (faults do not)."""
    store = store or SandboxStore(None)
    lock = threading.Lock()
    messages: list[dict[str, Any]] = [message for _, message in store.load(_MESSAGES)]
    app = FastAPI(title="SendGrid sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    install_faults(app, lambda status, message: errors_body([_error(message, None)]))

    @app.post("/v3/mail/send", status_code=202)
    async def mail_send(request: Request) -> Response:
        scheme, _, key = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(key.strip().encode(), api_key.encode()):
            return JSONResponse(errors_body([_error("The provided authorization grant is invalid, expired, "
                                                    "or revoked", None)]), status_code=401)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse(errors_body([_error("Bad Request", None)]), status_code=400)
        errors = validate_mail(body)
        if errors:
            return JSONResponse(errors_body(errors), status_code=400)
        message_id = secrets.token_urlsafe(16)[:22]
        message = _received(message_id, body)
        with lock:
            store.put(_MESSAGES, message_id, message)
            messages.append(message)
        return Response(status_code=202, headers={"X-Message-Id": message_id})

    @app.get("/_sandbox/messages", include_in_schema=False)
    def received_messages(to: str | None = None) -> list[dict[str, Any]]:
        with lock:
            return [dict(m) for m in messages if to is None or to in m["recipients"]]

    return app
