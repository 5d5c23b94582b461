"""A sandbox EasyPost: shipments with rates, label purchase, refunds, in EasyPost's wire format.

Paths (mount the app under `/v2` or anywhere): `POST /shipments`, `GET /shipments/{id}`,
`POST /shipments/{id}/buy`, `POST /shipments/{id}/refund` (`submitted`, then `refunded` or `rejected`, see
integrations.carriers.sandbox_refunds), `POST /shipments/{id}/rerate`; trackers and
event webhooks (`POST /trackers`, `GET /trackers/{id}`, `POST|GET /webhooks`, `DELETE /webhooks/{id}`,
see integrations.carriers.sandbox_trackers). Not EasyPost, for tests and the demo:
`GET /_sandbox/labels[?reference=]`, `GET /_sandbox/stats`, `/_sandbox/faults` (see
integrations.sandbox_kit), `/_sandbox/refunds`, `/_sandbox/tracking` and
`/_sandbox/trackers/{tracking_code}/advance`. Every refusal, FastAPI's own included (unknown path,
wrong method), comes in EasyPost's `{"error": {"code", "message", "errors"}}` envelope.
Shipments and trackers outlive a restart when the sandbox is given a file store
(integrations.sandbox_store).
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from integrations.carriers.sandbox_errors import (
    EasyPostApiError,
    error_envelope,
    field_error,
    new_id,
    validated_shipment,
)
from integrations.carriers.sandbox_rates import quotes
from integrations.carriers.sandbox_refunds import PENDING_KEY, RefundDesk, RefundPlan, refund_controls
from integrations.carriers.sandbox_tracker_routes import tracker_api, tracker_controls
from integrations.carriers.sandbox_trackers import TrackerBook, TrackingPlan, WebhookIn
from integrations.sandbox_kit import FieldProblem, install_error_envelope, install_faults, presented_api_key
from integrations.sandbox_store import SandboxStore

_CARRIER_ACCOUNTS = {"USPS": "ca_usps0sandbox", "UPS": "ca_ups0sandbox", "FedEx": "ca_fedex0sandbox"}
_SHIPMENTS, _COUNTERS = "easypost.shipment", "easypost.counters"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EasyPostSandboxState:
    """Shipments and counters behind one lock; every method returns EasyPost JSON.

    Each change is written to `store` (when it keeps a file) before it is made in memory, under the
    same lock; a new state on the same store starts where the last one stopped.
    """

    def __init__(self, store: SandboxStore | None = None, trackers: TrackerBook | None = None,
                 refunds: RefundDesk | None = None) -> None:
        self._lock = threading.Lock()
        self._trackers = trackers
        self._refunds = refunds or RefundDesk()
        self._store = store or SandboxStore(None)
        self._shipments: dict[str, dict[str, Any]] = dict(self._store.load(_SHIPMENTS))
        saved = self._store.get(_COUNTERS, "easypost") or {}
        # Tracking codes start at a random offset so codes from an earlier sandbox run are not reused.
        self._next_tracking: int = saved.get("next_tracking", 1_000_000_000 + secrets.randbelow(900_000) * 1000)
        self._stats: dict[str, int] = {"shipments_created": 0, "labels_bought": 0, "refunds": 0,
                                       **saved.get("stats", {})}

    def create(self, shipment: dict[str, Any]) -> dict[str, Any]:
        to_address, from_address = validated_shipment(shipment)
        is_return = shipment.get("is_return") is True
        if is_return:  # EasyPost swaps the outbound addresses to make the return label
            to_address, from_address = from_address, to_address
        shipment_id, now = new_id("shp"), _now()
        record: dict[str, Any] = {
            "id": shipment_id, "object": "Shipment", "mode": "test", "status": "unknown",
            "reference": shipment.get("reference"), "is_return": is_return,
            "to_address": to_address, "from_address": from_address,
            "parcel": {"id": new_id("prcl"), "object": "Parcel", **shipment["parcel"]},
            "options": shipment.get("options") or {}, "rates": [], "selected_rate": None,
            "postage_label": None, "tracking_code": None, "tracker": None, "refund_status": None,
            "messages": [], "created_at": now, "updated_at": now,
        }
        record["rates"] = _rates_for(record)
        with self._lock:
            return self._commit(record, counted="shipments_created")

    def get(self, shipment_id: str) -> dict[str, Any]:
        with self._lock:
            return _public(self._find(shipment_id))

    def rerate(self, shipment_id: str) -> dict[str, Any]:
        with self._lock:
            record = self._find(shipment_id)
            if record["selected_rate"] is None:
                record = self._commit({**record, "rates": _rates_for(record)})
            return {"rates": list(record["rates"])}

    def buy(self, shipment_id: str, rate_id: object) -> dict[str, Any]:
        with self._lock:
            record = self._find(shipment_id)
            if record["postage_label"] is not None:
                raise EasyPostApiError(422, "SHIPMENT.POSTAGE.EXISTS",
                                       "Postage already exists for this shipment.")
            rate = next((r for r in record["rates"] if r["id"] == rate_id), None)
            if rate is None:
                raise EasyPostApiError(422, "SHIPMENT.RATE.INVALID", "The rate is not valid for this shipment.",
                                       [field_error("rate.id", "must be one of this shipment's rates")])
            tracking_code = f"EZ{self._next_tracking}"
            bought = {
                **record, "selected_rate": rate, "tracking_code": tracking_code, "status": "pre_transit",
                "updated_at": _now(),
                "postage_label": _postage_label(tracking_code, record.get("options") or {}),
                "tracker": {"id": new_id("trk"), "object": "Tracker", "tracking_code": tracking_code,
                            "carrier": rate["carrier"], "status": "pre_transit"},
            }
            if self._trackers is not None:  # EasyPost makes the label's tracker as it sells the label
                bought["tracker"] = self._trackers.create(tracking_code, rate["carrier"], shipment_id)
            return self._commit(bought, counted="labels_bought", tracking_codes_used=1)

    def refund(self, shipment_id: str) -> dict[str, Any]:
        with self._lock:
            record = self._find(shipment_id)
            if record["postage_label"] is None:
                raise EasyPostApiError(422, "SHIPMENT.REFUND.INVALID",
                                       "Unable to refund a shipment without postage.")
            # Asking again while one is submitted or done is harmless; a rejected one may be asked for again.
            if record["refund_status"] in (None, "rejected"):
                return self._commit({**record, "refund_status": "submitted", "updated_at": _now(),
                                     PENDING_KEY: self._refunds.submit()}, counted="refunds")
            return _public(record)

    def labels(self, reference: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"shipment_id": r["id"], "reference": r["reference"], "tracking_code": r["tracking_code"],
                 "carrier": r["selected_rate"]["carrier"], "service": r["selected_rate"]["service"],
                 "rate": r["selected_rate"]["rate"], "is_return": r["is_return"],
                 "refunded": r["refund_status"] in ("submitted", "refunded"), "refund_status": r["refund_status"]}
                for r in (self._settled(shipment_id) for shipment_id in list(self._shipments))
                if r["postage_label"] is not None and (reference is None or r["reference"] == reference)
            ]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats)

    def _commit(self, record: dict[str, Any], *, counted: str | None = None,
                tracking_codes_used: int = 0) -> dict[str, Any]:
        """Store the shipment (and the counters, when they move), then keep it in memory. Under the lock."""
        stats = self._stats if counted is None else {**self._stats, counted: self._stats[counted] + 1}
        next_tracking = self._next_tracking + tracking_codes_used
        with self._store.transaction():
            self._store.put(_SHIPMENTS, record["id"], record)
            if counted is not None or tracking_codes_used:
                self._store.put(_COUNTERS, "easypost", {"next_tracking": next_tracking, "stats": stats})
        self._shipments[record["id"]] = record
        self._stats, self._next_tracking = stats, next_tracking
        return _public(record)

    def _find(self, shipment_id: str) -> dict[str, Any]:
        """The shipment, its refund moved on if one is due. Under the lock."""
        if shipment_id not in self._shipments:
            raise EasyPostApiError(404, "NOT_FOUND", "The requested resource could not be found.")
        return self._settled(shipment_id)

    def _settled(self, shipment_id: str) -> dict[str, Any]:
        record = self._shipments[shipment_id]
        settled = RefundDesk.settle(record)
        if settled is None:
            return record
        self._commit({**settled, "updated_at": _now()})
        return self._shipments[shipment_id]


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """The shipment as EasyPost sends it: without the sandbox's own bookkeeping."""
    return {key: value for key, value in record.items() if key != PENDING_KEY}


def _rates_for(record: dict[str, Any]) -> list[dict[str, Any]]:
    parcel = record["parcel"]
    return [
        {"id": new_id("rate"), "object": "Rate", "mode": "test", "carrier": q.carrier, "service": q.service,
         "rate": q.rate, "currency": "USD", "retail_rate": None, "list_rate": q.rate,
         "delivery_days": q.delivery_days, "delivery_date": None, "delivery_date_guaranteed": False,
         "shipment_id": record["id"], "carrier_account_id": _CARRIER_ACCOUNTS[q.carrier]}
        for q in quotes(record["from_address"]["zip"], record["to_address"]["zip"],
                        weight_oz=parcel["weight"], length=parcel.get("length"),
                        width=parcel.get("width"), height=parcel.get("height"))
    ]


def create_easypost_sandbox(api_key: str, store: SandboxStore | None = None, *,
                            tracking: TrackingPlan | None = None, webhooks: list[WebhookIn] | None = None,
                            refunds: RefundPlan | None = None) -> FastAPI:
    """A FastAPI app speaking EasyPost's v2 wire format, accepting only `api_key` (Bearer or Basic).
    Its shipments, trackers and counters live in memory, and in `store` when it keeps a file (faults,
    webhooks, the refund plan and scheduled tracker moves do not). `tracking` is the carriers' plan to
    start with, `webhooks` the event webhooks registered from the start (the dev stack's gateway),
    `refunds` how label refunds settle (by default: `refunded` at once after `submitted`)."""
    trackers = TrackerBook(store or SandboxStore(None), tracking)
    for hook in webhooks or []:
        trackers.add_webhook(hook)
    desk = RefundDesk(refunds)
    state = EasyPostSandboxState(store, trackers, desk)
    app = FastAPI(title="EasyPost sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    install_faults(app, lambda status, message: error_envelope(
        "RATE_LIMITED" if status == 429 else "INTERNAL_SERVER_ERROR", message))
    install_error_envelope(app, _framework_error)

    @app.exception_handler(EasyPostApiError)
    async def easypost_error(_: Request, exc: EasyPostApiError) -> JSONResponse:
        return JSONResponse(error_envelope(exc.code, exc.message, exc.errors), status_code=exc.status)

    def authorized(request: Request) -> None:
        key = presented_api_key(request.headers.get("authorization"))
        if key is None:
            raise EasyPostApiError(401, "APIKEY.REQUIRED", "Missing or invalid API key.")
        if not secrets.compare_digest(key.encode(), api_key.encode()):
            raise EasyPostApiError(401, "APIKEY.INVALID", "The API key provided is not valid.")

    api = APIRouter(dependencies=[Depends(authorized)])

    @api.post("/shipments", status_code=201)
    async def create_shipment(request: Request) -> dict[str, Any]:
        body = await _json_object(request)
        shipment = body.get("shipment")
        if not isinstance(shipment, dict):
            raise EasyPostApiError(422, "PARAMETER.REQUIRED", "Missing required parameter.",
                                   [field_error("shipment", "is required")])
        return state.create(shipment)

    @api.get("/shipments/{shipment_id}")
    def get_shipment(shipment_id: str) -> dict[str, Any]:
        return state.get(shipment_id)

    @api.post("/shipments/{shipment_id}/buy")
    async def buy(shipment_id: str, request: Request) -> dict[str, Any]:
        rate = (await _json_object(request)).get("rate")
        rate_id = rate.get("id") if isinstance(rate, dict) else None
        if not rate_id:
            raise EasyPostApiError(422, "PARAMETER.REQUIRED", "Missing required parameter.",
                                   [field_error("rate.id", "is required")])
        return state.buy(shipment_id, rate_id)

    @api.post("/shipments/{shipment_id}/refund")
    def refund(shipment_id: str) -> dict[str, Any]:
        return state.refund(shipment_id)

    @api.post("/shipments/{shipment_id}/rerate")
    def rerate(shipment_id: str) -> dict[str, Any]:
        return state.rerate(shipment_id)

    api.include_router(tracker_api(trackers, EasyPostApiError, _json_object))
    app.include_router(api)
    app.include_router(tracker_controls(trackers))
    app.include_router(refund_controls(desk))

    @app.get("/_sandbox/labels", include_in_schema=False)
    def labels(reference: str | None = None) -> list[dict[str, Any]]:
        return state.labels(reference)

    @app.get("/_sandbox/stats", include_in_schema=False)
    def stats() -> dict[str, int]:
        return state.stats()

    return app


# Codes for the refusals FastAPI makes before a route runs; EasyPost's own messages for them.
_FRAMEWORK_ERRORS = {
    404: ("NOT_FOUND", "The requested resource could not be found."),
    405: ("METHOD_NOT_ALLOWED", "The requested method is not allowed for this resource."),
    422: ("PARAMETER.INVALID", "One or more parameters were invalid."),
}


def _framework_error(status: int, message: str, problems: list[FieldProblem]) -> dict[str, Any]:
    code, text = _FRAMEWORK_ERRORS.get(status, ("BAD_REQUEST" if status < 500 else "INTERNAL_SERVER_ERROR", message))
    return error_envelope(code, text, [field_error(field, problem) for field, problem in problems])


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise EasyPostApiError(400, "PARAMETER.INVALID_JSON", "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise EasyPostApiError(400, "PARAMETER.INVALID_JSON", "The request body must be a JSON object.")
    return body


# EasyPost's options.label_format (PNG by default) and the label_file_type it answers with.
_LABEL_FILE_TYPES = {"PNG": "image/png", "PDF": "application/pdf", "ZPL": "application/zpl", "EPL2": "application/epl2"}


def _postage_label(tracking_code: str, options: dict[str, Any]) -> dict[str, Any]:
    requested = str(options.get("label_format") or "PNG").upper()
    fmt = requested if requested in _LABEL_FILE_TYPES else "PNG"
    return {"id": new_id("pl"), "object": "PostageLabel", "label_file_type": _LABEL_FILE_TYPES[fmt],
            "label_size": "4x6", "label_url": f"https://sandbox.invalid/labels/{tracking_code}.{fmt.lower()}"}
