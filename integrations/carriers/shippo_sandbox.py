"""A sandbox Shippo: shipments with rates, label purchases, refunds, tracks and webhooks, in Shippo's
wire format (mounted at `/shippo` in the combined sandbox app).

Shippo paths: `POST /shipments`, `GET /shipments/{id}`, `POST|GET /transactions`, `GET /transactions/{id}`,
`POST|GET /refunds`, `GET /refunds/{id}`, `POST /tracks`, `GET /tracks/{carrier}/{tracking_number}`,
`POST /addresses` (with `validate: true`), `POST|GET /webhooks`, `GET|DELETE /webhooks/{id}`.
Auth is `Authorization: ShippoToken <token>`. Lists page with `page` and `results`.

Not Shippo, for tests and the demo: `/_sandbox/faults` (integrations.sandbox_kit), `POST|GET
/_sandbox/knobs` (see shippo_sandbox_state.Knobs: purchases that stay QUEUED for n reads, a purchase
made whose answer is then dropped, failing purchases, refund polls), `POST
/_sandbox/tracks/{carrier}/{tracking_number}/advance` (`{"status"?, "details"?}`: the carrier's next scan,
sent as a signed `track_updated` webhook), `GET /_sandbox/labels[?reference=]`, `GET /_sandbox/stats`.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations.carriers.shippo_sandbox_state import Knobs, ShippoSandboxState
from integrations.carriers.shippo_sandbox_webhooks import WebhookSender
from integrations.carriers.shippo_sandbox_wire import ShippoApiError, address, page_of
from integrations.sandbox_kit import install_faults
from integrations.sandbox_store import SandboxStore

DEV_SHIPPO_KEY = "shippo_test_omniroute_sandbox"
DEV_SHIPPO_WEBHOOK_SECRET = "omniroute-dev-shippo-webhooks"
_MAX_RESULTS = 100


class _DropPurchaseAnswers:
    """Lets a purchase (`POST .../transactions`) happen, then drops its answer when the knob says so:
    the client sees the connection close after the headers, as when a network fails mid-answer."""

    def __init__(self, app: ASGIApp, state: ShippoSandboxState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("/transactions")
                or not self.state.knobs.drop_next_purchase_answers):
            await self.app(scope, receive, send)
            return
        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        await self.app(scope, receive, keep)
        start = next((m for m in answer if m["type"] == "http.response.start"), None)
        if start is None or start["status"] >= 300 or not self.state.take_dropped_answer():
            for message in answer:
                await send(message)
            return
        # The purchase is made; start the answer and stop mid-body: the server then cuts the connection.
        await send(start)
        await send({"type": "http.response.body", "body": b"{", "more_body": True})


def create_shippo_sandbox(api_key: str = DEV_SHIPPO_KEY, store: SandboxStore | None = None, *,
                          webhook_secret: str = DEV_SHIPPO_WEBHOOK_SECRET) -> FastAPI:
    """A FastAPI app speaking Shippo's wire format, accepting only `api_key`, signing its webhooks with
    `webhook_secret`. Its objects live in memory and in `store` when it keeps a file (knobs, faults and
    undelivered webhooks do not)."""
    state = ShippoSandboxState(store)
    sender = WebhookSender(webhook_secret, state.webhooks)
    app = FastAPI(title="Shippo sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    install_faults(app, lambda status, message: {
        "detail": "Request was throttled. Expected available in 60 seconds." if status == 429 else message})
    app.add_middleware(_DropPurchaseAnswers, state=state)

    @app.exception_handler(ShippoApiError)
    async def shippo_error(_: Request, exc: ShippoApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status)

    def authorized(request: Request) -> None:
        scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
        if scheme.lower() != "shippotoken" or not token.strip():
            raise ShippoApiError(401, {"detail": "Authentication credentials were not provided."})
        if not secrets.compare_digest(token.strip().encode(), api_key.encode()):
            raise ShippoApiError(401, {"detail": "Invalid token."})

    api = APIRouter(dependencies=[Depends(authorized)])

    @api.post("/shipments", status_code=201)
    async def create_shipment(request: Request) -> dict[str, Any]:
        return state.create_shipment(await _body(request))

    @api.get("/shipments/{shipment_id}")
    def get_shipment(shipment_id: str) -> dict[str, Any]:
        return state.shipment(shipment_id)

    @api.post("/transactions", status_code=201)
    async def create_transaction(request: Request) -> dict[str, Any]:
        transaction, events = state.buy(await _body(request))
        sender.emit(events)
        return transaction

    @api.get("/transactions")
    def list_transactions(request: Request) -> dict[str, Any]:
        return _page(request, state.transactions(dict(request.query_params)))

    @api.get("/transactions/{transaction_id}")
    def get_transaction(transaction_id: str) -> dict[str, Any]:
        transaction, events = state.transaction(transaction_id)
        sender.emit(events)
        return transaction

    @api.post("/refunds", status_code=201)
    async def create_refund(request: Request) -> dict[str, Any]:
        refund, events = state.refund(await _body(request))
        sender.emit(events)
        return refund

    @api.get("/refunds")
    @api.get("/refunds/", include_in_schema=False)
    def list_refunds(request: Request) -> dict[str, Any]:
        return _page(request, state.refunds())

    @api.get("/refunds/{refund_id}")
    def get_refund(refund_id: str) -> dict[str, Any]:
        refund, events = state.get_refund(refund_id)
        sender.emit(events)
        return refund

    @api.post("/tracks")
    async def register_track(request: Request) -> dict[str, Any]:
        body = await _body(request)
        carrier, number = body.get("carrier"), body.get("tracking_number")
        for name, value in (("carrier", carrier), ("tracking_number", number)):
            if not isinstance(value, str) or not value:
                raise ShippoApiError(400, {name: ["This field is required."]})
        metadata = body.get("metadata")
        return state.track(str(carrier), str(number), metadata if isinstance(metadata, str) else "")

    @api.get("/tracks/{carrier}/{tracking_number}")
    def get_track(carrier: str, tracking_number: str) -> dict[str, Any]:
        return state.track(carrier, tracking_number)

    @api.post("/addresses", status_code=201)
    async def create_address(request: Request) -> dict[str, Any]:
        return _checked_address(await _body(request))

    @api.post("/webhooks", status_code=201)
    async def create_webhook(request: Request) -> dict[str, Any]:
        return state.add_webhook(await _body(request))

    @api.get("/webhooks")
    def list_webhooks() -> dict[str, Any]:
        return {"next": None, "previous": None, "results": state.webhooks()}

    @api.get("/webhooks/{webhook_id}")
    def get_webhook(webhook_id: str) -> dict[str, Any]:
        return next((w for w in state.webhooks() if w["object_id"] == webhook_id), None) or _raise_not_found()

    @api.delete("/webhooks/{webhook_id}", status_code=204)
    def delete_webhook(webhook_id: str) -> Response:
        state.remove_webhook(webhook_id)
        return Response(status_code=204)

    app.include_router(api)

    @app.post("/_sandbox/knobs", include_in_schema=False)
    async def set_knobs(request: Request) -> dict[str, Any]:
        changes = await _body(request)
        unknown = sorted(set(changes) - set(Knobs.model_fields))
        if unknown:
            raise ShippoApiError(400, {unknown[0]: ["Unknown knob."]})
        try:
            return state.set_knobs(changes).model_dump()
        except ValueError as exc:
            raise ShippoApiError(400, {"detail": str(exc)}) from exc

    @app.get("/_sandbox/knobs", include_in_schema=False)
    def get_knobs() -> dict[str, Any]:
        return state.knobs.model_dump()

    @app.post("/_sandbox/tracks/{carrier}/{tracking_number}/advance", include_in_schema=False)
    async def advance(carrier: str, tracking_number: str, request: Request) -> dict[str, Any]:
        body = await _body(request)
        status, details = body.get("status"), body.get("details")
        sender.emit(state.advance_track(carrier, tracking_number, status if isinstance(status, str) else None,
                                        details if isinstance(details, str) else None))
        return state.track(carrier, tracking_number)

    @app.get("/_sandbox/labels", include_in_schema=False)
    def labels(reference: str | None = None) -> list[dict[str, Any]]:
        return state.labels(reference)

    @app.get("/_sandbox/stats", include_in_schema=False)
    def stats() -> dict[str, int]:
        return {**state.stats, **sender.stats}

    return app


def _raise_not_found() -> dict[str, Any]:
    raise ShippoApiError(404, {"detail": "Not found."})


def _checked_address(body: dict[str, Any]) -> dict[str, Any]:
    """Shippo's legacy address check: an Address object whose validation_results say whether it is
    deliverable. The sandbox calls an address valid when it is complete and its street starts with a
    house number."""
    errors: dict[str, Any] = {}
    checked = address(body, "address", errors)
    if not checked.get("country"):
        raise ShippoApiError(400, {"country": ["This field is required."]})
    if body.get("validate") is True:
        street = str(checked.get("street1") or "")
        complete, numbered = not errors, street[:1].isdigit()
        messages = [] if complete and numbered else [{
            "source": "Shippo Address Validator", "code": "Unknown Street" if complete else "Incomplete Address",
            "type": "address_error",
            "text": "The address as submitted could not be found." if complete else "The address is incomplete."}]
        checked["validation_results"] = {"is_valid": complete and numbered, "messages": messages}
    return checked


def _page(request: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
    numbers: dict[str, int] = {}
    for name, default, largest in (("page", 1, None), ("results", 25, _MAX_RESULTS)):
        raw = request.query_params.get(name, str(default))
        if not raw.isdigit() or int(raw) < 1 or (largest is not None and int(raw) > largest):
            limit = f" and at most {largest}" if largest else ""
            raise ShippoApiError(400, {name: [f"Must be a whole number of at least 1{limit}."]})
        numbers[name] = int(raw)
    page = numbers["page"]
    next_url = str(request.url.include_query_params(page=page + 1))
    previous_url = str(request.url.include_query_params(page=page - 1))
    return page_of(items, page, numbers["results"], next_url, previous_url)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict((await request.form()).items())
    try:
        body = await request.json()
    except ValueError as exc:
        raise ShippoApiError(400, {"detail": "JSON parse error."}) from exc
    if not isinstance(body, dict):
        raise ShippoApiError(400, {"detail": "Expected a JSON object."})
    return body

