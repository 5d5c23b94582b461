"""A sandbox Shopify: orders, fulfillments, cancels and inventory levels, over Admin GraphQL (and the
REST `inventory_levels/set` the inventory sync used before), with signed order webhooks out.

Paths (mount the app anywhere, e.g. `/shopify`):
- `POST /admin/api/{version}/graphql.json`: `order`, `fulfillmentCreate`, `orderCancel`,
  `inventorySetQuantities` under Shopify's calculated-cost limit (integrations/channels/sandbox_graphql.py);
- `POST /admin/api/{version}/inventory_levels/set.json`: REST, behind the leaky bucket. Every REST
  response carries `X-Shopify-Shop-Api-Call-Limit: used/size`; a full bucket answers 429 with a
  fractional `Retry-After` (when one call will have drained).

Not Shopify, for tests and the demo: `GET /_sandbox/levels[?location_id=]`, `GET /_sandbox/stats`,
`GET /_sandbox/throttle` (the GraphQL bucket), `/_sandbox/faults`; `POST /_sandbox/webhooks {url, secret}`
subscribes a URL to the order webhooks (`GET` lists, `DELETE` removes all); `POST /_sandbox/orders`
creates an order as a checkout would and sends the signed `orders/create`; `GET /_sandbox/orders/{id}`
shows it with its fulfillments (tracking) and fulfillment orders; `POST /_sandbox/orders/{id}/cancel`
cancels it as a merchant would and sends `orders/cancelled`. Levels, orders, subscriptions and counters
outlive a restart when the sandbox is given a file store (integrations.sandbox_store); the buckets, the
faults and webhooks still queued start empty.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from integrations.channels.sandbox_graphql import CostBucket, GraphQLEndpoint
from integrations.channels.sandbox_orders import OrderRefused, ShopifyOrders
from integrations.sandbox_kit import WebhookDeliveries, install_faults
from integrations.sandbox_store import SandboxStore

CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
THROTTLED = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
_LEVEL_FIELDS = ("location_id", "inventory_item_id", "available")
_LEVELS, _COUNTERS = "shopify.level", "shopify.counters"


class LeakyBucket:
    """Shopify's REST limit: each call adds one unit, `leak_rate` units drain per second, `size` fit.

    `take()` answers (accepted, units in the bucket, seconds until one more call fits).
    """

    def __init__(self, size: int, leak_rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if size < 1 or leak_rate <= 0:
            raise ValueError("a bucket needs size >= 1 and leak_rate > 0")
        self.size, self.leak_rate = size, leak_rate
        self._clock = clock
        self._lock = threading.Lock()
        self._level = 0.0
        self._at = clock()

    def take(self) -> tuple[bool, int, float]:
        with self._lock:
            now = self._clock()
            self._level = max(0.0, self._level - (now - self._at) * self.leak_rate)
            self._at = now
            if self._level + 1 > self.size:
                wait = (self._level + 1 - self.size) / self.leak_rate
                return False, math.ceil(self._level), wait
            self._level += 1
            return True, math.ceil(self._level), 0.0

    def used(self) -> int:
        """Units in the bucket now, without taking one."""
        with self._lock:
            return math.ceil(max(0.0, self._level - (self._clock() - self._at) * self.leak_rate))


class ShopifySandboxState:
    """Inventory levels and counters behind one lock, written to `store` before they change in memory."""

    def __init__(self, store: SandboxStore | None = None) -> None:
        self._lock = threading.Lock()
        self._store = store or SandboxStore(None)
        self._levels: dict[tuple[int, int], dict[str, Any]] = {
            (level["location_id"], level["inventory_item_id"]): level for _, level in self._store.load(_LEVELS)}
        self._stats: dict[str, int] = {"calls": 0, "throttled": 0, "levels_set": 0, "rejected": 0,
                                       "graphql_calls": 0, "fulfillments_created": 0, "orders_cancelled": 0,
                                       "idempotent_replays": 0, **(self._store.get(_COUNTERS, "shopify") or {})}

    def count(self, stat: str) -> None:
        with self._lock:
            stats = {**self._stats, stat: self._stats[stat] + 1}
            self._store.put(_COUNTERS, "shopify", stats)
            self._stats = stats

    def set_level(self, location_id: int, inventory_item_id: int, available: int) -> dict[str, Any]:
        level = {
            "inventory_item_id": inventory_item_id, "location_id": location_id, "available": available,
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={inventory_item_id}",
        }
        with self._lock:
            stats = {**self._stats, "levels_set": self._stats["levels_set"] + 1}
            with self._store.transaction():
                self._store.put(_LEVELS, f"{location_id}:{inventory_item_id}", level)
                self._store.put(_COUNTERS, "shopify", stats)
            self._levels[(location_id, inventory_item_id)] = level
            self._stats = stats
            return dict(level)

    def levels(self, location_id: int | None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(level) for key, level in sorted(self._levels.items())
                    if location_id is None or key[0] == location_id]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats)


def _errors(status: int, message: str) -> dict[str, object]:
    return {"errors": message}


def _validated_level(body: object) -> tuple[int, int, int] | dict[str, list[str]]:
    """The three integers of a set request, or Shopify-style field errors."""
    if not isinstance(body, dict):
        return {"base": ["body must be a JSON object"]}
    errors: dict[str, list[str]] = {}
    values: list[int] = []
    for field in _LEVEL_FIELDS:
        value = body.get(field)
        if value is None:
            errors[field] = ["is required"]
        elif isinstance(value, bool) or not isinstance(value, int):
            errors[field] = ["must be an integer"]
        elif field != "available" and value <= 0:
            errors[field] = ["must be a positive id"]
        else:
            values.append(value)
    if errors:
        return errors
    return values[0], values[1], values[2]


class WebhookSubscription(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    secret: str = Field(min_length=1, max_length=500)


class CancelRequest(BaseModel):
    reason: str = Field(default="customer", pattern="^(customer|declined|fraud|inventory|other|staff)$")


def create_shopify_sandbox(token: str, *, bucket_size: int = 40, leak_rate: float = 2.0,
                           store: SandboxStore | None = None, graphql_maximum: float = 2000.0,
                           graphql_restore_rate: float = 100.0, webhook_attempts: int = 5,
                           webhook_backoff_s: float = 0.5, webhooks: Sequence[tuple[str, str]] = ()) -> FastAPI:
    """A Shopify Admin sandbox accepting `X-Shopify-Access-Token: token`: REST limited by a leaky bucket
    (`bucket_size` calls, `leak_rate` per second), GraphQL by a cost bucket (`graphql_maximum` points,
    `graphql_restore_rate` per second, Shopify's Standard plan by default). Order webhooks go to each
    (url, secret) of `webhooks` (and of the `/_sandbox/webhooks` knob), tried `webhook_attempts` times.
    Its state lives in memory, and in `store` when it keeps a file."""
    app = FastAPI(title="Shopify sandbox", docs_url=None, redoc_url=None)
    store = store or SandboxStore(None)
    state = ShopifySandboxState(store)
    bucket = LeakyBucket(bucket_size, leak_rate)
    orders = ShopifyOrders(store, WebhookDeliveries("shopify", attempts=webhook_attempts, backoff_s=webhook_backoff_s))
    costs = CostBucket(graphql_maximum, graphql_restore_rate)
    graphql = GraphQLEndpoint(orders, costs, state.set_level, state.count)
    for url, secret in webhooks:
        orders.subscribe(url, secret)
    install_faults(app, _errors)

    @app.post("/admin/api/{version}/graphql.json")
    async def graphql_request(
        version: str, request: Request,
        access_token: str | None = Header(default=None, alias="X-Shopify-Access-Token"),
    ) -> JSONResponse:
        if access_token != token:
            return JSONResponse(_errors(401, INVALID_TOKEN), status_code=401)
        state.count("graphql_calls")
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, status_code=400)
        return JSONResponse(graphql.serve(body), headers={"X-Shopify-API-Version": version})

    @app.get("/_sandbox/throttle", include_in_schema=False)
    def throttle() -> dict[str, float]:
        return costs.status()

    @app.post("/_sandbox/webhooks", include_in_schema=False)
    def subscribe(subscription: WebhookSubscription) -> dict[str, str]:
        return orders.subscribe(subscription.url, subscription.secret)

    @app.get("/_sandbox/webhooks", include_in_schema=False)
    def webhook_subscriptions() -> dict[str, Any]:
        return orders.webhook_stats()

    @app.delete("/_sandbox/webhooks", include_in_schema=False)
    def unsubscribe() -> dict[str, Any]:
        orders.unsubscribe_all()
        return orders.webhook_stats()

    @app.post("/_sandbox/orders", include_in_schema=False, status_code=201)
    async def create_order(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise HTTPException(422, [{"loc": ["body"], "msg": "must be a JSON object with line_items"}])
        try:
            return orders.create(body)
        except OrderRefused as refused:
            raise HTTPException(422, [{"loc": ["body", *refused.field], "msg": refused.message}]) from None

    @app.get("/_sandbox/orders", include_in_schema=False)
    def order_ids() -> list[int]:
        return orders.ids()

    @app.get("/_sandbox/orders/{order_id}", include_in_schema=False)
    def order(order_id: int) -> dict[str, Any]:
        found = orders.get(order_id)
        if found is None:
            raise HTTPException(404, f"no order {order_id}")
        return found

    @app.post("/_sandbox/orders/{order_id}/cancel", include_in_schema=False)
    def cancel_order(order_id: int, request: CancelRequest | None = None) -> dict[str, Any]:
        try:
            return orders.cancel(order_id, (request or CancelRequest()).reason)
        except OrderRefused as refused:
            raise HTTPException(404 if refused.code == "NOT_FOUND" else 409, refused.message) from None

    @app.post("/admin/api/{version}/inventory_levels/set.json")
    async def set_inventory_level(
        version: str, request: Request,
        access_token: str | None = Header(default=None, alias="X-Shopify-Access-Token"),
    ) -> JSONResponse:
        state.count("calls")
        if access_token != token:  # a caller without the shop's token does not drain its bucket
            return JSONResponse(_errors(401, INVALID_TOKEN), status_code=401,
                                headers={CALL_LIMIT_HEADER: f"{bucket.used()}/{bucket.size}"})
        accepted, used, wait = bucket.take()
        headers = {CALL_LIMIT_HEADER: f"{used}/{bucket.size}", "X-Shopify-API-Version": version}
        if not accepted:
            state.count("throttled")
            headers["Retry-After"] = f"{max(wait, 0.001):.3f}"
            return JSONResponse(_errors(429, THROTTLED), status_code=429, headers=headers)
        try:
            body = await request.json()
        except ValueError:
            body = None
        checked = _validated_level(body)
        if isinstance(checked, dict):
            state.count("rejected")
            return JSONResponse({"errors": checked}, status_code=422, headers=headers)
        level = state.set_level(*checked)
        return JSONResponse({"inventory_level": level}, headers=headers)

    @app.get("/_sandbox/levels", include_in_schema=False)
    def levels(location_id: int | None = None) -> list[dict[str, Any]]:
        return state.levels(location_id)

    @app.get("/_sandbox/stats", include_in_schema=False)
    def stats() -> dict[str, int]:
        return state.stats()

    return app
