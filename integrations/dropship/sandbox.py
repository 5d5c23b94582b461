"""A sandbox dropship vendor: takes signed purchase orders and answers them as its knobs say.

Provider paths (per vendor, `/{vendor}` being the vendor's base URL under the mount):
`POST /{vendor}/purchase-orders` and `POST /{vendor}/purchase-orders/{po_number}/cancel`, both
verified with the `standardwebhooks` library against the vendor's secret (401 otherwise) — the wire
format of `integrations.dropship.wire`.

Each new PO takes the next answer of the vendor's `answers` script, cycled: `ship` (accept, then
ship after `ship_delay_s`), `accept` (accept and never ship), `reject` (with `reject_reason`),
`silent` (say nothing). Answers go to Omniroute's gateway as node events, `POST
{events_url}/v1/shipments/{po_number}/events` with `Authorization: Bearer {node_key}`, after
`accept_delay_s`. A PO cancel is answered 409 once the PO shipped; before, 200 (cancel_answer `now`)
or 202 and a `cancelled` event later (`later`).

Not the vendor, for tests and the demo: `PUT /_sandbox/vendors/{vendor}` (onboard or re-configure a
vendor), `GET /_sandbox/vendors/{vendor}/purchase-orders`, `GET /_sandbox/vendors/{vendor}/stats`.
Given a file store (integrations.sandbox_store), vendors, their POs and counters outlive a restart, and
the answers and ship notices still due are scheduled again from the start of their delay; without one,
state lives in memory only.
"""

from __future__ import annotations

import hashlib
import threading
import time
from enum import StrEnum
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from integrations.dropship.wire import (
    ALREADY_SHIPPED,
    INVALID_SIGNATURE,
    PO_CONFLICT,
    PO_NOT_FOUND,
    Envelope,
    PoCancel,
    PurchaseOrder,
)
from integrations.sandbox_store import SandboxStore

EVENT_ATTEMPTS = 8
_VENDORS, _POS = "dropship.vendor", "dropship.po"


class Answer(StrEnum):
    SHIP = "ship"
    ACCEPT = "accept"
    REJECT = "reject"
    SILENT = "silent"


class VendorSetup(BaseModel):
    """How a sandbox vendor is reached and how it behaves."""

    secret: str = Field(min_length=1, description="the whsec_ secret its POs are signed with")
    events_url: str = Field(description="Omniroute's gateway, where the vendor posts its node events")
    node_key: str = Field(min_length=1, description="the vendor's node key at the gateway")
    answers: list[Answer] = Field(default_factory=lambda: [Answer.SHIP], min_length=1)
    accept_delay_s: float = Field(default=0.0, ge=0, le=3600)
    ship_delay_s: float = Field(default=0.0, ge=0, le=3600)
    reject_reason: str = "out of stock at the vendor"
    carrier: str = "UPS"
    cancel_answer: Literal["now", "later"] = "now"


class VendorError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(status, code, message)
        self.status, self.code, self.message, self.field = status, code, message, field


class PoRecord(BaseModel):
    po: PurchaseOrder
    answer: Answer
    status: str = "received"
    vendor_reference: str
    events: list[dict[str, Any]] = Field(default_factory=list, description="node events posted: type, status")


class Vendor:
    """One vendor's setup, POs and counters; its timers post the answers."""

    def __init__(self, vendor_id: str, setup: VendorSetup) -> None:
        self.vendor_id = vendor_id
        self.setup = setup
        self.pos: dict[str, PoRecord] = {}
        self.stats = {"received": 0, "duplicates": 0, "refused_signature": 0, "cancelled": 0,
                      "cancel_refused": 0}


class DropshipSandboxState:
    """Every vendor in memory, each change written through to `store` (callers hold `lock`)."""

    def __init__(self, store: SandboxStore) -> None:
        self.lock = threading.Lock()
        self.store = store
        self.vendors: dict[str, Vendor] = {}
        for vendor_id, saved in store.load(_VENDORS):
            vendor = Vendor(vendor_id, VendorSetup.model_validate(saved["setup"]))
            vendor.stats.update(saved["stats"])
            self.vendors[vendor_id] = vendor
        for _, saved in store.load(_POS):
            owner = self.vendors.get(saved["vendor_id"])
            if owner is not None:
                record = PoRecord.model_validate(saved["record"])
                owner.pos[record.po.po_number] = record

    def save_vendor(self, vendor: Vendor) -> None:
        self.store.put(_VENDORS, vendor.vendor_id, {"setup": vendor.setup.model_dump(mode="json"),
                                                    "stats": vendor.stats})

    def save_po(self, vendor: Vendor, record: PoRecord) -> None:
        self.store.put(_POS, f"{vendor.vendor_id}/{record.po.po_number}",
                       {"vendor_id": vendor.vendor_id, "record": record.model_dump(mode="json")})

    def vendor(self, vendor_id: str) -> Vendor:
        found = self.vendors.get(vendor_id)
        if found is None:
            raise VendorError(404, "vendor_not_found", f"no vendor {vendor_id!r} here")
        return found


def create_dropship_sandbox(store: SandboxStore | None = None) -> FastAPI:
    """The vendor sandbox app; its state is kept in `store` too when given (else in memory only)."""
    state = DropshipSandboxState(store or SandboxStore(None))
    app = FastAPI(title="Dropship vendor sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    http = httpx.Client(timeout=10)

    @app.exception_handler(VendorError)
    async def vendor_error(_: Request, exc: VendorError) -> JSONResponse:
        body = {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}
        return JSONResponse(body, status_code=exc.status)

    async def verified(request: Request, vendor: Vendor) -> Envelope:
        raw = await request.body()
        try:
            Webhook(vendor.setup.secret).verify(raw, dict(request.headers), json_parse=False)
        except WebhookVerificationError as exc:
            with state.lock:
                vendor.stats["refused_signature"] += 1
                state.save_vendor(vendor)
            raise VendorError(401, INVALID_SIGNATURE, f"signature refused: {exc}") from exc
        try:
            return Envelope.model_validate_json(raw)
        except ValidationError as exc:
            raise _unprocessable(exc) from exc

    @app.post("/{vendor_id}/purchase-orders")
    async def receive_po(vendor_id: str, request: Request) -> JSONResponse:
        vendor = state.vendor(vendor_id)
        envelope = await verified(request, vendor)
        try:
            po = PurchaseOrder.model_validate(envelope.data)
        except ValidationError as exc:
            raise _unprocessable(exc, prefix="data") from exc
        with state.lock:
            known = vendor.pos.get(po.po_number)
            if known is not None:
                if known.po != po:
                    raise VendorError(409, PO_CONFLICT, f"PO {po.po_number} was received with other data")
                vendor.stats["duplicates"] += 1
                state.save_vendor(vendor)
                return JSONResponse(_receipt(known), status_code=200)
            script = vendor.setup.answers
            answer = script[vendor.stats["received"] % len(script)]
            vendor.stats["received"] += 1
            record = PoRecord(po=po, answer=answer,
                              vendor_reference="VPO-" + hashlib.sha1(po.po_number.encode()).hexdigest()[:10].upper())
            vendor.pos[po.po_number] = record
            with state.store.transaction():
                state.save_vendor(vendor)
                state.save_po(vendor, record)
        _later(vendor.setup.accept_delay_s, lambda: _answer(vendor, record))
        return JSONResponse(_receipt(record), status_code=201)

    @app.post("/{vendor_id}/purchase-orders/{po_number}/cancel")
    async def cancel_po(vendor_id: str, po_number: str, request: Request) -> JSONResponse:
        vendor = state.vendor(vendor_id)
        envelope = await verified(request, vendor)
        try:
            cancel = PoCancel.model_validate(envelope.data)
        except ValidationError as exc:
            raise _unprocessable(exc, prefix="data") from exc
        if cancel.po_number != po_number:
            raise VendorError(422, "invalid", "the body names another PO", field="data.po_number")
        with state.lock:
            record = vendor.pos.get(po_number)
            if record is None:
                raise VendorError(404, PO_NOT_FOUND, f"no PO {po_number}")
            if record.status == "shipped":
                vendor.stats["cancel_refused"] += 1
                state.save_vendor(vendor)
                raise VendorError(409, ALREADY_SHIPPED, f"PO {po_number} has shipped")
            if record.status != "cancelled":
                record.status = "cancelled"
                vendor.stats["cancelled"] += 1
                with state.store.transaction():
                    state.save_vendor(vendor)
                    state.save_po(vendor, record)
            later = vendor.setup.cancel_answer == "later"
        if later:
            _later(vendor.setup.accept_delay_s, lambda: _post_event(vendor, record, {"type": "cancelled"}))
            return JSONResponse({"po_number": po_number, "status": "cancel_pending"}, status_code=202)
        return JSONResponse({"po_number": po_number, "status": "cancelled"}, status_code=200)

    def _answer(vendor: Vendor, record: PoRecord) -> None:
        with state.lock:
            if record.status != "received":  # cancelled meanwhile
                return
            answer = record.answer
            if answer is Answer.REJECT:
                record.status = "rejected"
            elif answer is not Answer.SILENT:
                record.status = "accepted"
            state.save_po(vendor, record)
        if answer is Answer.SILENT:
            return
        if answer is Answer.REJECT:
            _post_event(vendor, record, {"type": "rejected", "reason": vendor.setup.reject_reason})
            return
        _post_event(vendor, record, {"type": "accepted"})
        if answer is Answer.SHIP:
            _later(vendor.setup.ship_delay_s, lambda: _ship(vendor, record))

    def _ship(vendor: Vendor, record: PoRecord) -> None:
        with state.lock:
            if record.status != "accepted":
                return
            record.status = "shipped"
            state.save_po(vendor, record)
        tracking = "VND" + hashlib.sha1(record.po.po_number.encode()).hexdigest()[:12].upper()
        _post_event(vendor, record, {"type": "shipped", "carrier": vendor.setup.carrier,
                                     "tracking_number": tracking})

    def _post_event(vendor: Vendor, record: PoRecord, event: dict[str, Any]) -> None:
        """Post one node event to the gateway, retrying while it is unreachable or 5xx/429."""
        po_number = record.po.po_number
        body = {**event, "event_id": f"{po_number}:{event['type']}"}
        url = f"{vendor.setup.events_url.rstrip('/')}/v1/shipments/{po_number}/events"
        headers = {"Authorization": f"Bearer {vendor.setup.node_key}"}
        status: int | str = "unsent"
        for attempt in range(EVENT_ATTEMPTS):
            try:
                status = http.post(url, json=body, headers=headers).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            if isinstance(status, int) and status < 500 and status != 429:
                break
            time.sleep(min(0.25 * 2 ** attempt, 5.0))
        with state.lock:
            record.events.append({"type": event["type"], "status": status})
            state.save_po(vendor, record)

    @app.put("/_sandbox/vendors/{vendor_id}", include_in_schema=False)
    def configure(vendor_id: str, setup: VendorSetup) -> dict[str, Any]:
        with state.lock:
            vendor = state.vendors.get(vendor_id)
            if vendor is None:
                vendor = state.vendors[vendor_id] = Vendor(vendor_id, setup)
            else:
                vendor.setup = setup
            state.save_vendor(vendor)
        return {"vendor": vendor_id, "answers": [a.value for a in setup.answers]}

    @app.get("/_sandbox/vendors/{vendor_id}/purchase-orders", include_in_schema=False)
    def purchase_orders(vendor_id: str) -> list[dict[str, Any]]:
        vendor = state.vendor(vendor_id)
        with state.lock:
            return [record.model_dump(mode="json") for record in vendor.pos.values()]

    @app.get("/_sandbox/vendors/{vendor_id}/stats", include_in_schema=False)
    def stats(vendor_id: str) -> dict[str, int]:
        vendor = state.vendor(vendor_id)
        with state.lock:
            return dict(vendor.stats)

    # What was due when the sandbox stopped is due again: answers not given, and accepted POs to ship.
    for vendor in state.vendors.values():
        for record in vendor.pos.values():
            if record.status == "received" and record.answer is not Answer.SILENT:
                _later(vendor.setup.accept_delay_s, lambda v=vendor, r=record: _answer(v, r))
            elif record.status == "accepted" and record.answer is Answer.SHIP:
                _later(vendor.setup.ship_delay_s, lambda v=vendor, r=record: _ship(v, r))
    return app


def _receipt(record: PoRecord) -> dict[str, Any]:
    return {"po_number": record.po.po_number, "status": "received", "vendor_reference": record.vendor_reference}


def _later(delay_s: float, action: Any) -> None:
    timer = threading.Timer(delay_s, action)
    timer.daemon = True
    timer.start()


def _unprocessable(exc: ValidationError, prefix: str | None = None) -> VendorError:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in ((prefix,) if prefix else ()) + tuple(first["loc"]))
    return VendorError(422, "invalid", f"{field}: {first['msg']}", field=field)
