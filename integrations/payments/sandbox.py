"""A sandbox Stripe: PaymentIntents with manual capture, refunds, signed webhooks, in Stripe's wire format.

Paths (mount the app under `/stripe`; the SDK and our client call `{base}/v1/...`):
`POST /v1/payment_intents`, `GET /v1/payment_intents[?limit]`, `GET /v1/payment_intents/search?query=`
(`metadata['k']:'v'`, `status:'...'`, `currency:'...'`, `amount:n`, joined by ` AND `),
`GET /v1/payment_intents/{id}`, `POST /v1/payment_intents/{id}/confirm|capture|cancel`,
`POST /v1/refunds`, `GET /v1/refunds[?payment_intent=]`, `GET /v1/refunds/{id}`, `GET /v1/charges/{id}`.
Bodies are form-encoded with bracketed keys; `Authorization: Bearer <key>`; POSTs honour
`Idempotency-Key` (a replay answers the same with `Idempotent-Replayed: true`; the key reused for
other parameters is a 400 `idempotency_error`). Not Stripe, for tests and the demo:
`/_sandbox/webhook_endpoints` (see sandbox_webhooks), `POST /_sandbox/payment_intents/{id}/expire`
(the authorisation lapses now, as Stripe's 7-day hold does: `canceled`, `cancellation_reason=automatic`),
`GET /_sandbox/stats`, `/_sandbox/faults` (integrations.sandbox_kit).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from integrations.payments.sandbox_cards import StripeApiError, integer_param, invalid
from integrations.payments.sandbox_state import Events, StripeSandboxState, new_id
from integrations.payments.sandbox_webhooks import IdempotencyBook, WebhookEndpointIn, WebhookOut
from integrations.payments.wire import FormError, decode_form
from integrations.sandbox_kit import install_faults, presented_api_key
from integrations.sandbox_store import SandboxStore

SANDBOX_API_VERSION = "2026-10-28.endive"
# The secret key the sandbox accepts by default (settings.DEV_STRIPE_KEY is the same text: config may not
# import integrations).
DEV_STRIPE_KEY = "sk_test_omniroute_sandbox"
_CLAUSE = re.compile(r"""^(?:metadata\[['"]([^'"]+)['"]\]|(status|currency|amount))\s*:\s*"""
                     r"""(?:['"]([^'"]*)['"]|(\d+))$""")
Handler = Callable[[dict[str, Any]], tuple[dict[str, Any], Events]]


def _fault_body(status: int, message: str) -> dict[str, object]:
    if status == 429:
        return {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": message}}
    return {"error": {"type": "api_error", "message": message}}


def create_stripe_sandbox(api_key: str, store: SandboxStore | None = None, *,
                          api_version: str = SANDBOX_API_VERSION) -> FastAPI:
    """A FastAPI app speaking Stripe's v1 wire format, accepting only `api_key` (Bearer or Basic).
    PaymentIntents, charges, refunds and idempotent answers live in memory, and in `store` when it
    keeps a file; webhook endpoints and faults do not."""
    store = store or SandboxStore(None)
    state = StripeSandboxState(store)
    book = IdempotencyBook(store)
    webhooks = WebhookOut(api_version)
    app = FastAPI(title="Stripe sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    install_faults(app, _fault_body)

    @app.exception_handler(StripeApiError)
    async def stripe_error(request: Request, exc: StripeApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=_headers(request))

    def _headers(request: Request, request_id: str | None = None) -> dict[str, str]:
        return {"Request-Id": request_id or new_id("req"),
                "Stripe-Version": request.headers.get("stripe-version") or api_version}

    def authorized(request: Request) -> None:
        key = presented_api_key(request.headers.get("authorization"))
        if key is None:
            raise StripeApiError(401, "invalid_request_error", "You did not provide an API key. Provide it in "
                                 "the Authorization header, using Bearer auth.", saved=False)
        if not secrets.compare_digest(key.encode(), api_key.encode()):
            raise StripeApiError(401, "invalid_request_error",
                                 f"Invalid API Key provided: {key[:8]}****{key[-4:]}", saved=False)

    async def run(request: Request, handler: Handler) -> JSONResponse:
        """Run a POST with Stripe's idempotency: replay a kept answer, refuse a reused key, keep this one."""
        try:
            params = decode_form(await request.body())
        except (FormError, UnicodeDecodeError) as exc:
            raise invalid(str(exc), param=getattr(exc, "param", None)) from exc
        key = request.headers.get("idempotency-key")
        fingerprint = book.fingerprint(request.method, request.url.path, params)
        request_id = new_id("req")
        if key:
            try:
                saved = book.begin(key, fingerprint)
            except LookupError as exc:
                if str(exc) == "in_use":
                    raise StripeApiError(409, "idempotency_error", "There is currently another in-progress "
                                         "request using this Stripe token or Idempotency Key.",
                                         code="idempotency_key_in_use", saved=False) from exc
                raise StripeApiError(400, "idempotency_error", "Keys for idempotent requests can only be used "
                                     "with the same parameters they were first used with. Try using a key other "
                                     f"than '{key}' if you meant to execute a different request.",
                                     saved=False) from exc
            if saved is not None:
                headers = {**_headers(request), "Idempotent-Replayed": "true",
                           "Original-Request": saved["request_id"]}
                return JSONResponse(saved["body"], status_code=saved["status"], headers=headers)
        answer: tuple[int, dict[str, Any], str] | None = None
        try:
            try:
                body, events = handler(params)
                status = 200
            except StripeApiError as exc:
                if exc.saved:
                    answer = (exc.status, exc.body(), request_id)
                for event_type, obj in exc.events:
                    webhooks.emit(event_type, obj, request_id=request_id, idempotency_key=key)
                raise
            answer = (status, body, request_id)
            for event_type, obj in events:
                webhooks.emit(event_type, obj, request_id=request_id, idempotency_key=key)
            return JSONResponse(body, status_code=status, headers=_headers(request, request_id))
        finally:
            if key:
                book.finish(key, fingerprint, answer)

    api = APIRouter(prefix="/v1", dependencies=[Depends(authorized)])

    @api.post("/payment_intents")
    async def create_intent(request: Request) -> JSONResponse:
        return await run(request, state.create_intent)

    @api.get("/payment_intents")
    def list_intents(request: Request) -> dict[str, Any]:
        limit = _limit(request)
        return _list("/v1/payment_intents", state.list_intents(limit + 1), limit)

    @api.get("/payment_intents/search")
    def search_intents(request: Request) -> dict[str, Any]:
        query = request.query_params.get("query")
        if not query:
            raise invalid("Missing required param: query.", param="query", code="parameter_missing")
        matches = _matcher(query)
        found = sorted((i for i in state.all_intents() if matches(i)), key=lambda i: i["created"], reverse=True)
        limit = _limit(request)
        offset = integer_param(dict(request.query_params), "page", minimum=0) or 0
        page = found[offset:offset + limit]
        more = offset + limit < len(found)
        return {"object": "search_result", "url": "/v1/payment_intents/search", "data": page, "has_more": more,
                "next_page": str(offset + limit) if more else None, "total_count": len(found)}

    @api.get("/payment_intents/{intent_id}")
    def get_intent(intent_id: str) -> dict[str, Any]:
        return state.get_intent(intent_id)

    @api.post("/payment_intents/{intent_id}/confirm")
    async def confirm(intent_id: str, request: Request) -> JSONResponse:
        return await run(request, lambda params: state.confirm_intent(intent_id, params))

    @api.post("/payment_intents/{intent_id}/capture")
    async def capture(intent_id: str, request: Request) -> JSONResponse:
        return await run(request, lambda params: state.capture(intent_id, params))

    @api.post("/payment_intents/{intent_id}/cancel")
    async def cancel(intent_id: str, request: Request) -> JSONResponse:
        return await run(request, lambda params: state.cancel(intent_id, params))

    @api.post("/refunds")
    async def create_refund(request: Request) -> JSONResponse:
        return await run(request, state.refund)

    @api.get("/refunds")
    def list_refunds(request: Request) -> dict[str, Any]:
        limit = _limit(request)
        found = state.list_refunds(request.query_params.get("payment_intent"), limit + 1)
        return _list("/v1/refunds", found, limit)

    @api.get("/refunds/{refund_id}")
    def get_refund(refund_id: str) -> dict[str, Any]:
        return state.get_refund(refund_id)

    @api.get("/charges/{charge_id}")
    def get_charge(charge_id: str) -> dict[str, Any]:
        return state.get_charge(charge_id)

    app.include_router(api)

    @app.post("/_sandbox/webhook_endpoints", include_in_schema=False)
    def register_webhook(endpoint: WebhookEndpointIn) -> dict[str, Any]:
        return webhooks.register(endpoint)

    @app.delete("/_sandbox/webhook_endpoints/{endpoint_id}", include_in_schema=False)
    def remove_webhook(endpoint_id: str) -> dict[str, Any]:
        return {"id": endpoint_id, "deleted": webhooks.remove(endpoint_id)}

    @app.post("/_sandbox/payment_intents/{intent_id}/expire", include_in_schema=False)
    def expire(intent_id: str) -> dict[str, Any]:
        """The authorisation lapses now (Stripe cancels an uncaptured PaymentIntent after 7 days)."""
        intent = state.get_intent(intent_id)
        if intent["status"] != "requires_capture":
            raise invalid(f"Only an authorised PaymentIntent expires; this one is {intent['status']}.")
        body, events = state.cancel(intent_id, {}, reason="automatic")
        for event_type, obj in events:
            webhooks.emit(event_type, obj, request_id=None, idempotency_key=None)
        return body

    @app.get("/_sandbox/stats", include_in_schema=False)
    def stats() -> dict[str, int]:
        return dict(webhooks.stats)

    return app


def _limit(request: Request) -> int:
    limit = integer_param(dict(request.query_params), "limit") or 10
    if limit > 100:
        raise invalid("This value must be less than or equal to 100.", param="limit")
    return limit


def _list(url: str, items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    return {"object": "list", "url": url, "data": items[:limit], "has_more": len(items) > limit}


def _matcher(query: str) -> Callable[[dict[str, Any]], bool]:
    """Stripe's search language, the part the sandbox knows: clauses joined by AND."""
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for clause in query.split(" AND "):
        match = _CLAUSE.match(clause.strip())
        if match is None:
            raise invalid(f"We were unable to parse your search query. Unsupported clause: {clause.strip()!r}",
                          param="query")
        meta_key, field, text, number = match.groups()
        value = text if text is not None else number
        tests.append(_metadata_test(meta_key, value) if meta_key is not None else _field_test(field, value))
    return lambda intent: all(test(intent) for test in tests)


def _metadata_test(key: str, value: str) -> Callable[[dict[str, Any]], bool]:
    return lambda intent: bool(intent["metadata"].get(key) == value)


def _field_test(name: str, value: str) -> Callable[[dict[str, Any]], bool]:
    return lambda intent: str(intent[name]) == value
