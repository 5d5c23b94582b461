"""A sandbox SendGrid Mail Send endpoint that validates bodies the way SendGrid does.

`POST /v3/mail/send` answers 202 with `X-Message-Id`, 400 with `{"errors": [...]}` naming each
invalid field, 401 for a wrong key. A `template_id` stands in for the subject and content (the
template carries them), with `dynamic_template_data` per personalization. With
`mail_settings.sandbox_mode.enable: true` the body is validated and answered `200` with nothing sent,
as SendGrid does. Accepted mail makes Event Webhook events (integrations.notify.sandbox_events).
Every refusal, FastAPI's own included (unknown path, wrong method), comes in SendGrid's envelope.
Not SendGrid, for tests and the demo: `GET /_sandbox/messages[?to=]` (delivered mail only),
`GET /_sandbox/stats`, `/_sandbox/bounces` and `/_sandbox/faults` (see integrations.sandbox_kit).
Received messages outlive a restart when the sandbox is given a file store
(integrations.sandbox_store); the counters, webhook settings and bounces do not.
"""

from __future__ import annotations

import re
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from integrations.notify.sandbox_events import EventDesk
from integrations.sandbox_kit import FieldProblem, install_error_envelope, install_faults
from integrations.sandbox_store import SandboxStore

_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message."
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_CATEGORIES = 10
# Dynamic templates are `d-` and 32 hex digits; legacy templates are plain GUIDs.
_TEMPLATE_ID = re.compile(r"^(d-[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$", re.IGNORECASE)
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
    has_subject = isinstance(body.get("subject"), str) and bool(body["subject"])
    if not has_subject and not every_personalization_has_subject and "template_id" not in body:
        errors.append(_error("The subject is required. You can get around this requirement if you use a template "
                             "with a subject defined or if every personalization has a subject defined.",
                             "subject", "subject"))
    errors.extend(_template_errors(body, personalizations))
    errors.extend(_content_errors(body))
    errors.extend(_category_and_arg_errors(body))
    return errors


def _template_errors(body: dict[str, Any], personalizations: list[Any]) -> list[dict[str, Any]]:
    errors = []
    template_id = body.get("template_id")
    if "template_id" in body and (not isinstance(template_id, str) or not _TEMPLATE_ID.match(template_id)):
        errors.append(_error(f"The template_id must be a valid GUID, you provided '{template_id}'.",
                             "template_id", "template_id"))
    dynamic = isinstance(template_id, str) and template_id.startswith("d-")
    for i, personalization in enumerate(personalizations):
        if not isinstance(personalization, dict):
            continue
        data = personalization.get("dynamic_template_data")
        if data is not None and not isinstance(data, dict):
            errors.append(_error("The dynamic_template_data must be an object.",
                                 f"personalizations.{i}.dynamic_template_data",
                                 "personalizations.dynamic_template_data"))
        if dynamic and personalization.get("substitutions"):
            errors.append(_error("Substitutions may not be used with dynamic templating",
                                 f"personalizations.{i}.substitutions", "personalizations.substitutions"))
    return errors


def _sandbox_mode(body: dict[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
    """Whether `mail_settings.sandbox_mode.enable` is on, and the error when it is not a boolean."""
    settings = body.get("mail_settings")
    mode = settings.get("sandbox_mode") if isinstance(settings, dict) else None
    if not isinstance(mode, dict) or "enable" not in mode:
        return False, []
    if not isinstance(mode["enable"], bool):
        return False, [_error("The sandbox mode enable param should be a boolean value.",
                              "mail_settings.sandbox_mode.enable", "mail_settings.sandbox_mode.enable")]
    return mode["enable"], []


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
    html = next((c["value"] for c in content if c.get("type") == "text/html"), None)
    first = body["personalizations"][0]
    return {
        "message_id": message_id,
        "to": recipients[0]["email"],
        "to_name": recipients[0].get("name"),
        "recipients": [r["email"] for r in recipients],
        "from": body["from"]["email"],
        "subject": first.get("subject") or body.get("subject"),
        "text": text if text is not None else (content[0]["value"] if content else None),
        "html": html,
        "template_id": body.get("template_id"),
        "dynamic_template_data": {r["email"]: p.get("dynamic_template_data") or {}
                                  for p in body["personalizations"] for r in p["to"]},
        "categories": list(body.get("categories") or []),
        "custom_args": {**(body.get("custom_args") or {}), **(first.get("custom_args") or {})},
        "received_at": datetime.now(UTC).isoformat(),
    }


class _Unauthorized(Exception):
    pass


def create_sendgrid_sandbox(api_key: str, store: SandboxStore | None = None, *,
                            event_signing_key: ec.EllipticCurvePrivateKey | None = None) -> FastAPI:
    """A FastAPI app speaking SendGrid's Mail Send wire format, accepting only `Bearer api_key`.
    The messages it received live in memory, and in `store` when it keeps a file (faults do not).
    Event Webhook posts are signed with `event_signing_key` (a new P-256 key when not given)."""
    store = store or SandboxStore(None)
    lock = threading.Lock()
    messages: list[dict[str, Any]] = [message for _, message in store.load(_MESSAGES)]
    stats = {"accepted": len(messages), "sandbox_mode": 0}
    events = EventDesk(event_signing_key)
    app = FastAPI(title="SendGrid sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    install_faults(app, lambda status, message: errors_body([_error(message, None)]))
    install_error_envelope(app, _framework_error, validation_status=400)

    @app.exception_handler(_Unauthorized)
    async def unauthorized(_: Request, __: _Unauthorized) -> JSONResponse:
        return JSONResponse(errors_body([_error("The provided authorization grant is invalid, expired, "
                                                "or revoked", None)]), status_code=401)

    def authorized(request: Request) -> None:
        scheme, _, key = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(key.strip().encode(), api_key.encode()):
            raise _Unauthorized

    api = APIRouter(dependencies=[Depends(authorized)])

    @api.post("/v3/mail/send", status_code=202)
    async def mail_send(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse(errors_body([_error("Bad Request", None)]), status_code=400)
        sandbox_mode, mode_errors = _sandbox_mode(body)
        errors = validate_mail(body) + mode_errors
        if errors:
            return JSONResponse(errors_body(errors), status_code=400)
        if sandbox_mode:  # validated, never delivered, no events: SendGrid answers 200 with no body
            with lock:
                stats["sandbox_mode"] += 1
            return Response(status_code=200)
        message_id = secrets.token_urlsafe(16)[:22]
        message = _received(message_id, body)
        fates = events.fates(message["recipients"])
        message["outcomes"] = fates
        with lock:
            store.put(_MESSAGES, message_id, message)
            messages.append(message)
            stats["accepted"] += 1
        return Response(status_code=202, headers={"X-Message-Id": message_id},
                        background=BackgroundTask(events.post, events.events(message, fates)))

    api.include_router(events.router())
    app.include_router(api)
    app.include_router(events.controls())

    @app.get("/_sandbox/messages", include_in_schema=False)
    def received_messages(to: str | None = None) -> list[dict[str, Any]]:
        with lock:
            return [dict(m) for m in messages if to is None or to in m["recipients"]]

    @app.get("/_sandbox/stats", include_in_schema=False)
    def counters() -> dict[str, int]:
        with lock:
            return {**stats, **events.stats()}

    return app


def _framework_error(status: int, message: str, problems: list[FieldProblem]) -> dict[str, Any]:
    if problems:
        return errors_body([_error(problem, field) for field, problem in problems])
    text = {404: "resource not found", 405: "method not allowed"}.get(status, message)
    return errors_body([_error(text, None)])
