"""A sandbox ShipBob (dated API) serving inventory levels with cursor pagination and rate limits, and
orders with cancel and signed webhooks (integrations/threepl/sandbox_orders.py).

Provider paths: `GET /{version}/inventory-level?PageSize=&Cursor=` → `{first, prev, next, last, items}`
with absolute cursor URLs (the cursor itself is opaque), `Authorization: Bearer TOKEN` (401 otherwise),
and a sliding-window limit per token (150/min by default): a 429 with `x-retry-after`,
`x-remaining-calls` and `{"statusCode": 429, "message": ...}`. Errors: 400 `{field: [msgs]}`, 404
ProblemDetails. Not ShipBob, for tests and the demo: `PUT /_sandbox/inventory` (a list of items
replaces the stock), `GET /_sandbox/stats`, `PUT /_sandbox/rate-limit`, `POST /_sandbox/reset`,
`/_sandbox/faults` (see integrations.sandbox_kit). Inventory, orders, webhook subscriptions and counters
outlive a restart when the sandbox is given a file store (integrations.sandbox_store); the rate limit,
faults, knobs and pending ship/deliver timers start afresh.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from integrations.sandbox_kit import install_faults, presented_api_key
from integrations.sandbox_store import SandboxStore
from integrations.threepl.ratelimit import SlidingWindowLimiter
from integrations.threepl.sandbox_orders import FloorKnobs, ShipBobOrderBook, install_order_routes
from integrations.threepl.sandbox_webhooks import WebhookSender
from integrations.threepl.shipbob import MAX_PAGE_SIZE

VERSIONS = ("2025-07", "2026-01", "2026-07")
DEFAULT_RATE_LIMIT = 150
DEFAULT_WINDOW_SECONDS = 60.0
DEFAULT_PAGE_SIZE = 50
# The account's webhook signing secret when none is given (a Standard Webhooks secret: whsec_ + base64).
DEV_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"omniroute-dev-shipbob-webhooks..").decode()
_ITEMS, _COUNTERS = "shipbob.item", "shipbob.counters"


class SandboxInventoryItem(BaseModel):
    """One inventory level as a test seeds it; other ShipBob fields may ride along."""

    model_config = ConfigDict(extra="allow")

    inventory_id: int
    name: str | None = None
    sku: str | None = None
    total_on_hand_quantity: int = Field(default=0, ge=0)
    total_fulfillable_quantity: int = Field(default=0, ge=0)
    total_committed_quantity: int = Field(default=0, ge=0)
    total_sellable_quantity: int = Field(default=0, ge=0)
    total_awaiting_quantity: int = Field(default=0, ge=0)


class RateLimitSettings(BaseModel):
    limit: int = Field(default=DEFAULT_RATE_LIMIT, ge=1)
    window_seconds: float = Field(default=DEFAULT_WINDOW_SECONDS, gt=0)


class ShipBobApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status, self.body, self.headers = status, body, headers or {}


def field_error(status: int, field: str, message: str) -> ShipBobApiError:
    return ShipBobApiError(status, {field: [message]})


def problem(status: int, title: str, detail: str, instance: str) -> ShipBobApiError:
    return ShipBobApiError(status, {"type": f"https://httpstatuses.io/{status}", "title": title,
                                    "status": status, "detail": detail, "instance": instance})


class ShipBobSandboxState:
    """Inventory and counters behind one lock, written to `store` before they change in memory."""

    def __init__(self, store: SandboxStore | None = None) -> None:
        self._lock = threading.Lock()
        self._store = store or SandboxStore(None)
        self._items: list[dict[str, Any]] = [item for _, item in self._store.load(_ITEMS)]
        self._stats: dict[str, int] = {"requests_served": 0, "throttled": 0, "unauthorized": 0,
                                       **(self._store.get(_COUNTERS, "shipbob") or {})}

    def replace_inventory(self, items: list[SandboxInventoryItem]) -> int:
        fresh = [item.model_dump() for item in items]
        with self._lock:
            with self._store.transaction():
                self._store.clear(_ITEMS)
                for position, item in enumerate(fresh):
                    self._store.put(_ITEMS, str(position), item)
            self._items = fresh
            return len(fresh)

    def page(self, offset: int, size: int) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            return [dict(item) for item in self._items[offset:offset + size]], len(self._items)

    def count(self, name: str) -> None:
        with self._lock:
            stats = {**self._stats, name: self._stats[name] + 1}
            self._store.put(_COUNTERS, "shipbob", stats)
            self._stats = stats

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats) | {"items": len(self._items)}

    def reset(self) -> None:
        with self._lock:
            stats = dict.fromkeys(self._stats, 0)
            with self._store.transaction():
                self._store.clear(_ITEMS)
                self._store.put(_COUNTERS, "shipbob", stats)
            self._items, self._stats = [], stats


def encode_cursor(offset: int, size: int) -> str:
    raw = json.dumps({"o": offset, "s": size}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """(offset, page size) from a cursor this sandbox issued; ShipBobApiError 400 naming Cursor otherwise."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, size = int(data["o"]), int(data["s"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise field_error(400, "Cursor", "The cursor is not valid.") from exc
    if offset < 0 or not 1 <= size <= MAX_PAGE_SIZE:
        raise field_error(400, "Cursor", "The cursor is not valid.")
    return offset, size


def create_shipbob_sandbox(token: str, *, rate_limit: int = DEFAULT_RATE_LIMIT,
                           window_seconds: float = DEFAULT_WINDOW_SECONDS,
                           store: SandboxStore | None = None, webhook_secret: str = DEV_WEBHOOK_SECRET,
                           webhook_url: str | None = None, ship_after_seconds: float | None = None) -> FastAPI:
    """A FastAPI app speaking ShipBob's dated inventory, order and webhook API, accepting only `token`
    (Bearer). Webhooks are signed with `webhook_secret` and go to the subscriptions made through the API
    and, when given, to `webhook_url` (every topic: the subscription a dashboard would have made).
    With `ship_after_seconds` its fulfillment center ships every order that long after it is created
    (the dev stack's; tests drive it by hand). Its state lives in memory, and in `store` when it keeps a file."""
    state = ShipBobSandboxState(store)
    book = ShipBobOrderBook(store or SandboxStore(None),
                            WebhookSender(webhook_secret, store or SandboxStore(None), default_url=webhook_url),
                            FloorKnobs(ship_after_seconds=ship_after_seconds))
    limiter = SlidingWindowLimiter(rate_limit, window_seconds)
    app = FastAPI(title="ShipBob sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    install_faults(app, lambda status, message: {"statusCode": status, "message": message})

    @app.exception_handler(ShipBobApiError)
    async def shipbob_error(_: Request, exc: ShipBobApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    def admit(request: Request) -> int:
        """Authenticate, then count the call against the token's window; the calls left in it."""
        presented = presented_api_key(request.headers.get("authorization"))
        if presented is None or not secrets.compare_digest(presented.encode(), token.encode()):
            state.count("unauthorized")
            raise ShipBobApiError(401, {})
        admission = limiter.admit(presented)
        if not admission.allowed:
            state.count("throttled")
            raise ShipBobApiError(
                429,
                {"statusCode": 429,
                 "message": f"Rate limit is exceeded. Try again in {admission.retry_after} seconds."},
                {"x-retry-after": str(admission.retry_after), "x-remaining-calls": "0"},
            )
        state.count("requests_served")
        return admission.remaining

    def check_version(version: str, request: Request) -> None:
        if version not in VERSIONS:
            raise problem(404, "Not Found", f"API version {version!r} does not exist.", request.url.path)

    install_order_routes(app, book, admit, check_version)

    @app.get("/{version}/inventory-level")
    def inventory_levels(version: str, request: Request) -> Response:
        remaining = admit(request)
        check_version(version, request)
        offset, size = _page_request(request)
        items, total = state.page(offset, size)

        def link(at: int | None) -> str | None:
            if at is None:
                return None
            return str(request.url.remove_query_params(["Cursor", "PageSize"])
                       .include_query_params(Cursor=encode_cursor(at, size)))

        last_offset = max(0, (total - 1) // size * size)
        body = {
            "first": link(0),
            "prev": link(max(0, offset - size)) if offset > 0 else None,
            "next": link(offset + size) if offset + size < total else None,
            "last": link(last_offset),
            "items": items,
        }
        return JSONResponse(body, headers={"x-remaining-calls": str(remaining)})

    @app.put("/_sandbox/inventory", include_in_schema=False)
    def put_inventory(items: list[SandboxInventoryItem]) -> dict[str, int]:
        return {"items": state.replace_inventory(items)}

    @app.get("/_sandbox/stats", include_in_schema=False)
    def stats() -> dict[str, int]:
        return state.stats()

    @app.put("/_sandbox/rate-limit", include_in_schema=False)
    def set_rate_limit(settings: RateLimitSettings) -> dict[str, float]:
        limiter.configure(settings.limit, settings.window_seconds)
        return {"limit": settings.limit, "window_seconds": settings.window_seconds}

    @app.post("/_sandbox/reset", include_in_schema=False)
    def reset() -> dict[str, str]:
        """Empty inventory, orders and subscriptions, zero counters, default knobs and rate limit."""
        state.reset()
        book.reset()
        limiter.configure(rate_limit, window_seconds)
        return {"status": "reset"}

    return app


def _page_request(request: Request) -> tuple[int, int]:
    cursor = request.query_params.get("Cursor")
    if cursor:
        return decode_cursor(cursor)
    raw_size = request.query_params.get("PageSize")
    if raw_size is None:
        return 0, DEFAULT_PAGE_SIZE
    try:
        size = int(raw_size)
    except ValueError as exc:
        raise field_error(400, "PageSize", "The value is not a valid integer.") from exc
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise field_error(400, "PageSize", f"PageSize must be between 1 and {MAX_PAGE_SIZE}.")
    return 0, size
