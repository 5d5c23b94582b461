"""The ShipBob sandbox's orders: create (idempotent by `reference_id`), read, cancel, and the floor that
ships and delivers them, each move sent as a signed webhook (integrations/threepl/sandbox_webhooks.py).

Provider paths: `POST /{version}/order` (201; a `reference_id` seen before: 422
`{"reference_id": ["Duplicate reference ID"]}`; a missing field: 400 naming it; writes need the
`shipbob_channel_id` header of the token's channel), `GET /{version}/order?ReferenceIds=`,
`GET /{version}/order/{id}`, `POST /{version}/order/{id}:cancel` (a shipped order, or any order while
`refuse_cancel` is set, answers 200 with `is_success: false`), `GET /{version}/channel`, and the
webhook subscriptions. Not ShipBob, for tests and the demo: `PUT /_sandbox/orders/knobs` (ship after N
seconds, deliver N seconds after that, refuse cancels, drop, duplicate or hold webhooks),
`POST /_sandbox/orders/{id}/ship` and `/deliver`, `GET /_sandbox/orders`, `GET /_sandbox/cancels` (every
cancel asked and its answer), `GET /_sandbox/webhooks`
(every delivery attempt), `POST /_sandbox/webhooks/release` (send the held ones).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from integrations.sandbox_store import SandboxStore
from integrations.threepl.sandbox_webhooks import DeliveryKnobs, NewSubscription, WebhookSender

_ORDERS = "shipbob.order"
CHANNEL = {"id": 100101, "name": "Omniroute sandbox", "application_name": "Omniroute",
           "scopes": ["orders_read", "orders_write", "inventory_read", "webhooks_write"]}


class FloorKnobs(BaseModel):
    """How the sandbox's fulfillment center behaves; None: only when told (`/_sandbox/orders/{id}/ship`)."""

    ship_after_seconds: float | None = Field(default=None, ge=0)
    deliver_after_seconds: float | None = Field(default=None, ge=0)
    refuse_cancel: bool = False


class Knobs(FloorKnobs, DeliveryKnobs):
    pass


class SandboxError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status, self.body = status, body


class ShipBobOrderBook:
    """Orders behind one lock (and in `store`), the floor's timers, and the webhook sender."""

    def __init__(self, store: SandboxStore, webhooks: WebhookSender, floor: FloorKnobs | None = None) -> None:
        self._lock = threading.Lock()
        self._store = store
        self.webhooks = webhooks
        self._default_floor = floor or FloorKnobs()
        self.floor = self._default_floor
        self._orders: dict[int, dict[str, Any]] = {int(key): order for key, order in store.load(_ORDERS)}
        self._next_id = max(self._orders, default=100_000_000) + 1
        self.cancel_log: list[dict[str, Any]] = []

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        _check_new_order(body)
        with self._lock:
            if any(o["reference_id"] == body["reference_id"] for o in self._orders.values()):
                raise SandboxError(422, {"reference_id": ["Duplicate reference ID"]})
            order_id, now = self._next_id, _now()
            self._next_id += 1
            order = {
                "id": order_id, "reference_id": body["reference_id"], "order_number": body.get("order_number"),
                "status": "Processing", "type": body.get("type", "DTC"), "created_date": now,
                "channel": {"id": CHANNEL["id"], "name": CHANNEL["name"]},
                "shipping_method": body["shipping_method"], "recipient": body["recipient"],
                "products": body["products"],
                "shipments": [{"id": order_id * 10 + 1, "order_id": order_id, "reference_id": body["reference_id"],
                               "status": "Processing", "tracking": None, "delivery_date": None}],
            }
            self._save(order)
            after = self.floor.ship_after_seconds
        if after is not None:
            self.webhooks.later(after, self._quietly, self.ship, order_id)
        return order

    def find(self, reference_ids: set[str]) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(o) for o in self._orders.values() if not reference_ids or o["reference_id"] in reference_ids]

    def get(self, order_id: int) -> dict[str, Any]:
        with self._lock:
            if order_id not in self._orders:
                raise SandboxError(404, {"type": "https://httpstatuses.io/404", "title": "Not Found",
                                         "status": 404, "detail": f"Order {order_id} was not found.",
                                         "instance": f"/order/{order_id}"})
            return dict(self._orders[order_id])

    def cancel(self, order_id: int) -> dict[str, Any]:
        answer = self._cancel(order_id)
        with self._lock:
            self.cancel_log += [{"order_id": order_id, **result} for result in answer["canceled_shipment_results"]]
        return answer

    def _cancel(self, order_id: int) -> dict[str, Any]:
        order = self.get(order_id)
        shipment = order["shipments"][0]
        if shipment["status"] == "Cancelled":
            return {"order": order, "canceled_shipment_results": [
                {"shipment_id": shipment["id"], "action": "Cancel", "is_success": True, "reason": None}]}
        why = None
        if shipment["status"] != "Processing":
            why = "The shipment has already shipped."
        elif self.floor.refuse_cancel:
            why = "The shipment is being packed and can no longer be cancelled."
        if why is not None:
            return {"order": order, "canceled_shipment_results": [
                {"shipment_id": shipment["id"], "action": "Cancel", "is_success": False, "reason": why}]}
        order = self._move(order_id, "Cancelled", "Cancelled")
        self.webhooks.publish("order.shipment.cancelled", _payload(order))
        return {"order": order, "canceled_shipment_results": [
            {"shipment_id": shipment["id"], "action": "Cancel", "is_success": True, "reason": None}]}

    def ship(self, order_id: int) -> dict[str, Any]:
        """The fulfillment center ships it (label bought by ShipBob): `order.shipped` with tracking."""
        order = self.get(order_id)
        if order["shipments"][0]["status"] != "Processing":
            raise SandboxError(409, {"status": [f"order {order_id} is {order['status']}, not Processing"]})
        tracking = {"carrier": "USPS", "carrier_service": "Ground Advantage",
                    "tracking_number": f"9400{order_id:018d}",
                    "tracking_url": f"https://tools.usps.com/go/TrackConfirmAction?tLabels=9400{order_id:018d}",
                    "shipping_date": _now()}
        order = self._move(order_id, "Fulfilled", "Completed", tracking=tracking)
        self.webhooks.publish("order.shipped", _payload(order))
        after = self.floor.deliver_after_seconds
        if after is not None:
            self.webhooks.later(after, self._quietly, self.deliver, order_id)
        return order

    def deliver(self, order_id: int) -> dict[str, Any]:
        """The carrier delivered it: `order.shipment.delivered`, then `order.delivered` (all shipments)."""
        order = self.get(order_id)
        if order["shipments"][0]["status"] != "Completed" or order["shipments"][0].get("delivery_date"):
            raise SandboxError(409, {"status": [f"order {order_id} is not shipped and undelivered"]})
        order = self._move(order_id, "Fulfilled", "Completed", delivered=_now())
        self.webhooks.publish("order.shipment.delivered", _payload(order, "Delivered"))
        self.webhooks.publish("order.delivered", _payload(order, "Delivered"))
        return order

    def reset(self) -> None:
        with self._lock:
            self._store.clear(_ORDERS)
            self._orders, self.floor, self.cancel_log = {}, self._default_floor, []
        self.webhooks.reset()

    def _move(self, order_id: int, status: str, shipment_status: str, *, tracking: dict[str, Any] | None = None,
              delivered: str | None = None) -> dict[str, Any]:
        with self._lock:
            order = dict(self._orders[order_id])
            shipment = dict(order["shipments"][0], status=shipment_status)
            if tracking is not None:
                shipment["tracking"] = tracking
            if delivered is not None:
                shipment["delivery_date"] = delivered
            order.update(status=status, shipments=[shipment])
            self._save(order)
            return dict(order)

    def _save(self, order: dict[str, Any]) -> None:
        self._store.put(_ORDERS, str(order["id"]), order)
        self._orders[order["id"]] = order

    @staticmethod
    def _quietly(move: Callable[[int], object], order_id: int) -> None:
        with contextlib.suppress(SandboxError):  # cancelled or moved by hand meanwhile
            move(order_id)


def _payload(order: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    """The webhook body ShipBob documents: event time, order, shipment, our reference, status, tracking."""
    shipment = order["shipments"][0]
    tracking = shipment.get("tracking") or {}
    body: dict[str, Any] = {"event_time": _now(), "order_id": order["id"], "shipment_id": shipment["id"],
                            "reference_id": order["reference_id"], "status": status or shipment["status"]}
    if tracking:
        body["tracking"] = {"carrier": tracking["carrier"], "carrier_service": tracking["carrier_service"],
                            "tracking_id": tracking["tracking_number"], "tracking_url": tracking["tracking_url"]}
    return body


def _check_new_order(body: dict[str, Any]) -> None:
    """ShipBob's 400: `{field: [message]}` for the first required field missing."""
    def missing(field: str) -> SandboxError:
        return SandboxError(400, {field: [f"The {field.rsplit('.', 1)[-1]} field is required."]})

    for field in ("reference_id", "shipping_method"):
        if not isinstance(body.get(field), str) or not body[field].strip():
            raise missing(field)
    recipient = body.get("recipient")
    if not isinstance(recipient, dict) or not recipient.get("name"):
        raise missing("recipient.name")
    address = recipient.get("address")
    for field in ("address1", "city", "country"):
        if not isinstance(address, dict) or not address.get(field):
            raise missing(f"recipient.address.{field}")
    products = body.get("products")
    if not isinstance(products, list) or not products:
        raise missing("products")
    for n, product in enumerate(products):
        if not isinstance(product, dict) or not (product.get("reference_id") or product.get("id")):
            raise missing(f"products[{n}].reference_id")
        if not isinstance(product.get("quantity"), int) or product["quantity"] < 1:
            raise SandboxError(400, {f"products[{n}].quantity": ["The quantity must be at least 1."]})


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def install_order_routes(app: FastAPI, book: ShipBobOrderBook, admit: Callable[[Request], int],
                         check_version: Callable[[str, Request], None]) -> None:
    """The order, channel and webhook routes on the ShipBob sandbox app; `admit` authenticates and counts
    a call against the rate limit, `check_version` refuses an unknown API version (404)."""

    @app.exception_handler(SandboxError)
    async def sandbox_error(_: Request, exc: SandboxError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status)

    def writing(version: str, request: Request) -> None:
        admit(request)
        check_version(version, request)
        channel = request.headers.get("shipbob_channel_id")
        if channel is None:
            raise SandboxError(400, {"shipbob_channel_id": ["The shipbob_channel_id header is required."]})
        if channel != str(CHANNEL["id"]):
            raise SandboxError(403, {})

    def reading(version: str, request: Request) -> None:
        admit(request)
        check_version(version, request)

    @app.get("/{version}/channel")
    def channels(version: str, request: Request) -> dict[str, Any]:
        reading(version, request)
        return {"items": [CHANNEL], "first": None, "prev": None, "next": None, "last": None}

    @app.post("/{version}/order", status_code=201)
    async def create_order(version: str, request: Request) -> dict[str, Any]:
        writing(version, request)
        try:
            body = await request.json()
        except ValueError as exc:
            raise SandboxError(400, {"body": ["The request body is not JSON."]}) from exc
        if not isinstance(body, dict):
            raise SandboxError(400, {"body": ["The request body must be an object."]})
        return book.create(body)

    @app.get("/{version}/order")
    def list_orders(version: str, request: Request) -> list[dict[str, Any]]:
        reading(version, request)
        wanted = {ref for value in request.query_params.getlist("ReferenceIds") for ref in value.split(",") if ref}
        return book.find(wanted)

    @app.get("/{version}/order/{order_id}")
    def get_order(version: str, order_id: int, request: Request) -> dict[str, Any]:
        reading(version, request)
        return book.get(order_id)

    @app.post("/{version}/order/{order_id}:cancel")
    def cancel_order(version: str, order_id: int, request: Request) -> dict[str, Any]:
        writing(version, request)
        return book.cancel(order_id)

    @app.post("/{version}/webhook", status_code=201)
    def subscribe(version: str, subscription: NewSubscription, request: Request) -> dict[str, Any]:
        reading(version, request)
        return book.webhooks.subscribe(subscription)

    @app.get("/{version}/webhook")
    def subscriptions(version: str, request: Request) -> dict[str, Any]:
        reading(version, request)
        return {"items": book.webhooks.subscriptions(), "first": None, "prev": None, "next": None, "last": None}

    @app.delete("/{version}/webhook/{subscription_id}", status_code=204)
    def unsubscribe(version: str, subscription_id: int, request: Request) -> Response:
        reading(version, request)
        if not book.webhooks.unsubscribe(subscription_id):
            raise SandboxError(404, {"type": "https://httpstatuses.io/404", "title": "Not Found", "status": 404,
                                     "detail": f"Subscription {subscription_id} was not found.",
                                     "instance": request.url.path})
        return Response(status_code=204)

    @app.put("/_sandbox/orders/knobs", include_in_schema=False)
    def set_knobs(knobs: Knobs) -> dict[str, Any]:
        book.floor = FloorKnobs.model_validate(knobs.model_dump(include=set(FloorKnobs.model_fields)))
        book.webhooks.knobs = DeliveryKnobs.model_validate(knobs.model_dump(include=set(DeliveryKnobs.model_fields)))
        return knobs.model_dump()

    @app.get("/_sandbox/orders", include_in_schema=False)
    def all_orders() -> list[dict[str, Any]]:
        return book.find(set())

    @app.post("/_sandbox/orders/{order_id}/ship", include_in_schema=False)
    def ship(order_id: int) -> dict[str, Any]:
        return book.ship(order_id)

    @app.post("/_sandbox/orders/{order_id}/deliver", include_in_schema=False)
    def deliver(order_id: int) -> dict[str, Any]:
        return book.deliver(order_id)

    @app.get("/_sandbox/cancels", include_in_schema=False)
    def cancels() -> list[dict[str, Any]]:
        return list(book.cancel_log)

    @app.post("/_sandbox/webhooks/release", include_in_schema=False)
    def release() -> dict[str, int]:
        return {"released": book.webhooks.release()}

    @app.get("/_sandbox/webhooks", include_in_schema=False)
    def deliveries() -> list[dict[str, Any]]:
        return book.webhooks.log()
